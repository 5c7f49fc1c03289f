package org.sparkmpc.protocol;

import org.sparkmpc.correlation.BitTriples;
import org.sparkmpc.net.MessageKey;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.ring.LongCodec;
import org.sparkmpc.session.MpcContext;

/**
 * Gates on XOR-shared bits packed 64 to a {@code long} (each party holds words whose XOR over all
 * computing parties is the value): XOR and NOT are local, AND takes one round with boolean Beaver
 * triples, and opening takes one round. Every gate of a call goes in one message per peer.
 *
 * <p>{@link #and}: each party opens {@code d = x ^ a} and {@code e = y ^ b} (uniform, since
 * {@code a} and {@code b} are) and sets {@code z = c ^ (d & b) ^ (e & a)}, party 0 also XORing
 * {@code d & e}. Rounds: 1. Bytes per word (64 gates): 16 to each other party. Reveals: {@code d}
 * and {@code e}, uniform and independent of the inputs.
 */
public final class BooleanGates {
  private BooleanGates() {}

  /**
   * Open XOR-shared words to every party: send {@code shares[0..n)} to every peer and XOR in
   * theirs. Rounds: 1 under (operator, partition, round). Bytes per word: 8 to each other party.
   * Reveals the XOR of the shares, so call it on masked values only.
   */
  public static long[] open(MpcContext ctx, long operator, int partition, int round,
      long[] shares, int n) {
    MessageKey mine = ctx.key(operator, partition, round);
    byte[] payload = LongCodec.encode(shares, 0, n);
    for (int q = 0; q < ctx.parties(); q++) {
      if (q != ctx.self()) {
        ctx.channel().send(q, mine, payload);
      }
    }
    long[] out = java.util.Arrays.copyOf(shares, n);
    for (int q = 0; q < ctx.parties(); q++) {
      if (q == ctx.self()) {
        continue;
      }
      byte[] in = ctx.channel().receive(mine.withSender(q), ctx.timeout());
      if (in.length != 8L * n) {
        throw new ProtocolException("party '" + ctx.directory().name(q) + "' sent " + in.length
            + " bytes of boolean shares for " + n + " words (" + mine.describe()
            + "): the parties disagree on the number of rows");
      }
      LongCodec.xorInto(in, 0, out, n);
    }
    return out;
  }

  /**
   * XOR shares of {@code x & y}, bitwise over {@code n} words, with triple words
   * {@code [offset, offset + n)} of {@code t}. One round under (operator, partition, round).
   */
  public static long[] and(MpcContext ctx, long operator, int partition, int round, BitTriples t,
      int offset, long[] x, long[] y, int n) {
    if (n < 0 || x.length < n || y.length < n) {
      throw new IllegalArgumentException("AND of " + n + " words needs inputs of at least " + n
          + " words, got " + x.length + " and " + y.length);
    }
    return and(ctx, operator, partition, round, t, offset, new long[][] {x},
        new long[][] {y}, 1, n)[0];
  }

  /**
   * XOR shares of {@code xs[k] & ys[k]} for the {@code gates} gates {@code k}, each over
   * {@code words} words (a bit plane of a circuit level), with triple words
   * {@code [offset + k * words, offset + (k + 1) * words)} of {@code t} for gate {@code k}. All
   * gates go in one message per peer: one round under (operator, partition, round), 16 bytes per
   * word to each other party. The masked inputs are written straight into the message and the
   * outputs computed from the message and the peers' replies, with no intermediate arrays.
   */
  public static long[][] and(MpcContext ctx, long operator, int partition, int round,
      BitTriples t, int offset, long[][] xs, long[][] ys, int gates, int words) {
    long n = (long) gates * words;
    if (gates < 0 || words < 0 || xs.length < gates || ys.length < gates
        || 16 * n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("AND of " + gates + " gates of " + words
          + " words: inputs for " + xs.length + " and " + ys.length + " gates");
    }
    if (offset < 0 || offset + n > t.size()) {
      throw new IllegalArgumentException("AND of " + n + " words at triple " + offset
          + " needs more than the " + t.size() + " boolean triple words prepared");
    }
    int total = (int) n;
    if (total == 0) {
      return new long[gates][words]; // nothing to send: every party has no words
    }
    long[] a = t.a();
    long[] b = t.b();
    long[] c = t.c();
    byte[] payload = new byte[16 * total];
    for (int k = 0; k < gates; k++) {
      long[] x = xs[k];
      long[] y = ys[k];
      if (x.length < words || y.length < words) {
        throw new IllegalArgumentException("AND gate " + k + " needs " + words
            + " words per input, got " + x.length + " and " + y.length);
      }
      int at = offset + k * words;
      int d = 8 * k * words;
      int e = 8 * (total + k * words);
      for (int w = 0; w < words; w++) {
        LE.set(payload, d + 8 * w, x[w] ^ a[at + w]);
        LE.set(payload, e + 8 * w, y[w] ^ b[at + w]);
      }
    }
    MessageKey mine = ctx.key(operator, partition, round);
    for (int q = 0; q < ctx.parties(); q++) {
      if (q != ctx.self()) {
        ctx.channel().send(q, mine, payload);
      }
    }
    // The opened d and e: this party's words XOR every peer's. With one peer (two parties) they
    // are read from both messages as the gates are computed; otherwise gathered first.
    byte[] peer = null;
    long[] opened = null;
    for (int q = 0; q < ctx.parties(); q++) {
      if (q == ctx.self()) {
        continue;
      }
      byte[] in = ctx.channel().receive(mine.withSender(q), ctx.timeout());
      if (in.length != payload.length) {
        throw new ProtocolException("party '" + ctx.directory().name(q) + "' sent " + in.length
            + " bytes of masked AND inputs for " + total + " words (" + mine.describe()
            + "): the parties disagree on the number of rows");
      }
      if (ctx.parties() == 2) {
        peer = in;
      } else {
        if (opened == null) {
          opened = LongCodec.decode(payload, 0, 2 * total, "AND inputs");
        }
        LongCodec.xorInto(in, 0, opened, 2 * total);
      }
    }
    long first = ctx.self() == 0 ? -1L : 0L;
    long[][] z = new long[gates][words];
    for (int k = 0; k < gates; k++) {
      long[] zk = z[k];
      int at = offset + k * words;
      int i0 = k * words;
      for (int w = 0; w < words; w++) {
        int i = i0 + w;
        long d;
        long e;
        if (peer != null) {
          d = (long) LE.get(payload, 8 * i) ^ (long) LE.get(peer, 8 * i);
          e = (long) LE.get(payload, 8 * (total + i)) ^ (long) LE.get(peer, 8 * (total + i));
        } else {
          d = opened[i];
          e = opened[total + i];
        }
        zk[w] = c[at + w] ^ (d & b[at + w]) ^ (e & a[at + w]) ^ (d & e & first);
      }
    }
    return z;
  }

  private static final java.lang.invoke.VarHandle LE =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class,
          java.nio.ByteOrder.LITTLE_ENDIAN);
}
