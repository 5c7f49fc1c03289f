package org.sparkmpc.protocol;

/**
 * The logistic function {@code σ(x) = 1 / (1 + e^-x)} on shared fixed-point values, as a
 * piecewise cubic: on each of the pieces {@code [-8,-4), [-4,-2), [-2,0), [0,2), [2,4), [4,8)} a
 * cubic interpolating σ at the piece's four Chebyshev nodes, 0 below -8 and 1 from 8 on.
 *
 * <p><b>Error</b>: at most {@value #MAX_ERROR} from the exact σ for every input in the ring, for
 * input scales of 12 to 20 fractional bits (at most 5.97e-4 from the cubics, measured on a grid of
 * 10⁵ points per piece by {@code SigmoidTest}; at most 3.36e-4 in the tails, σ(-8); at most
 * 2^-scale from the output's rounding and a few units of 2^-(scale+8) inside). The output is
 * exactly 0 below -8 and 1 from 8 on, whatever the input's magnitude: the comparisons are exact
 * over the whole ring, and the cubics, evaluated on garbage when the input is out of range, are
 * multiplied by a zero indicator.
 *
 * <p><b>Method</b>: the piece of each element comes from {@value #BREAKS} comparisons with the
 * breakpoints ({@code b_k = [x < a_k]}, one batched {@link Comparison#ltz}); the coefficients of
 * its cubic, {@code C_j = Σ_s (b_{s+1} - b_s) c_js} (plus 1 for the right tail), are local linear
 * combinations of the bits; then {@code ((C_3 x + C_2) x² + C_1 x + C_0)} in two products. The
 * polynomial is evaluated at 8 more fractional bits than the input and rounded once at the end.
 *
 * <p><b>Cost per element</b>: {@value #ROUNDS} rounds per batch (x²: 2, comparisons: {@value
 * Comparison#ROUNDS}, two products with their truncations: 4); {@value #BREAKS} comparisons, 4
 * Beaver products and 3 truncations; bytes to each other party about {@value #BREAKS}·37.6 +
 * 4·16 + 3·8 = 351. Reveals nothing: only masked values cross.
 */
public final class Sigmoid {
  /** Documented bound on {@code |sigmoid(x) - σ(x)|}. */
  public static final double MAX_ERROR = 7e-4;
  /** The breakpoints, in order. */
  static final double[] BREAKPOINTS = {-8, -4, -2, 0, 2, 4, 8};
  /** Comparisons per element. */
  public static final int BREAKS = 7;
  /** Rounds of one call. */
  public static final int ROUNDS = 2 + Comparison.ROUNDS + 4;
  /** Extra fractional bits of the evaluation. */
  private static final int GUARD = 8;
  /** Cubic coefficients (power basis in x) of each piece, {@code [piece][j]}. */
  static final double[][] CUBICS = cubics();

  private Sigmoid() {}

