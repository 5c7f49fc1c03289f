package org.sparkmpc.protocol;

import java.util.Arrays;

/**
 * Chi-square tests for the statistical kernel tests, without a statistics library: goodness of fit
 * against given probabilities, independence in a two-row contingency table, and the p-value from
 * the regularized upper incomplete gamma function {@code Q(df/2, x/2)}.
 */
final class ChiSquare {
  private ChiSquare() {}

  /** The p-value of a goodness-of-fit test of {@code observed} counts against {@code probs}. */
  static double fit(long[] observed, double[] probs) {
    long n = Arrays.stream(observed).sum();
    double x = 0;
    for (int k = 0; k < observed.length; k++) {
      double e = n * probs[k];
      x += (observed[k] - e) * (observed[k] - e) / e;
    }
    return pValue(x, observed.length - 1);
  }

  /**
   * The p-value of an independence test on a table of two rows (groups) and {@code k} columns
   * (bins); columns empty in both rows are dropped.
   */
  static double independence(long[] a, long[] b) {
    long na = Arrays.stream(a).sum();
    long nb = Arrays.stream(b).sum();
    double n = na + nb;
    double x = 0;
    int cols = 0;
    for (int k = 0; k < a.length; k++) {
      long col = a[k] + b[k];
      if (col == 0) {
        continue;
      }
      cols++;
      double ea = na * col / n;
      double eb = nb * col / n;
      x += (a[k] - ea) * (a[k] - ea) / ea + (b[k] - eb) * (b[k] - eb) / eb;
    }
    return pValue(x, cols - 1);
  }

  /** {@code P(χ²_df >= x)}. */
  static double pValue(double x, int df) {
    if (df < 1) {
      throw new IllegalArgumentException("a chi-square test with " + df + " degrees of freedom");
    }
    return upperGamma(df / 2.0, x / 2.0);
  }

  /** The regularized upper incomplete gamma function {@code Q(a, x)}. */
  static double upperGamma(double a, double x) {
    if (x <= 0) {
      return 1;
    }
    double front = Math.exp(-x + a * Math.log(x) - logGamma(a));
    if (x < a + 1) { // the series of the lower function converges fast here
      double term = 1 / a;
      double sum = term;
      for (int n = 1; n < 10_000 && term > sum * 1e-16; n++) {
        term *= x / (a + n);
        sum += term;
      }
      return Math.max(0, 1 - front * sum);
    }
    // the continued fraction of the upper function (modified Lentz)
    double tiny = 1e-300;
    double b = x + 1 - a;
    double c = 1 / tiny;
    double d = 1 / b;
    double h = d;
    for (int i = 1; i < 10_000; i++) {
      double an = -i * (i - a);
      b += 2;
      d = an * d + b;
      d = Math.abs(d) < tiny ? tiny : d;
      c = b + an / c;
      c = Math.abs(c) < tiny ? tiny : c;
      d = 1 / d;
      double delta = d * c;
      h *= delta;
      if (Math.abs(delta - 1) < 1e-16) {
        break;
      }
    }
    return front * h;
  }

  /** {@code ln Γ(a)} for {@code a > 0} (Lanczos, g = 7, 9 terms; about 15 digits). */
  static double logGamma(double a) {
    if (a < 0.5) {
      return Math.log(Math.PI / Math.sin(Math.PI * a)) - logGamma(1 - a);
    }
    double[] g = {0.99999999999980993, 676.5203681218851, -1259.1392167224028,
        771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
        9.9843695780195716e-6, 1.5056327351493116e-7};
    double z = a - 1;
    double s = g[0];
    for (int i = 1; i < g.length; i++) {
      s += g[i] / (z + i);
    }
    double t = z + 7.5;
    return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
  }
}
