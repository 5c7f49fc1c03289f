package org.sparkmpc.share;

import org.sparkmpc.net.MessageKey;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.ring.LongCodec;
import org.sparkmpc.session.MpcContext;

/**
 * Opening of additively shared values, to every party or to named parties only.
 *
 * <p>Rounds: 1. Bytes sent per element: 8 to each recipient other than the sender (8(P-1) when
 * revealing to all). Reveals: the values to the recipients, nothing to the others. One message per
 * (partition, round) per pair of parties, whatever the number of elements.
 */
public final class Reveal {
  private Reveal() {}

  /** Reveal to all parties; every party gets the values. */
  public static long[] toAll(MpcContext ctx, long operator, int partition, int round, long[] shares,
      int n) {
    return toParties(ctx, operator, partition, round, shares, n, all(ctx));
  }

  /** Every party of the session, as recipients. */
  public static int[] all(MpcContext ctx) {
    int[] all = new int[ctx.parties()];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    return all;
  }

  /**
   * Reveal to the parties in {@code recipients}. Returns the values at a recipient and {@code null}
   * at every other party. {@code shares} is not modified.
   */
  public static long[] toParties(MpcContext ctx, long operator, int partition, int round,
      long[] shares, int n, int[] recipients) {
    send(ctx, operator, partition, round, shares, n, recipients);
    for (int r : recipients) {
      if (r == ctx.self()) {
        return receive(ctx, operator, partition, round, shares, n);
      }
    }
    return null;
  }

  /**
   * First half of a reveal: send this party's shares to every recipient other than itself. Never
   * waits for a peer's message (Spark tasks that only send cannot deadlock).
   */
  public static void send(MpcContext ctx, long operator, int partition, int round, long[] shares,
      int n, int[] recipients) {
    MessageKey mine = ctx.key(operator, partition, round);
    byte[] payload = LongCodec.encode(shares, 0, n);
    for (int r : recipients) {
      if (r != ctx.self()) {
        ctx.channel().send(r, mine, payload);
      }
    }
  }

  /**
   * Second half, at a recipient: wait for every peer's shares and add them to this party's own.
   * A peer that sent a different number of values fails with an error naming it.
   */
  public static long[] receive(MpcContext ctx, long operator, int partition, int round,
      long[] shares, int n) {
    MessageKey mine = ctx.key(operator, partition, round);
    long[] out = new long[n];
    System.arraycopy(shares, 0, out, 0, n);
    for (int q = 0; q < ctx.parties(); q++) {
      if (q == ctx.self()) {
        continue;
      }
      byte[] in = ctx.channel().receive(mine.withSender(q), ctx.timeout());
      if (in.length != n * 8) {
        throw new ProtocolException("party '" + ctx.directory().name(q) + "' sent " + in.length
            + " bytes of shares for " + n + " values (" + mine.describe()
            + "): the parties disagree on the number of rows");
      }
      LongCodec.addInto(in, 0, out, n);
    }
    return out;
  }

  /**
   * Reveal wide (128-bit) shares, each a low word {@code lo[i]} and a high word {@code hi[i]}, to
   * the parties in {@code recipients}: the parties' shares are added with the carries between the
   * words. Returns {@code 2n} words at a recipient (the low words, then the high words) and
   * {@code null} elsewhere. The shares are sent under a fresh 128-bit zero-sharing mask, so each
   * message is uniform. Rounds: 1. Bytes per element: 16 to each recipient.
   */
  public static long[] toPartiesWide(MpcContext ctx, long operator, int partition, int round,
      long[] lo, long[] hi, int n, int[] recipients) {
    long[] both = new long[2 * n];
    System.arraycopy(lo, 0, both, 0, n);
    System.arraycopy(hi, 0, both, n, n);
    // A fresh 128-bit zero-sharing: the masks of all parties add up to 0, and each message is
    // uniform on its own, whatever the distribution of the wide shares behind it. Each pair of
    // parties expands one mask from its pairwise key; the lower-numbered one adds it, the other
    // subtracts it.
    String label = ctx.sessionId() + "/zero128/" + operator + "/" + partition + "/" + round;
    long[] bothLo = java.util.Arrays.copyOf(lo, n);
    long[] bothHi = java.util.Arrays.copyOf(hi, n);
    long[] m = new long[2 * n];
    for (int q = 0; q < ctx.parties(); q++) {
      if (q == ctx.self()) {
        continue;
      }
      ctx.keys().prgWith(q, label).fill(m, 0, 2 * n);
      long[] mLo = java.util.Arrays.copyOf(m, n);
      long[] mHi = java.util.Arrays.copyOfRange(m, n, 2 * n);
      if (q < ctx.self()) {
        org.sparkmpc.ring.Ring64.neg128(mLo, mHi, n);
      }
      org.sparkmpc.ring.Ring64.add128(bothLo, bothHi, mLo, mHi, n);
    }
    System.arraycopy(bothLo, 0, both, 0, n);
    System.arraycopy(bothHi, 0, both, n, n);
    send(ctx, operator, partition, round, both, 2 * n, recipients);
    if (java.util.Arrays.stream(recipients).noneMatch(r -> r == ctx.self())) {
      return null;
    }
    MessageKey mine = ctx.key(operator, partition, round);
    long[] outLo = bothLo; // this party's own masked shares: the masks cancel in the sum
    long[] outHi = bothHi;
    long[] theirs = new long[2 * n];
    for (int q = 0; q < ctx.parties(); q++) {
      if (q == ctx.self()) {
        continue;
      }
      byte[] in = ctx.channel().receive(mine.withSender(q), ctx.timeout());
      if (in.length != 2 * n * 8) {
        throw new ProtocolException("party '" + ctx.directory().name(q) + "' sent " + in.length
            + " bytes of wide shares for " + n + " values (" + mine.describe()
            + "): the parties disagree on the number of values");
      }
      java.util.Arrays.fill(theirs, 0);
      LongCodec.addInto(in, 0, theirs, 2 * n);
      org.sparkmpc.ring.Ring64.add128(outLo, outHi, theirs,
          java.util.Arrays.copyOfRange(theirs, n, 2 * n), n);
    }
    long[] out = new long[2 * n];
    System.arraycopy(outLo, 0, out, 0, n);
    System.arraycopy(outHi, 0, out, n, n);
    return out;
  }
}
