package org.sparkmpc.correlation;

/**
 * This party's shares of {@code n} daBits: random bits {@code b} in {0, 1}, each shared twice, as
 * additive shares in Z(2^64) ({@code arith[i]}, summing to {@code b_i}) and as XOR shares packed 64
 * to a word ({@code bits}, bit {@code i % 64} of word {@code i / 64}; the bits of the last word
 * beyond {@code n} are not part of the batch). Used to convert XOR-shared bits to arithmetic
 * shares. Shares are secret: never log or send them.
 */
public record DaBits(long[] arith, long[] bits) {
  public DaBits {
    if (bits.length != words(arith.length)) {
      throw new IllegalArgumentException("daBits: " + arith.length + " arithmetic shares need "
          + words(arith.length) + " packed words, got " + bits.length);
    }
  }

  /** Packed words of {@code n} bits. */
  public static int words(int n) {
    return (n + 63) >>> 6;
  }

  public int size() {
    return arith.length;
  }

  @Override
  public String toString() {
    return "DaBits(" + arith.length + ")";
  }
}
