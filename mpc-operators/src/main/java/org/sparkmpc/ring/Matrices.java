package org.sparkmpc.ring;

/**
 * Dense matrix arithmetic in Z(2^64) on row-major {@code long[]} blocks: the local parts of the
 * matrix-triple protocols and of the dealer. No allocation in the inner loops.
 */
public final class Matrices {
  private Matrices() {}

  /** {@code c[cOff..] += A·B} for {@code A} p×q at {@code aOff} and {@code B} q×r at {@code bOff}. */
  public static void multiplyAdd(long[] a, int aOff, long[] b, int bOff, long[] c, int cOff, int p,
      int q, int r) {
    for (int i = 0; i < p; i++) {
      int ci = cOff + i * r;
      for (int k = 0; k < q; k++) {
        long aik = a[aOff + i * q + k]; // no skip of zeros: the operands are often secret shares
        int bk = bOff + k * r;
        for (int j = 0; j < r; j++) {
          c[ci + j] += aik * b[bk + j];
        }
      }
    }
  }

  /**
   * {@code AᵀA} (cols×cols, row-major) of {@code A} rows×cols stored column by column (column
   * {@code i} at {@code i·rows}). Cost: rows·cols²/2 multiply-adds.
   */
  public static long[] gram(long[] a, int rows, int cols) {
    long[] g = new long[cols * cols];
    for (int i = 0; i < cols; i++) {
      for (int j = i; j < cols; j++) {
        g[i * cols + j] = dot(a, i * rows, a, j * rows, rows);
      }
    }
    mirror(g, cols);
    return g;
  }

  /**
   * {@code out += EᵀA + AᵀE} (cols×cols, row-major) for {@code E} and {@code A} rows×cols stored
   * column by column. Cost: rows·cols² multiply-adds.
   */
  public static void crossGramAdd(long[] e, long[] a, int rows, int cols, long[] out) {
    for (int i = 0; i < cols; i++) {
      for (int j = 0; j < cols; j++) {
        long s = dot(e, i * rows, a, j * rows, rows);
        out[i * cols + j] += s;
        out[j * cols + i] += s;
      }
    }
  }

  /** {@code sum_t x[xOff+t] * y[yOff+t]} over {@code n} elements. */
  public static long dot(long[] x, int xOff, long[] y, int yOff, int n) {
    long s0 = 0;
    long s1 = 0;
    int t = 0;
    for (; t + 1 < n; t += 2) {
      s0 += x[xOff + t] * y[yOff + t];
      s1 += x[xOff + t + 1] * y[yOff + t + 1];
    }
    if (t < n) {
      s0 += x[xOff + t] * y[yOff + t];
    }
    return s0 + s1;
  }

  /** Copy the upper triangle of a square matrix onto the lower one. */
  static void mirror(long[] g, int cols) {
    for (int i = 0; i < cols; i++) {
      for (int j = 0; j < i; j++) {
        g[i * cols + j] = g[j * cols + i];
      }
    }
  }
}
