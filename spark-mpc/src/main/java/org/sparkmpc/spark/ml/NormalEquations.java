package org.sparkmpc.spark.ml;

import java.math.BigInteger;

/**
 * Solves the small dense system {@code G w = b} of the normal equations in plaintext, at a recipient
 * of opened aggregates (Gaussian elimination with partial pivoting). A singular system is refused.
 */
public final class NormalEquations {
  private NormalEquations() {}

  /**
   * Least squares with an intercept from an opened augmented Gram matrix
   * {@code [X, 1, y]ᵀ[X, 1, y]} (aug×aug, row-major, at {@code scale} bits; the sums in the column of ones): the cross-products
   * are centred exactly in integers ({@code n·G_ij - s_i·s_j}), the system is standardised to
   * correlations and solved, and the solution returned to the original scale.
   *
   * @return the d coefficients, the intercept, then R²
   */
  static double[] centred(long[] open, int aug, int scale, long n) {
    int d = aug - 2;
    int one = d;
    int[] at = new int[d + 1];
    for (int i = 0; i < d; i++) {
      at[i] = i;
    }
    at[d] = aug - 1; // the label
    BigInteger bn = BigInteger.valueOf(n);
    double[][] c = new double[d + 1][d + 1]; // n² · covariance, at 2·scale bits, then rescaled
    double[] mean = new double[d + 1];
    for (int i = 0; i <= d; i++) {
      BigInteger si = BigInteger.valueOf(open[at[i] * aug + one]);
      mean[i] = Math.scalb(si.doubleValue(), -scale) / n;
      for (int j = 0; j <= d; j++) {
        BigInteger sj = BigInteger.valueOf(open[at[j] * aug + one]);
        BigInteger g = BigInteger.valueOf(open[at[i] * aug + at[j]]);
        c[i][j] = Math.scalb(g.multiply(bn).shiftLeft(scale).subtract(si.multiply(sj))
            .doubleValue(), -2 * scale);
      }
    }
    double[] sd = new double[d + 1];
    for (int i = 0; i <= d; i++) {
      if (!(c[i][i] > 0)) {
        throw new org.sparkmpc.MpcInputException("a column has no spread: "
            + (i == d ? "the label" : "feature " + (i + 1)) + " is constant");
      }
      sd[i] = Math.sqrt(c[i][i]);
    }
    double[][] r = new double[d][d];
    double[] v = new double[d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        r[i][j] = c[i][j] / (sd[i] * sd[j]);
      }
      v[i] = c[i][d] / (sd[i] * sd[d]);
    }
    double[] beta = solve(r, v);
    double[] out = new double[d + 2];
    double explained = 0;
    out[d] = mean[d];
    for (int j = 0; j < d; j++) {
      out[j] = beta[j] * sd[d] / sd[j];
      out[d] -= out[j] * mean[j];
      explained += beta[j] * v[j];
    }
    out[d + 1] = explained;
    return out;
  }

  /** The solution {@code w} of {@code G w = b}; {@code g} and {@code b} are not modified. */
  public static double[] solve(double[][] g, double[] b) {
    int m = b.length;
    double[][] a = new double[m][m + 1];
    for (int i = 0; i < m; i++) {
      System.arraycopy(g[i], 0, a[i], 0, m);
      a[i][m] = b[i];
    }
    for (int c = 0; c < m; c++) {
      int pivot = c;
      for (int r = c + 1; r < m; r++) {
        if (Math.abs(a[r][c]) > Math.abs(a[pivot][c])) {
          pivot = r;
        }
      }
      if (Math.abs(a[pivot][c]) < 1e-12) {
        throw new org.sparkmpc.MpcInputException("the features are linearly dependent (XᵀX is "
            + "singular); drop a redundant feature");
      }
      double[] t = a[c];
      a[c] = a[pivot];
      a[pivot] = t;
      for (int r = 0; r < m; r++) {
        if (r != c) {
          double f = a[r][c] / a[c][c];
          for (int k = c; k <= m; k++) {
            a[r][k] -= f * a[c][k];
          }
        }
      }
    }
    double[] w = new double[m];
    for (int i = 0; i < m; i++) {
      w[i] = a[i][m] / a[i][i];
    }
    return w;
  }
}
