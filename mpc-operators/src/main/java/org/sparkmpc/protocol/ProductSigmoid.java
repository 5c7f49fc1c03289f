package org.sparkmpc.protocol;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/**
 * The logistic function of a fixed-point product before its truncation: shares of {@code σ(z /
 * 2^(scale + extra))} at {@code scale} fractional bits, for shares {@code z} at {@code scale +
 * extra} bits (a dot product of values at {@code scale} and {@code extra} bits, such as a logit
 * {@code w·x + b}). The same piecewise cubic as {@link Sigmoid}, evaluated in fewer rounds for
 * latency:
 *
 * <ul>
 *   <li>the breakpoint comparisons run on {@code z} itself, at its full scale (exact: no
 *       truncation before them), {@value Comparison#ROUNDS} rounds on the {@code main} engine;
 *   <li>at the same time, on the {@code side} engine and another thread, {@code x = z} at {@value
 *       #GUARD} more fractional bits than {@code scale} (one truncation), then {@code x²} and
 *       {@code x³} (a product and a truncation each): 5 rounds;
 *   <li>then, on {@code main}, the three products {@code C_1·x, C_2·x², C_3·x³} with the
 *       piece's coefficients (linear in the comparison bits) in one round, their sum truncated to
 *       {@code scale} (one round), plus {@code C_0}.
 * </ul>
 *
 * <p><b>Cost per element</b>: {@value #ROUNDS} rounds of latency ({@link Sigmoid} takes {@value
 * Sigmoid#ROUNDS} after a separate truncation of {@code z}); {@value Sigmoid#BREAKS} comparisons,
 * 5 Beaver products and 4 truncations; bytes to each other party about {@value Sigmoid#BREAKS}·37.6
 * + 5·16 + 4·8 = 375. <b>Error</b>: within {@link Sigmoid#MAX_ERROR} of {@code σ}, as {@link
 * Sigmoid} (the powers are computed at {@value #GUARD} guard bits from the untruncated input, so
 * they are at least as precise). Exactly 0 below -8 and 1 from 8 on, whatever the magnitude of
 * {@code z} (the powers of a large input are garbage multiplied by exact zero indicators); {@code
 * |z| < 2^62} is required only for the comparisons' breakpoints to be exact, which every value of
 * the fixed-point range satisfies. <b>Reveals</b> nothing: only masked values cross.
 */
public final class ProductSigmoid {
  /** Extra fractional bits of the powers and the cubic's evaluation. */
  public static final int GUARD = 8;
  /** Rounds of latency of one call (the comparisons, then a product and a truncation). */
  public static final int ROUNDS = Comparison.ROUNDS + 2;

  private ProductSigmoid() {}

  /**
   * Shares of {@code σ(z / 2^(scale + extra))} at {@code scale} bits. {@code main} and {@code
   * side} are engines of the same operator and partition with disjoint round and stream blocks;
   * {@code side}'s steps run on {@code helper} while {@code main} compares (both engines counting:
   * in turn, on this thread).
   *
   * @param scale 12 to 20 fractional bits of the output
   * @param extra the input's further fractional bits ({@code scale + extra <= 56}, so that the
   *     breakpoints, up to 8 in magnitude, are exact at the input's scale)
   */
  public static long[] apply(VectorEngine main, VectorEngine side, Executor helper, long[] z,
      int scale, int extra) {
    if (scale < 12 || scale > 20 || extra < 0 || scale + extra > 56) {
      throw new IllegalArgumentException("the product sigmoid takes outputs at 12 to 20 "
          + "fractional bits and inputs at no more than 56, not " + scale + " and "
          + (scale + extra));
    }
    int n = z.length;
    int inner = scale + GUARD;
    long[][] powers;
    long[] b;
    if (main.counting()) {
      powers = powers(side, z, inner, scale + extra);
      b = comparisons(main, z, scale + extra);
    } else {
      CompletableFuture<long[][]> p = CompletableFuture.supplyAsync(
          () -> powers(side, z, inner, scale + extra), helper);
      b = comparisons(main, z, scale + extra);
      try {
        powers = p.join();
      } catch (CompletionException e) {
        if (e.getCause() instanceof RuntimeException r) {
          throw r;
        }
        throw e;
      }
    }
    long[][] c = Sigmoid.pieceCoefficients(main, b, n, scale, inner);
    long[] left = new long[3 * n];
    long[] right = new long[3 * n];
    for (int j = 1; j <= 3; j++) {
      System.arraycopy(c[j], 0, left, (j - 1) * n, n);
      System.arraycopy(powers[j - 1], 0, right, (j - 1) * n, n);
    }
    long[] prod = main.mul(left, right); // C_j·x^j at 2·inner bits
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = prod[i] + prod[n + i] + prod[2 * n + i];
    }
    main.truncate(out, 2 * inner - scale);
    for (int i = 0; i < n; i++) {
      out[i] += c[0][i];
    }
    return out;
  }

  /** {@code [z < a_k]} for every breakpoint, in one batch of comparisons. */
  private static long[] comparisons(VectorEngine e, long[] z, int zScale) {
    int n = z.length;
    long[] diff = new long[Sigmoid.BREAKS * n];
    for (int k = 0; k < Sigmoid.BREAKS; k++) {
      long a = e.constant(Math.round(Math.scalb(Sigmoid.BREAKPOINTS[k], zScale)));
      for (int i = 0; i < n; i++) {
        diff[k * n + i] = z[i] - a;
      }
    }
    return e.ltz(diff);
  }

  /** {@code x, x², x³} at {@code inner} bits, from {@code z} at {@code zScale} bits. */
  private static long[][] powers(VectorEngine e, long[] z, int inner, int zScale) {
    int n = z.length;
    long[] x = new long[n];
    if (zScale >= inner) {
      System.arraycopy(z, 0, x, 0, n);
      e.truncate(x, zScale - inner);
    } else {
      for (int i = 0; i < n; i++) {
        x[i] = z[i] << (inner - zScale);
      }
    }
    long[] x2 = e.mulTrunc(x, x, inner);
    long[] x3 = e.mulTrunc(x2, x, inner);
    return new long[][] {x, x2, x3};
  }
}
