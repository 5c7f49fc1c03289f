package org.sparkmpc.correlation;

/**
 * This party's shares of {@code n} Beaver triples: {@code a[i]}, {@code b[i]}, {@code c[i]}, with
 * the sums over all computing parties satisfying {@code c = a * b} in Z(2^64). Shares are secret:
 * never log or send them.
 */
public record BeaverTriples(long[] a, long[] b, long[] c) {
  public BeaverTriples {
    if (a.length != b.length || b.length != c.length) {
      throw new IllegalArgumentException("triple share arrays must have equal lengths");
    }
  }

  public int size() {
    return a.length;
  }

  @Override
  public String toString() {
    return "BeaverTriples(" + a.length + ")";
  }
}
