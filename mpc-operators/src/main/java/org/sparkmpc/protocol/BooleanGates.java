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
    if (offset < 0 || (long) offset + n > t.size()) {
      throw new IllegalArgumentException("AND of " + n + " words at triple " + offset
          + " needs more than the " + t.size() + " boolean triple words prepared");
    }
    long[] a = t.a();
    long[] b = t.b();
    long[] c = t.c();
    long[] de = new long[2 * n];
    for (int i = 0; i < n; i++) {
      de[i] = x[i] ^ a[offset + i];
      de[n + i] = y[i] ^ b[offset + i];
    }
    de = open(ctx, operator, partition, round, de, 2 * n);
    long[] z = new long[n];
    long first = ctx.self() == 0 ? -1L : 0L;
    for (int i = 0; i < n; i++) {
      long d = de[i];
      long e = de[n + i];
      z[i] = c[offset + i] ^ (d & b[offset + i]) ^ (e & a[offset + i]) ^ (d & e & first);
    }
    return z;
  }
}
