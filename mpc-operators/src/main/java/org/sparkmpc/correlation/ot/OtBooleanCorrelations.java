package org.sparkmpc.correlation.ot;

import java.util.Arrays;
import org.sparkmpc.correlation.BitTriples;
import org.sparkmpc.correlation.DaBits;
import org.sparkmpc.correlation.EdaBits;
import org.sparkmpc.crypto.AesCtrPrg;
import org.sparkmpc.crypto.Hkdf;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.ring.BitSlice;
import org.sparkmpc.ring.LongCodec;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.RoundRange;

/**
 * The comparison material of the dealer-free source for two parties, from random OTs of the IKNP
 * extension both parties already hold ({@link OtCorrelationSource} runs the base OTs).
 *
 * <p><b>Boolean triples.</b> Each party picks its {@code b} at random and uses it as the choice
 * bits of one random OT per gate, with the peer as sender; the sender's pads {@code (h0, h1)}
 * define its {@code a = lsb(h0 ^ h1)}, and {@code lsb(h0)} and the receiver's {@code lsb(h_b)} are
 * XOR shares of {@code a_sender & b_receiver}. Both directions run at once, so
 * {@code c_i = a_i b_i ^ <a_i b_j> ^ <a_j b_i>}. Rounds: 1 per chunk of {@value #WORD_CHUNK} words
 * (the IKNP columns, each way). Bytes per word (64 gates), each way: 1024.
 *
 * <p><b>daBits.</b> Each party picks bits {@code β_i}; the XOR sharing is {@code β_0 ^ β_1} and the
 * additive one {@code β_0 + β_1 - 2 β_0 β_1}, the product from one OT with party 0 as sender of
 * {@code (h0, h1)}, sending {@code τ = h0 - h1 + β_0}: party 0 holds {@code -h0}, party 1
 * {@code h_{β_1} + β_1 τ}. Rounds: 2 per chunk. Bytes per daBit: 16 from party 1, 8 from party 0.
 *
 * <p><b>edaBits.</b> An edaBit is 64 daBits made as above: each party's random word {@code β_i}
 * gives the element's XOR bits directly, and the arithmetic value {@code Σ_j 2^j (β_0j ^ β_1j)} is
 * the sum of the daBits' arithmetic shares, with no boolean adder. Rounds: 2 per chunk of
 * {@value #WORD_CHUNK} elements. Bytes per edaBit: 64 · 16 from party 1, 64 · 8 from party 0.
 *
 * <p>All randomness is expanded from the source's private seed and the coordinates, and IKNP is
 * deterministic given the base OTs, so making the same batch again sends identical messages.
 * Reveals only uniformly masked values (IKNP columns, hash-masked corrections, Beaver-masked gate
 * inputs). Message rounds: within the stream's {@link Coordinates#correlationRounds} block.
 */
final class OtBooleanCorrelations {
  /** Words (64 OTs each) per IKNP batch. */
  static final int WORD_CHUNK = 16_384;

  private final MpcContext ctx;
  private final Iknp.Sender sender;
  private final Iknp.Receiver receiver;
  private final byte[] seed;
  private final byte[] salt;
  private final int peer;

  OtBooleanCorrelations(MpcContext ctx, Iknp.Sender sender, Iknp.Receiver receiver, byte[] seed,
      byte[] salt) {
    this.ctx = ctx;
    this.sender = sender;
    this.receiver = receiver;
    this.seed = seed;
    this.salt = salt;
    this.peer = 1 - ctx.self();
  }

  private AesCtrPrg prg(String what, long operator, int partition, int stream) {
    return new AesCtrPrg(Hkdf.derive(seed, salt,
        "sparkmpc/ot/" + what + "/" + operator + "/" + partition + "/" + stream, 32));
  }

  private byte[] receiveExactly(long operator, int partition, int round, long bytes, String what,
      int stream) {
    byte[] in = ctx.channel().receive(ctx.key(operator, partition, round).withSender(peer),
        ctx.timeout());
    if (in.length != bytes) {
      throw new ProtocolException("party '" + ctx.directory().name(peer) + "' sent " + in.length
          + " bytes of " + what + ", expected " + bytes + " (operator " + operator
          + ", partition " + partition + ", stream " + stream + ")");
    }
    return in;
  }

