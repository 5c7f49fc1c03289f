package org.sparkmpc.protocol;

/**
 * Least squares inside MPC, in fixed point: from shares of the augmented Gram matrix
 * {@code ZᵀZ} of {@code Z = [X | y]} (the label as last column; an intercept is a column of ones
 * in {@code X}), shares of the coefficients {@code w} solving {@code XᵀX w = Xᵀy} and of the
 * coefficient of determination R², at scale {@code 2^}{@link #SCALE}. Nothing is opened on the
 * way: every step is a product, a truncation or a public-constant operation on shares.
 *
 * <p>Method: {@code C = XᵀX/n} and {@code v = Xᵀy/n} (a truncation and a product with the public
 * {@code 1/n}); {@code α ≈ 1/trace(C)} by Newton's iteration {@code a ← a(2 - t·a)} from a public
 * start; the inverse of {@code C} by the Newton–Schulz iteration {@code X ← X(2I - CX)} from
 * {@code X = αI}, which converges for any positive definite {@code C} since {@code α < 2/λmax};
 * {@code w = C⁻¹v}. R² is {@code 1 - (yᵀy/n - wᵀv)/(yᵀy/n - ȳ²)}, with the division by the same
 * reciprocal iteration. The iteration counts are public functions of the dimension and of the
 * largest condition number the caller allows ({@code maxCondition}); a worse-conditioned system
 * gives inaccurate coefficients (standardise the features, drop redundant ones).
 *
 * <p>Cost for {@code k} unknowns and {@code I = ceil(log2(15·k·maxCondition))} Newton–Schulz
 * steps: {@code 2I} products of k×k matrices (one matrix triple each with the dealer, {@code k³}
 * Beaver triples otherwise), about {@code 2k²I} truncations, and about {@code 4I + 70} rounds, all
 * of at most {@code 16k²} bytes per message: independent of the number of rows. Requires values of
 * moderate size: entries of {@code ZᵀZ/n} below about {@code 2^10}, as with standardised features
 * and label.
 *
 * <p>{@link #solveChecked} also returns shares of {@code ||I - C·X||²} (Frobenius, at
 * {@code 2·SCALE} bits) for the final inverse {@code X}: 3 rounds more. Of the order of
 * {@code k²·2^-40} when the iteration converged; near 1 or more when the condition number is beyond what
 * {@code maxCondition} allows (a component {@code e^(-15·maxCondition/condition)} of the identity
 * is left), and any ring value when (nearly) collinear features made the iteration overflow. A
 * caller that compares it with a threshold and opens the bit refuses a silently inaccurate solve.
 */
public final class SecureLinearSolve {
  /** Fractional bits of the solve and of its outputs. */
  public static final int SCALE = 20;
  private static final int NORMALISE_BITS = 20;

  private SecureLinearSolve() {}

  /**
   * Run the solve on {@code e}.
   *
   * @param g            shares of the m×m matrix ZᵀZ (row-major), m = k + 1, label last
   * @param m            size of {@code g}
   * @param rows         the public row count n
   * @param inScale      fractional bits of {@code g} (twice the table's scale)
   * @param intercept    index of the column of ones in Z, or -1 (then R² is uncentred)
   * @param maxCondition largest condition number of XᵀX/n handled accurately
   * @return shares of {@code w_0..w_{k-1}} then R², at scale {@link #SCALE}
   */
  public static long[] solve(FixedPointEngine e, long[] g, int m, long rows, int inScale,
      int intercept, double maxCondition) {
    return solve(e, g, m, rows, inScale, intercept, maxCondition, false);
  }

  /**
   * {@link #solve}, then shares of the convergence measure {@code ||I - C·X||²} at
   * {@code 2·SCALE} bits after R² (see the class comment).
   */
  public static long[] solveChecked(FixedPointEngine e, long[] g, int m, long rows, int inScale,
      int intercept, double maxCondition) {
    return solve(e, g, m, rows, inScale, intercept, maxCondition, true);
  }

