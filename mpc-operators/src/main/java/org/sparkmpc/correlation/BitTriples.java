package org.sparkmpc.correlation;

/**
 * This party's XOR shares of {@code n} words of boolean Beaver triples, 64 AND gates per word:
 * {@code a[i]}, {@code b[i]}, {@code c[i]}, with the XOR over all computing parties satisfying
 * {@code c = a & b} bitwise. Shares are secret: never log or send them.
 */
public record BitTriples(long[] a, long[] b, long[] c) {
  public BitTriples {
    if (a.length != b.length || b.length != c.length) {
      throw new IllegalArgumentException("boolean triple arrays must have equal lengths, were "
          + a.length + ", " + b.length + ", " + c.length);
    }
  }

  /** Words (64 gates each). */
  public int size() {
    return a.length;
  }

  @Override
  public String toString() {
    return "BitTriples(" + a.length + " words)";
  }
}