  /** {@code words} words of boolean triples; IKNP batches on rounds {@code firstRound + chunk}. */
  BitTriples bitTriples(long operator, int partition, int stream, int words, String purpose,
      int firstRound, int lastRound) {
    int chunks = (words + WORD_CHUNK - 1) / WORD_CHUNK;
    if (firstRound + chunks > lastRound) {
      throw new IllegalArgumentException("too many boolean triples in one need: " + words
          + " words (at most " + (long) (lastRound - firstRound) * WORD_CHUNK + ")");
    }
    RoundRange block = Coordinates.correlationRounds(stream);
    long[] b = prg(purpose, operator, partition, stream).next(words);
    long[] a = new long[words];
    long[] c = new long[words];
    for (int off = 0, chunk = 0; off < words; off += WORD_CHUNK, chunk++) {
      int len = Math.min(WORD_CHUNK, words - off);
      int m = 64 * len;
      String coords = purpose + "/" + operator + "/" + partition + "/" + stream + "/" + chunk;
      String sendLabel = ctx.sessionId() + "/" + ctx.self() + "/" + coords;
      String recvLabel = ctx.sessionId() + "/" + peer + "/" + coords;
      int round = block.round(firstRound + chunk);
      long[] tRows = new long[2 * m];
      long[] u = receiver.extend(Arrays.copyOfRange(b, off, off + len), recvLabel, tRows);
      ctx.channel().send(peer, ctx.key(operator, partition, round), LongCodec.encode(u));
      u = null;
      byte[] uIn = receiveExactly(operator, partition, round, 8L * Iknp.K * len,
          "OT-extension columns", stream);
      long[] qRows = sender.rows(LongCodec.decode(uIn, 0, Iknp.K * len, "OT columns"), len,
          sendLabel);
      long tag = Iknp.tag(sendLabel);
      long[] h0 = new long[m];
      long[] h1 = new long[m];
      Iknp.hash(qRows, m, tag, null, h0);
      Iknp.hash(qRows, m, tag, sender.delta(), h1);
      qRows = null;
      long[] ht = new long[m];
      Iknp.hash(tRows, m, Iknp.tag(recvLabel), null, ht);
      for (int w = 0; w < len; w++) {
        long aw = 0;
        long mine = 0;
        int base = 64 * w;
        for (int k = 0; k < 64; k++) {
          long p0 = h0[base + k];
          aw |= ((p0 ^ h1[base + k]) & 1) << k;
          mine |= ((p0 ^ ht[base + k]) & 1) << k;
        }
        a[off + w] = aw;
        c[off + w] = (aw & b[off + w]) ^ mine;
      }
    }
    return new BitTriples(a, b, c);
  }

  /** {@code n} daBits, party 0 the OT sender of the product of the parties' bits. */
  DaBits daBits(long operator, int partition, int stream, int n) {
    int words = DaBits.words(n);
    long[] beta = prg("dabit", operator, partition, stream).next(words);
    if (words > 0) {
      beta[words - 1] &= BitSlice.tailMask(n);
    }
    long[] product = new long[n];
    RoundRange block = Coordinates.correlationRounds(stream);
    if ((words + (long) WORD_CHUNK - 1) / WORD_CHUNK > block.count() / 2) {
      throw new IllegalArgumentException("too many daBits in one need: " + n);
    }
    for (int off = 0, chunk = 0; off < words; off += WORD_CHUNK, chunk++) {
      int len = Math.min(WORD_CHUNK, words - off);
      int first = 64 * off;
      int count = Math.min(64 * len, n - first); // the daBits of this chunk
      long[] h = products(operator, partition, stream, "dabit", chunk, beta, off, len, count);
      System.arraycopy(h, 0, product, first, count);
    }
    long[] arith = new long[n];
    for (int i = 0; i < n; i++) {
      arith[i] = ((beta[i >>> 6] >>> (i & 63)) & 1) - 2 * product[i];
    }
    return new DaBits(arith, beta);
  }