  private static long[] solve(FixedPointEngine e, long[] g, int m, long rows, int inScale,
      int intercept, double maxCondition, boolean checked) {
    if (m < 2 || g.length != m * m || rows < 1) {
      throw new IllegalArgumentException("need a Gram matrix of at least one feature and a label");
    }
    int k = m - 1;
    int f = SCALE;
    long one = 1L << f;
    // 1. C_full = ZᵀZ / n at scale F: shift by (inScale + s - F) with 2^s >= n, times 2^s/n.
    int s = 64 - Long.numberOfLeadingZeros(rows - 1);
    long[] c = g.clone();
    int shift = inScale + s - f;
    if (shift > 0) {
      e.truncate(c, shift);
    } else if (shift < 0) {
      for (int i = 0; i < c.length; i++) {
        c[i] <<= -shift;
      }
    }
    long mu = Math.round(Math.scalb(1.0, s + NORMALISE_BITS) / rows);
    for (int i = 0; i < c.length; i++) {
      c[i] *= mu;
    }
    e.truncate(c, NORMALISE_BITS);

    long[] cx = new long[k * k];
    long[] v = new long[k];
    for (int i = 0; i < k; i++) {
      System.arraycopy(c, i * m, cx, i * k, k);
      v[i] = c[i * m + k];
    }
    long yy = c[k * m + k];

    // 2. alpha ~ 1/trace(C).
    long trace = 0;
    for (int i = 0; i < k; i++) {
      trace += cx[i * k + i];
    }
    int k0 = 32 - Integer.numberOfLeadingZeros(k - 1) + 7;
    long alpha = reciprocal(e, trace, k0, k0 + 8);

    // 3. Newton–Schulz: X <- X (2I - C X).
    long[] x = new long[k * k];
    for (int i = 0; i < k; i++) {
      x[i * k + i] = alpha;
    }
    int steps = (int) Math.ceil(Math.log(15.0 * k * Math.max(1, maxCondition)) / Math.log(2));
    for (int it = 0; it < steps; it++) {
      long[] p = e.truncate(e.matmul(cx, x, k, k, k), f);
      for (int i = 0; i < p.length; i++) {
        p[i] = -p[i];
      }
      for (int i = 0; i < k; i++) {
        p[i * k + i] += e.constant(2 * one);
      }
      x = e.truncate(e.matmul(x, p, k, k, k), f);
    }

    // 4. w = C^-1 v.
    long[] w = e.truncate(e.matmul(x, v, k, k, 1), f);

    // 5. R² = 1 - SSE/SST, SSE/n = yy - w.v, SST/n = yy - ybar² (uncentred without intercept).
    long[] wv = e.multiply(w, v);
    long[] dot = {0};
    for (long t : wv) {
      dot[0] += t;
    }
    e.truncate(dot, f);
    long sse = yy - dot[0];
    long sst = yy;
    if (intercept >= 0) {
      long[] ybar = {v[intercept]};
      long[] sq = e.truncate(e.multiply(ybar, ybar), f);
      sst -= sq[0];
    }
    long inv = reciprocal(e, sst, 9, 9 + 14);
    long[] ratio = e.truncate(e.multiply(new long[] {sse}, new long[] {inv}), f);
    long r2 = e.constant(one) - ratio[0];

    long[] out = new long[checked ? k + 2 : k + 1];
    System.arraycopy(w, 0, out, 0, k);
    out[k] = r2;
    if (checked) {
      long[] res = e.truncate(e.matmul(cx, x, k, k, k), f);
      for (int i = 0; i < res.length; i++) {
        res[i] = -res[i];
      }
      for (int i = 0; i < k; i++) {
        res[i * k + i] += e.constant(one);
      }
      for (long sq : e.multiply(res, res)) {
        out[k + 1] += sq;
      }
    }
    return out;
  }

  /**
   * Shares of {@code 1/t} at scale {@link #SCALE} by Newton's iteration from the public start
   * {@code 2^-k0}; converges for {@code 0 < t < 2^(k0+1)}, to full precision after about
   * {@code k0 - log2(t) + 5} steps.
   */
  static long reciprocal(FixedPointEngine e, long t, int k0, int steps) {
    int f = SCALE;
    long[] y = {e.constant(1L << (f - k0))};
    long[] tt = {t};
    for (int i = 0; i < steps; i++) {
      long[] u = e.truncate(e.multiply(tt, y), f);
      long[] twoMinus = {e.constant(2L << f) - u[0]};
      y = e.truncate(e.multiply(y, twoMinus), f);
    }
    return y[0];
  }
}
