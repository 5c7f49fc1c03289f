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

  /** Non-owner side, into a new array. */
  public static long[] peerShare(MpcContext ctx, int owner, long operator, int partition,
      int stream, int n) {
    long[] out = new long[n];
    peerShareInto(ctx, owner, operator, partition, stream, out, 0, n);
    return out;
  }
}
