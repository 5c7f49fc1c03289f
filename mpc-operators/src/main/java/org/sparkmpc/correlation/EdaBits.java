package org.sparkmpc.correlation;

/**
 * This party's shares of {@code n} edaBits: random {@code r} uniform in Z(2^64), shared twice, as
 * additive shares {@code r[i]} (summing to {@code r} mod 2^64) and as XOR shares {@code bits[i]}
 * (XORing to the 64-bit word of {@code r}). Used to open {@code x + r} and finish an
 * arithmetic-to-boolean conversion on the public sum and the boolean bits of {@code r}. Shares are
 * secret: never log or send them.
 */
public record EdaBits(long[] r, long[] bits) {
  public EdaBits {
    if (r.length != bits.length) {
      throw new IllegalArgumentException("edaBit arrays must have equal lengths, were " + r.length
          + " and " + bits.length);
    }
  }

  public int size() {
    return r.length;
  }

  @Override
  public String toString() {
    return "EdaBits(" + r.length + ")";
  }
}
