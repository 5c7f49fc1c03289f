package org.sparkmpc.spark.ml;

/**
 * Solves the small dense system {@code G w = b} of the normal equations in plaintext, at a recipient
 * of opened aggregates (Gaussian elimination with partial pivoting). A singular system is refused.
 */
public final class NormalEquations {
  private NormalEquations() {}

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