  /**
   * Additive shares of {@code β_0 · β_1} for the {@code count} bits of {@code beta[off..off+len)}
   * (bit {@code i} of the chunk at bit {@code i % 64} of word {@code off + i / 64}), by one random
   * OT each with party 0 as the sender: rounds {@code 2 chunk} and {@code 2 chunk + 1} of the
   * stream's block.
   */
  private long[] products(long operator, int partition, int stream, String kind, int chunk,
      long[] beta, int off, int len, int count) {
    int m = 64 * len;
    RoundRange block = Coordinates.correlationRounds(stream);
    String label = ctx.sessionId() + "/0/" + kind + "/" + operator + "/" + partition + "/"
        + stream + "/" + chunk;
    int r0 = block.round(2 * chunk);
    int r1 = block.round(2 * chunk + 1);
    long[] product = new long[count];
    if (ctx.self() == 1) {
      long[] tRows = new long[2 * m];
      long[] u = receiver.extend(Arrays.copyOfRange(beta, off, off + len), label, tRows);
      ctx.channel().send(peer, ctx.key(operator, partition, r0), LongCodec.encode(u));
      long[] h = new long[m];
      Iknp.hash(tRows, m, Iknp.tag(label), null, h);
      long[] tau = LongCodec.decode(receiveExactly(operator, partition, r1, 8L * count,
          kind + " corrections", stream), 0, count, kind + " corrections");
      for (int i = 0; i < count; i++) {
        long bit = (beta[off + (i >>> 6)] >>> (i & 63)) & 1;
        product[i] = h[i] + (tau[i] & -bit);
      }
    } else {
      byte[] uIn = receiveExactly(operator, partition, r0, 8L * Iknp.K * len,
          "OT-extension columns", stream);
      long[] q = sender.rows(LongCodec.decode(uIn, 0, Iknp.K * len, "OT columns"), len, label);
      long tag = Iknp.tag(label);
      long[] h0 = new long[m];
      long[] h1 = new long[m];
      Iknp.hash(q, m, tag, null, h0);
      Iknp.hash(q, m, tag, sender.delta(), h1);
      long[] tau = new long[count];
      for (int i = 0; i < count; i++) {
        long bit = (beta[off + (i >>> 6)] >>> (i & 63)) & 1;
        tau[i] = h0[i] - h1[i] + bit;
        product[i] = -h0[i];
      }
      ctx.channel().send(peer, ctx.key(operator, partition, r1), LongCodec.encode(tau));
    }
    return product;
  }

  /**
   * {@code n} edaBits as 64 daBits each: element {@code i}'s XOR bits are this party's random word
   * {@code β[i]}, and its arithmetic share is {@code Σ_j 2^j (β_ij - 2 <β_0ij β_1ij>)}, the
   * products from one random OT per bit ({@link #products}), in chunks of {@value #WORD_CHUNK}
   * elements.
   */
  EdaBits edaBits(long operator, int partition, int stream, int n) {
    long[] beta = prg("edabit", operator, partition, stream).next(n);
    long[] r = beta.clone(); // Σ_j 2^j β_ij is the word itself
    RoundRange block = Coordinates.correlationRounds(stream);
    if ((n + (long) WORD_CHUNK - 1) / WORD_CHUNK > block.count() / 2) {
      throw new IllegalArgumentException("too many edaBits in one need: " + n);
    }
    for (int off = 0, chunk = 0; off < n; off += WORD_CHUNK, chunk++) {
      int len = Math.min(WORD_CHUNK, n - off);
      long[] h = products(operator, partition, stream, "edabit", chunk, beta, off, len, 64 * len);
      for (int i = 0; i < len; i++) {
        long twice = 0; // Σ_j 2^(j+1) <product_ij>; bit 63's term is 2^64 = 0
        int at = 64 * i;
        for (int j = 0; j < 63; j++) {
          twice += h[at + j] << (j + 1);
        }
        r[off + i] -= twice;
      }
    }
    return new EdaBits(r, beta);
  }
}
