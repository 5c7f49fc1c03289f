package org.sparkmpc.protocol;

/**
 * The logistic function of a fixed-point product before its truncation, as {@link ProductSigmoid}
 * computes it, but piecewise linear: shares of {@code σ(z / 2^(scale + extra))} at {@code scale}
 * fractional bits for shares {@code z} at {@code scale + extra} bits, from {@value #BREAKS}
 * comparisons and a single product, with no second engine. Made for single-row requests, whose
 * cost is the number of messages, not their size: {@link ProductSigmoid} sends 15 messages to each
 * peer, this one 10; per row it makes 27 comparisons instead of 7, so for batches {@link
 * ProductSigmoid} is cheaper.
 *
 * <p><b>Method</b>: 27 breakpoints, symmetric about 0 and multiples of 2^-10 (so exact at any input
 * scale of 10 bits or more), {@code -8 = a_0 < ... < a_26 = 8}, chosen so that each of the 26
 * pieces is within {@value #FIT_ERROR} of {@code σ} with the best (minimax) line on it; 0 below -8
 * and 1 from 8 on, as {@link Sigmoid}. The bits {@code b_k = [z < a_k]} come from one batched
 * {@link Comparison#ltz} on {@code z} at its own scale (exact, no truncation before it); the
 * piece's intercept and slope are linear in the bits; then {@code C_1·z} (one product, the slope at
 * {@value #GUARD} more bits than the output), its truncation to {@code scale}, plus {@code C_0}.
 *
 * <p><b>Cost per element</b>: {@value #ROUNDS} rounds ({@value Comparison#ROUNDS} + a product + a
 * truncation), 10 messages to each other party per batch; 27 comparisons, 1 Beaver product and 1
 * truncation; bytes to each other party about 27·37.6 + 16 + 8 = 1,040 (for one element the
 * comparisons' AND gates pack into the same words as for 7: about 430). <b>Error</b>: within
 * {@link Sigmoid#MAX_ERROR} of {@code σ} (at most {@value #FIT_ERROR} from the lines, measured on a
 * dense grid by the tests, plus the rounding of the coefficients and the output). Exactly 0 below
 * -8 and 1 from 8 on whatever the magnitude of {@code z}; requires {@code scale + extra <= 56}.
 * <b>Reveals</b> nothing: only masked values cross.
 */
public final class LinearPiecesSigmoid {
  /** Further fractional bits of the slopes. */
  public static final int GUARD = 8;
  /** Comparisons per element. */
  public static final int BREAKS = 27;
  /** Rounds of one call. */
  public static final int ROUNDS = Comparison.ROUNDS + 2;
  /** Largest distance of the lines from {@code σ} between -8 and 8 (the tails: σ(-8) < 3.4e-4). */
  public static final double FIT_ERROR = 5.1e-4;

  /** The breakpoints of the negative half in units of 2^-10; the positive half mirrors them. */
  private static final int[] HALF = {-8192, -5673, -4554, -3821, -3268, -2818, -2432, -2087,
      -1769, -1467, -1169, -862, -519, 0};
  /** The breakpoints, in order. */
  static final double[] BREAKPOINTS = breakpoints();
  /** Intercept and slope of each piece's minimax line, {@code [piece][0..1]}. */
  static final double[][] LINES = lines();

  private LinearPiecesSigmoid() {}

  /**
   * Shares of {@code σ(z / 2^(scale + extra))} at {@code scale} fractional bits.
   *
   * @param scale 12 to 20 fractional bits of the output
   * @param extra the input's further fractional bits ({@code 10 <= scale + extra <= 56})
   */
  public static long[] apply(VectorEngine e, long[] z, int scale, int extra) {
    int zScale = scale + extra;
    if (scale < 12 || scale > 20 || extra < 0 || zScale < 10 || zScale > 56) {
      throw new IllegalArgumentException("the piecewise-linear sigmoid takes outputs at 12 to 20 "
          + "fractional bits and inputs at 10 to 56, not " + scale + " and " + zScale);
    }
    int n = z.length;
    long[] diff = new long[BREAKS * n];
    for (int k = 0; k < BREAKS; k++) {
      long a = e.constant(Math.round(Math.scalb(BREAKPOINTS[k], zScale)));
      for (int i = 0; i < n; i++) {
        diff[k * n + i] = z[i] - a;
      }
    }
    long[] b = e.ltz(diff);
    int slopeBits = scale + GUARD;
    long[] c0 = new long[n];
    long[] c1 = new long[n];
    for (int s = 0; s < BREAKS - 1; s++) {
      long k0 = Math.round(Math.scalb(LINES[s][0], scale));
      long k1 = Math.round(Math.scalb(LINES[s][1], slopeBits));
      int lo = s * n;
      int hi = (s + 1) * n;
      for (int i = 0; i < n; i++) {
        long in = b[hi + i] - b[lo + i]; // [a_s <= x < a_{s+1}]
        c0[i] += in * k0;
        c1[i] += in * k1;
      }
    }
    long one = 1L << scale;
    int last = (BREAKS - 1) * n;
    for (int i = 0; i < n; i++) {
      c0[i] += e.constant(one) - b[last + i] * one; // the right tail
    }
    long[] y = e.mul(c1, z); // at slopeBits + zScale bits: below 2^57 in range, 0 outside
    e.truncate(y, slopeBits + zScale - scale);
    for (int i = 0; i < n; i++) {
      y[i] += c0[i];
    }
    return y;
  }

  /** The plaintext value of this approximation. */
  public static double approximate(double x) {
    if (x < BREAKPOINTS[0]) {
      return 0;
    }
    if (x >= BREAKPOINTS[BREAKS - 1]) {
      return 1;
    }
    int s = 0;
    while (x >= BREAKPOINTS[s + 1]) {
      s++;
    }
    return LINES[s][0] + LINES[s][1] * x;
  }

  private static double[] breakpoints() {
    double[] out = new double[2 * HALF.length - 1];
    for (int i = 0; i < HALF.length; i++) {
      out[out.length - 1 - i] = -Math.scalb((double) HALF[i], -10);
      out[i] = Math.scalb((double) HALF[i], -10);
    }
    return out;
  }

  /**
   * The minimax line of σ on each piece: σ is convex (left of 0) or concave (right of 0) on every
   * piece, so it is the chord moved by half the extreme deviations, found on a grid of 4,096
   * points. {@link StrictMath}, so every party computes the same constants.
   */
  private static double[][] lines() {
    double[][] out = new double[BREAKPOINTS.length - 1][];
    for (int s = 0; s < out.length; s++) {
      double a = BREAKPOINTS[s];
      double b = BREAKPOINTS[s + 1];
      double fa = Sigmoid.exact(a);
      double k = (Sigmoid.exact(b) - fa) / (b - a);
      double lo = 0;
      double hi = 0;
      for (int i = 0; i <= 4096; i++) {
        double x = a + (b - a) * i / 4096;
        double d = Sigmoid.exact(x) - (fa + k * (x - a));
        lo = Math.min(lo, d);
        hi = Math.max(hi, d);
      }
      out[s] = new double[] {fa - k * a + (lo + hi) / 2, k};
    }
    return out;
  }
}
