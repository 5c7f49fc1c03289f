package org.sparkmpc.protocol;

import org.sparkmpc.correlation.TruncationPairs;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.share.Reveal;

/**
 * Fixed-point truncation after a multiplication: a product of two values at scale {@code 2^f}
 * carries scale {@code 2^(2f)} and is brought back by dividing by {@code 2^f}.
 *
 * <p>{@link #probabilisticTwoParty}: the local truncation of SecureML (Mohassel and Zhang, 2017)
 * for two parties. Party 0 shifts its share arithmetically, party 1 shifts the negation of its
 * share and negates back. Rounds: 0. Bytes: 0. Reveals: nothing. Error: the result is the exact
 * {@code floor} of {@code z / 2^f} or one more, except with probability at most
 * {@code 2^(l + 1 - 64)} for {@code |z| < 2^l}, when it is wrong by {@code 2^(64-f)} units. Two
 * factors below {@code 2^k} in magnitude at scale {@code 2^f} give {@code l = 2k + 2f}: with
 * {@code f = 16}, factors below 2^5 fail with probability below 2^-21 per element, factors below
 * 2^10 below 2^-11. Larger values need the dealer's truncation pairs or a smaller scale. The tests
 * check both the one-unit bound and the failure rate.
 *
 * <p>{@link #withPairs}: exact to one bit, for any number of parties, with truncation pairs
 * ({@code r} uniform in Z(2^64), {@code r >>> f}, the top bit of {@code r}). The parties open
 * {@code c = z + 2^62 + r}, uniform whatever {@code z} is; since {@code z + 2^62} lies in
 * {@code [0, 2^63)} for {@code |z| < 2^62}, the addition wrapped exactly when the top bit of
 * {@code r} is set and that of {@code c} is not, which is linear in the shared top bit. The result
 * is {@code floor(z / 2^f)} or one more, never anything else. Rounds: 1. Bytes: 8 per element to
 * each other party. Reveals nothing ({@code c} is uniform).
 */
public final class Truncation {
  private Truncation() {}

  /** Truncate this party's shares in place; two computing parties only. */
  public static void probabilisticTwoParty(MpcContext ctx, long[] z, int n, int f) {
    if (ctx.parties() != 2) {
      throw new IllegalArgumentException("local truncation is for two parties; with more, use "
          + "the dealer's truncation pairs");
    }
    if (ctx.self() == 0) {
      for (int i = 0; i < n; i++) {
        z[i] = z[i] >> f;
      }
    } else {
      for (int i = 0; i < n; i++) {
        z[i] = -((-z[i]) >> f);
      }
    }
  }

  /**
   * Replace {@code z[0..n)} by shares of {@code z / 2^f} (floor, or one more), using pairs
   * {@code offset..offset+n} of {@code pairs} (shift {@code pairs.f()}). Requires {@code |z| < 2^62}.
   * One round under (operator, partition, round).
   */
  public static void withPairs(MpcContext ctx, long operator, int partition, int round,
      TruncationPairs pairs, int offset, long[] z, int n) {
    long[] c = masked(ctx, pairs, offset, z, n);
    c = Reveal.toAll(ctx, operator, partition, round, c, n);
    finish(ctx, pairs, offset, c, z, n);
  }

  /**
   * First half of {@link #withPairs} for Spark tasks that must not wait: send this party's share of
   * {@code c = z + 2^62 + r} to every party. Never waits.
   */
  public static void send(MpcContext ctx, long operator, int partition, int round,
      TruncationPairs pairs, int offset, long[] z, int n) {
    Reveal.send(ctx, operator, partition, round, masked(ctx, pairs, offset, z, n), n,
        Reveal.all(ctx));
  }

  /**
   * Second half: wait for the peers' shares of {@code c} (sent by {@link #send} under the same
   * coordinates) and replace {@code z[0..n)} by shares of {@code z / 2^f}, as {@link #withPairs}.
   */
  public static void receive(MpcContext ctx, long operator, int partition, int round,
      TruncationPairs pairs, int offset, long[] z, int n) {
    long[] c = Reveal.receive(ctx, operator, partition, round, masked(ctx, pairs, offset, z, n),
        n);
    finish(ctx, pairs, offset, c, z, n);
  }

  /** This party's share of {@code c = z + 2^62 + r}. */
  private static long[] masked(MpcContext ctx, TruncationPairs pairs, int offset, long[] z,
      int n) {
    long[] r = pairs.r();
    long[] c = new long[n];
    long offsetValue = ctx.self() == 0 ? 1L << 62 : 0;
    for (int i = 0; i < n; i++) {
      c[i] = z[i] + offsetValue + r[offset + i];
    }
    return c;
  }

  /** Shares of {@code z / 2^f} from the opened {@code c}. */
  private static void finish(MpcContext ctx, TruncationPairs pairs, int offset, long[] c,
      long[] z, int n) {
    int f = pairs.f();
    boolean first = ctx.self() == 0;
    long[] s = pairs.shifted();
    long[] msb = pairs.msb();
    long wrapUnit = 1L << (64 - f);
    long back = 1L << (62 - f);
    for (int i = 0; i < n; i++) {
      long noWrapInC = c[i] < 0 ? 0 : 1; // top bit of c clear
      long v = -s[offset + i] + msb[offset + i] * noWrapInC * wrapUnit;
      if (first) {
        v += (c[i] >>> f) - back;
      }
      z[i] = v;
    }
  }
}
