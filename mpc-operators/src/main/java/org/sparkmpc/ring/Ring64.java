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
}
