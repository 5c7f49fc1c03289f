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
}
