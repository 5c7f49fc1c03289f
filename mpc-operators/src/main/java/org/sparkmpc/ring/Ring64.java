package org.sparkmpc.ring;

/**
 * Batch arithmetic in the ring Z(2^64): a ring element is a Java {@code long} and overflow wraps,
 * which is exactly reduction mod 2^64. Every method works on whole primitive arrays (no boxing, no
 * per-element objects) so the JIT can vectorise the loops. All operations are local: no rounds, no
 * bytes on the network, nothing revealed.
 */
public final class Ring64 {
  private Ring64() {}

  /** {@code dst[i] += src[i]} for {@code i < n}. */
  public static void addInPlace(long[] dst, long[] src, int n) {
    for (int i = 0; i < n; i++) {
      dst[i] += src[i];
    }
  }

  /** {@code dst[i] -= src[i]} for {@code i < n}. */
  public static void subInPlace(long[] dst, long[] src, int n) {
    for (int i = 0; i < n; i++) {
      dst[i] -= src[i];
    }
  }

  /** {@code dst[i] *= c} (multiplication by a public ring constant). */
  public static void mulPublicInPlace(long[] dst, long c, int n) {
    for (int i = 0; i < n; i++) {
      dst[i] *= c;
    }
  }

  /** {@code dst[i] = -dst[i]}. */
  public static void negInPlace(long[] dst, int n) {
    for (int i = 0; i < n; i++) {
      dst[i] = -dst[i];
    }
  }

  /** Sum of {@code a[0..n)} in the ring. */
  public static long sum(long[] a, int n) {
    long s = 0;
    for (int i = 0; i < n; i++) {
      s += a[i];
    }
    return s;
  }

  /**
   * Grouped sum: {@code acc[group[i]] += values[i]} for {@code i < n}. The local step of a secure
   * SUM grouped by a public key: each party runs it on its own shares.
   */
  public static void groupSum(long[] values, int[] group, int n, long[] acc) {
    for (int i = 0; i < n; i++) {
      acc[group[i]] += values[i];
    }
  }

  /**
   * SUM grouped by a public key over wide (128-bit) shares, each element a low and a high word:
   * {@code (accHi[g], accLo[g]) += (hi[i], lo[i])} with the carry, for {@code g = group[i]}. Exact
   * for any total of 64-bit values that fits in 128 bits.
   */
  public static void groupSum128(long[] lo, long[] hi, int[] group, int n, long[] accLo,
      long[] accHi) {
    for (int i = 0; i < n; i++) {
      int g = group[i];
      long a = accLo[g];
      long s = a + lo[i];
      accLo[g] = s;
      accHi[g] += hi[i] + (Long.compareUnsigned(s, a) < 0 ? 1 : 0);
    }
  }

  /**
   * SUM grouped by a public key of 64-bit values read as non-negative 128-bit integers (a peer's
   * part of a wide share, whose high word is 0): {@code (accHi[g], accLo[g]) += lo[i]}.
   */
  public static void groupSumCarry(long[] lo, int[] group, int n, long[] accLo, long[] accHi) {
    for (int i = 0; i < n; i++) {
      int g = group[i];
      long a = accLo[g];
      long s = a + lo[i];
      accLo[g] = s;
      accHi[g] += Long.compareUnsigned(s, a) < 0 ? 1 : 0;
    }
  }

  /** {@code (accHi, accLo) += (hi, lo)} elementwise, with the carry: merging wide partial sums. */
  public static void add128(long[] accLo, long[] accHi, long[] lo, long[] hi, int n) {
    for (int i = 0; i < n; i++) {
      long a = accLo[i];
      long s = a + lo[i];
      accLo[i] = s;
      accHi[i] += hi[i] + (Long.compareUnsigned(s, a) < 0 ? 1 : 0);
    }
  }

  /** {@code (hi, lo) = -(hi, lo)} elementwise, in 128 bits. */
  public static void neg128(long[] lo, long[] hi, int n) {
    for (int i = 0; i < n; i++) {
      hi[i] = ~hi[i] + (lo[i] == 0 ? 1 : 0);
      lo[i] = -lo[i];
    }
  }

  /** The signed 128-bit integer with words {@code hi} and {@code lo}. */
  public static java.math.BigInteger toBigInteger(long hi, long lo) {
    return java.math.BigInteger.valueOf(hi).shiftLeft(64)
        .add(new java.math.BigInteger(Long.toUnsignedString(lo)));
  }

  /**
   * The least bound on the magnitudes of {@code v[0..n)}: every {@code |v[i]| < 2^bits}, the bit
   * length of the largest magnitude (the OR of the magnitudes has the same bit length). 64 if a value
   * is {@code Long.MIN_VALUE}, whose magnitude wraps to itself.
   */
  public static int magnitudeBits(long[] v, int n) {
    long acc = 0;
    for (int i = 0; i < n; i++) {
      long x = v[i];
      long sign = x >> 63;
      acc |= (x ^ sign) - sign;
    }
    return 64 - Long.numberOfLeadingZeros(acc);
  }
}
