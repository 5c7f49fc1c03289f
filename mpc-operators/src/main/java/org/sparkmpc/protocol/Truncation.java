package org.sparkmpc.protocol;

import org.sparkmpc.session.MpcContext;

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
}
