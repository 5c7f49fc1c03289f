package org.sparkmpc.share;

import org.sparkmpc.crypto.AesCtrPrg;
import org.sparkmpc.session.MpcContext;

/**
 * Seed-compressed additive input sharing among 2 to 5 parties.
 *
 * <p>The owner {@code p} of values {@code x} holds share {@code x - sum_q PRG(K(p,q), label)}; every
 * other party {@code q} holds {@code PRG(K(p,q), label)}, which it expands from the pairwise key by
 * itself. The shares sum to {@code x} in Z(2^64) and any set of all but one party sees uniformly
 * random values. The owner's correction share is its own share and never leaves it.
 *
 * <p>Rounds: 0. Bytes on the network per element: 0 (the pairwise keys were agreed once per session).
 * Local cost: one AES-CTR block per two elements per peer. Reveals: nothing (the number of elements
 * is public metadata). The label binds (session, operator, partition, stream, owner), so a retried
 * task re-derives identical shares.
 */
public final class AdditiveSharing {
  private AdditiveSharing() {}

  /** PRG label of one shared stream; every party derives the same label. */
  public static String label(String session, long operator, int partition, int stream, int owner) {
    return session + "/share/" + operator + "/" + partition + "/" + stream + "/" + owner;
  }

  /**
   * Owner side: turn {@code values[0..n)} into this party's share in place.
   */
  public static void shareOwnInPlace(MpcContext ctx, long operator, int partition, int stream,
      long[] values, int n) {
    String label = label(ctx.sessionId(), operator, partition, stream, ctx.self());
    for (int q = 0; q < ctx.parties(); q++) {
      if (q != ctx.self()) {
        ctx.keys().prgWith(q, label).subtractFrom(values, 0, n);
      }
    }
  }

  /**
   * Non-owner side: this party's share of the {@code n} values that {@code owner} shared, written to
   * {@code dst[off..off+n)}.
   */
  public static void peerShareInto(MpcContext ctx, int owner, long operator, int partition,
      int stream, long[] dst, int off, int n) {
    if (owner == ctx.self()) {
      throw new IllegalArgumentException("peerShareInto is for values another party owns");
    }
    AesCtrPrg prg = ctx.keys().prgWith(owner,
        label(ctx.sessionId(), operator, partition, stream, owner));
    prg.fill(dst, off, n);
  }

  /**
   * Owner side of a wide share: turn {@code values[0..n)} into the low words of this party's shares
   * (exactly what {@link #shareOwnInPlace} leaves there) and write to {@code high} the high words
   * that make them shares in Z(2^128) of the values, given that every peer's share is its 64-bit
   * PRG share read as a non-negative 128-bit integer (high word 0). So a wide share costs no
   * traffic and no more randomness than a narrow one: the owner's high word is the sign extension
   * of the value less the borrows of its subtractions.
   *
   * <p>Sums of wide shares ({@code Ring64.groupSum128}, the peers' with {@code groupSumCarry}) hold
   * the exact total of any number of 64-bit values. The owner's share is not uniform as a 128-bit
   * value and the peers' sums are biased, so wide sums are opened only under a 128-bit zero-sharing
   * mask ({@code Reveal.toPartiesWide}).
   */
  public static void shareOwnWideInPlace(MpcContext ctx, long operator, int partition, int stream,
      long[] values, long[] high, int n) {
    String label = label(ctx.sessionId(), operator, partition, stream, ctx.self());
    for (int i = 0; i < n; i++) {
      high[i] = values[i] >> 63; // sign extension of the value to 128 bits
    }
    long[] r = new long[Math.min(n, 1 << 16)];
    for (int q = 0; q < ctx.parties(); q++) {
      if (q == ctx.self()) {
        continue;
      }
      AesCtrPrg prg = ctx.keys().prgWith(q, label);
      for (int off = 0; off < n; off += r.length) {
        int m = Math.min(r.length, n - off);
        prg.fill(r, 0, m);
        for (int i = 0; i < m; i++) {
          long v = values[off + i];
          values[off + i] = v - r[i];
          high[off + i] -= Long.compareUnsigned(v, r[i]) < 0 ? 1 : 0;
        }
      }
    }
  }

  /** Non-owner side, into a new array. */
  public static long[] peerShare(MpcContext ctx, int owner, long operator, int partition,
      int stream, int n) {
    long[] out = new long[n];
    peerShareInto(ctx, owner, operator, partition, stream, out, 0, n);
    return out;
  }
}
