package org.sparkmpc.correlation.ot;

import java.util.Arrays;
import org.sparkmpc.correlation.BitTriples;
import org.sparkmpc.correlation.DaBits;
import org.sparkmpc.correlation.EdaBits;
import org.sparkmpc.crypto.AesCtrPrg;
import org.sparkmpc.crypto.Hkdf;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.protocol.BooleanGates;
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
 * <p><b>edaBits.</b> Each party picks {@code r_i}; the additive sharing is {@code (r_0, r_1)} and the
 * XOR bits of {@code r_0 + r_1} come from a bit-sliced ripple-carry adder on the XOR sharings
 * {@code (r_0, 0)} and {@code (0, r_1)}: carry {@code c' = c ^ ((x ^ c) & (y ^ c))}, 63 AND levels
 * with boolean triples made as above. Rounds: the triples' plus 63. Bytes per edaBit each way:
 * about 63 · 16 (OTs) + 63 · 2 / 8 (the gates).
 *
 * <p>All randomness is expanded from the source's private seed and the coordinates, and IKNP is
 * deterministic given the base OTs, so making the same batch again sends identical messages.
 * Reveals only uniformly masked values (IKNP columns, hash-masked corrections, Beaver-masked gate
 * inputs). Message rounds: within the stream's {@link Coordinates#correlationRounds} block; for
 * edaBits the triples use the first half of the block and the adder the second.
 */
final class OtBooleanCorrelations {
  /** Words (64 OTs each) per IKNP batch. */
  static final int WORD_CHUNK = 16_384;
  /** First round of the edaBit adder within its stream's block. */
  static final int ADDER_FIRST_ROUND = Coordinates.ROUNDS_PER_STREAM / 2;

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
      int m = 64 * len;
      int first = 64 * off;
      int count = Math.min(m, n - first); // the daBits of this chunk
      String label = ctx.sessionId() + "/0/dabit/" + operator + "/" + partition + "/" + stream
          + "/" + chunk;
      int r0 = block.round(2 * chunk);
      int r1 = block.round(2 * chunk + 1);
      if (ctx.self() == 1) {
        long[] tRows = new long[2 * m];
        long[] u = receiver.extend(Arrays.copyOfRange(beta, off, off + len), label, tRows);
        ctx.channel().send(peer, ctx.key(operator, partition, r0), LongCodec.encode(u));
        long[] h = new long[m];
        Iknp.hash(tRows, m, Iknp.tag(label), null, h);
        long[] tau = LongCodec.decode(receiveExactly(operator, partition, r1, 8L * count,
            "daBit corrections", stream), 0, count, "daBit corrections");
        for (int i = 0; i < count; i++) {
          long bit = (beta[(first + i) >>> 6] >>> (i & 63)) & 1;
          product[first + i] = h[i] + (tau[i] & -bit);
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
          long bit = (beta[(first + i) >>> 6] >>> (i & 63)) & 1;
          tau[i] = h0[i] - h1[i] + bit;
          product[first + i] = -h0[i];
        }
        ctx.channel().send(peer, ctx.key(operator, partition, r1), LongCodec.encode(tau));
      }
    }
    long[] arith = new long[n];
    for (int i = 0; i < n; i++) {
      arith[i] = ((beta[i >>> 6] >>> (i & 63)) & 1) - 2 * product[i];
    }
    return new DaBits(arith, beta);
  }

  /** {@code n} edaBits: the parties' random values added in a bit-sliced boolean adder. */
  EdaBits edaBits(long operator, int partition, int stream, int n) {
    long[] mine = prg("edabit", operator, partition, stream).next(n);
    if (n == 0) {
      return new EdaBits(mine, new long[0]);
    }
    int nb = BitSlice.blocks(n);
    BitTriples t = bitTriples(operator, partition, stream, 63 * nb, "edabit-and", 0,
        ADDER_FIRST_ROUND);
    RoundRange block = Coordinates.correlationRounds(stream);
    long[] planes = BitSlice.toPlanes(mine, n);
    boolean first = ctx.self() == 0; // party 0 holds x = r_0, party 1 holds y = r_1
    long[] zero = new long[nb];
    long[] carry = new long[nb];
    long[] sum = new long[64 * nb];
    long[] xs = new long[nb];
    long[] ys = new long[nb];
    for (int j = 0; j < 64; j++) {
      long[] x = first ? Arrays.copyOfRange(planes, j * nb, (j + 1) * nb) : zero;
      long[] y = first ? zero : Arrays.copyOfRange(planes, j * nb, (j + 1) * nb);
      for (int b = 0; b < nb; b++) {
        sum[j * nb + b] = x[b] ^ y[b] ^ carry[b];
      }
      if (j == 63) {
        break;
      }
      for (int b = 0; b < nb; b++) {
        xs[b] = x[b] ^ carry[b];
        ys[b] = y[b] ^ carry[b];
      }
      long[] z = BooleanGates.and(ctx, operator, partition,
          block.round(ADDER_FIRST_ROUND + j), t, j * nb, xs, ys, nb);
      for (int b = 0; b < nb; b++) {
        carry[b] ^= z[b];
      }
    }
    return new EdaBits(mine, BitSlice.fromPlanes(sum, n));
  }
}