  /**
   * Shares of {@code σ(x)} at {@code scale} fractional bits, for shares {@code x} at the same
   * scale ({@code 12 <= scale <= 20}).
   */
  public static long[] apply(VectorEngine e, long[] x, int scale) {
    if (scale < 12 || scale > 20) {
      throw new IllegalArgumentException("the sigmoid takes inputs at 12 to 20 fractional bits, "
          + "not " + scale);
    }
    int n = x.length;
    int inner = scale + GUARD;
    long[] xs = new long[n];
    for (int i = 0; i < n; i++) {
      xs[i] = x[i] << GUARD;
    }
    long[] x2 = e.mulTrunc(xs, xs, inner);
    // b_k = [x < a_k], all breakpoints in one batch
    long[] diff = new long[BREAKS * n];
    for (int k = 0; k < BREAKS; k++) {
      long a = e.constant(Math.round(Math.scalb(BREAKPOINTS[k], scale)));
      for (int i = 0; i < n; i++) {
        diff[k * n + i] = x[i] - a;
      }
    }
    long[] b = e.ltz(diff);
    long[][] c = pieceCoefficients(e, b, n, scale, inner);
    long[] p = e.mulTrunc(c[3], xs, inner); // C3·x at the inner scale
    for (int i = 0; i < n; i++) {
      p[i] += c[2][i];
    }
    long[] left = new long[2 * n];
    long[] right = new long[2 * n];
    System.arraycopy(p, 0, left, 0, n);
    System.arraycopy(c[1], 0, left, n, n);
    System.arraycopy(x2, 0, right, 0, n);
    System.arraycopy(xs, 0, right, n, n);
    long[] prod = e.mul(left, right); // (C3 x + C2)·x² and C1·x, both at 2·inner
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = prod[i] + prod[n + i];
    }
    e.truncate(out, 2 * inner - scale);
    for (int i = 0; i < n; i++) {
      out[i] += c[0][i];
    }
    return out;
  }

  /**
   * Shares of each element's cubic coefficients {@code C_0..C_3} from the comparison bits {@code
   * b} ({@code b[k·n + i] = [x_i < a_k]}): {@code C_0} at {@code scale} bits (with the right
   * tail's 1), the others at {@code inner} bits. Local.
   */
  static long[][] pieceCoefficients(VectorEngine e, long[] b, int n, int scale, int inner) {
    long[][] c = new long[4][n];
    long[][] cInner = coefficients(inner);
    long[][] cOut = coefficients(scale);
    for (int s = 0; s < BREAKS - 1; s++) {
      int lo = s * n;
      int hi = (s + 1) * n;
      for (int j = 0; j < 4; j++) {
        long cj = (j == 0 ? cOut : cInner)[s][j];
        if (cj == 0) {
          continue;
        }
        long[] cj4 = c[j];
        for (int i = 0; i < n; i++) {
          cj4[i] += (b[hi + i] - b[lo + i]) * cj;
        }
      }
    }
    long one = 1L << scale;
    int last = (BREAKS - 1) * n;
    for (int i = 0; i < n; i++) {
      c[0][i] += e.constant(one) - b[last + i] * one; // the right tail: 1 - b_last
    }
    return c;
  }

  /** The cubics' coefficients at {@code bits} fractional bits, {@code [piece][j]}. */
  private static long[][] coefficients(int bits) {
    long[][] out = new long[CUBICS.length][4];
    for (int s = 0; s < CUBICS.length; s++) {
      for (int j = 0; j < 4; j++) {
        out[s][j] = Math.round(Math.scalb(CUBICS[s][j], bits));
      }
    }
    return out;
  }

  /** The exact logistic function, with {@link StrictMath} so every party computes alike. */
  static double exact(double x) {
    return 1 / (1 + StrictMath.exp(-x));
  }

  /**
   * Interpolate σ at the four Chebyshev nodes of each piece (a 4x4 Vandermonde solve in
   * doubles). Every party computes the same constants: {@code StrictMath} and Java's strict
   * floating point give bit-identical results on every JVM.
   */
  private static double[][] cubics() {
    double[][] out = new double[BREAKPOINTS.length - 1][];
    for (int s = 0; s < out.length; s++) {
      double a = BREAKPOINTS[s];
      double b = BREAKPOINTS[s + 1];
      double[][] m = new double[4][5];
      for (int k = 0; k < 4; k++) {
        double t = (a + b) / 2 + (b - a) / 2 * StrictMath.cos((2 * k + 1) * StrictMath.PI / 8);
        double pw = 1;
        for (int j = 0; j < 4; j++) {
          m[k][j] = pw;
          pw *= t;
        }
        m[k][4] = exact(t);
      }
      for (int col = 0; col < 4; col++) {
        int piv = col;
        for (int r = col + 1; r < 4; r++) {
          if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) {
            piv = r;
          }
        }
        double[] tmp = m[col];
        m[col] = m[piv];
        m[piv] = tmp;
        for (int r = 0; r < 4; r++) {
          if (r != col) {
            double f = m[r][col] / m[col][col];
            for (int k = col; k < 5; k++) {
              m[r][k] -= f * m[col][k];
            }
          }
        }
      }
      out[s] = new double[] {m[0][4] / m[0][0], m[1][4] / m[1][1], m[2][4] / m[2][2],
          m[3][4] / m[3][3]};
    }
    return out;
  }

  /** The plaintext value of this approximation (for tests and the plaintext model's checks). */
  public static double approximate(double x) {
    if (x < BREAKPOINTS[0]) {
      return 0;
    }
    if (x >= BREAKPOINTS[BREAKPOINTS.length - 1]) {
      return 1;
    }
    int s = 0;
    while (x >= BREAKPOINTS[s + 1]) {
      s++;
    }
    double[] c = CUBICS[s];
    return ((c[3] * x + c[2]) * x + c[1]) * x + c[0];
  }
}
