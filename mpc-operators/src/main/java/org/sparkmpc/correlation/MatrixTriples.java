package org.sparkmpc.correlation;

/**
 * This party's shares of {@code count} matrix triples {@code C = A B} with {@code A} of p×q and
 * {@code B} of q×r, all row-major and concatenated (triple {@code t}'s {@code A} starts at
 * {@code t*p*q}). Shares are secret: never log or send them.
 */
public record MatrixTriples(long[] a, long[] b, long[] c, int count, int p, int q, int r) {
  public MatrixTriples {
    if (a.length != (long) count * p * q || b.length != (long) count * q * r
        || c.length != (long) count * p * r) {
      throw new IllegalArgumentException("matrix triple arrays do not match their shape");
    }
  }

  @Override
  public String toString() {
    return "MatrixTriples(" + count + " of " + p + "x" + q + "x" + r + ")";
  }
}
