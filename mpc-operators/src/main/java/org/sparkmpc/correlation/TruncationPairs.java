package org.sparkmpc.correlation;

/**
 * This party's shares of {@code n} truncation pairs for a shift of {@code f} bits: a uniformly
 * random {@code r} in Z(2^64), {@code r >>> f} (the unsigned shift) and the top bit of {@code r}
 * (0 or 1, as a ring element). Shares are secret: never log or send them.
 */
public record TruncationPairs(long[] r, long[] shifted, long[] msb, int f) {
  public TruncationPairs {
    if (r.length != shifted.length || r.length != msb.length) {
      throw new IllegalArgumentException("truncation pair arrays must have equal lengths");
    }
  }

  public int size() {
    return r.length;
  }

  @Override
  public String toString() {
    return "TruncationPairs(" + r.length + ", f=" + f + ")";
  }
}
