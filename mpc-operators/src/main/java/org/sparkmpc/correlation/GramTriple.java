package org.sparkmpc.correlation;

/**
 * This party's shares of a Gram triple for an n×m block: a uniformly random {@code A} (n×m, stored
 * column by column, column {@code i} at {@code i·n}) and {@code C = AᵀA} (m×m, row-major). Shares are secret: never log or send them.
 */
public record GramTriple(long[] a, long[] c, int rows, int cols) {
  public GramTriple {
    if (a.length != (long) rows * cols || c.length != (long) cols * cols) {
      throw new IllegalArgumentException("Gram triple arrays do not match their shape");
    }
  }

  @Override
  public String toString() {
    return "GramTriple(" + rows + "x" + cols + ")";
  }
}
