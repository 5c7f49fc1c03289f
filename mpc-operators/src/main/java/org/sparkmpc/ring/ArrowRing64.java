package org.sparkmpc.ring;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.util.MemoryUtil;

/**
 * The grouped sums of {@link Ring64} read straight from Arrow data buffers (a {@code BigIntVector}'s
 * little-endian longs, an {@code IntVector}'s ints) in place, without copying a column to the heap.
 * Each kernel checks once that the buffer is open and long enough, then reads by address. Local:
 * no rounds, no bytes on the network, nothing revealed.
 *
 * <p>The caller keeps the buffer's owner (the vector, the partition that frees it) reachable and
 * open for the call: the kernels do not take a reference of their own.
 */
public final class ArrowRing64 {
  private ArrowRing64() {}

  private static long address(ArrowBuf buf, long bytes) {
    if (buf.refCnt() <= 0) {
      throw new IllegalStateException("the Arrow buffer was already freed");
    }
    if (buf.capacity() < bytes) {
      throw new IllegalArgumentException("Arrow buffer of " + buf.capacity()
          + " bytes read for " + bytes);
    }
    return buf.memoryAddress();
  }

  /** {@code acc[group[i]] += values[i]} for {@code i < n}: {@link Ring64#groupSum} on a buffer. */
  public static void groupSum(ArrowBuf values, int[] group, int n, long[] acc) {
    long a = address(values, 8L * n);
    for (int i = 0; i < n; i++) {
      acc[group[i]] += MemoryUtil.getLong(a + 8L * i);
    }
  }

  /** {@link Ring64#groupSum128} with the low and high words in buffers. */
  public static void groupSum128(ArrowBuf lo, ArrowBuf hi, int[] group, int n, long[] accLo,
      long[] accHi) {
    long l = address(lo, 8L * n);
    long h = address(hi, 8L * n);
    for (int i = 0; i < n; i++) {
      int g = group[i];
      long a = accLo[g];
      long s = a + MemoryUtil.getLong(l + 8L * i);
      accLo[g] = s;
      accHi[g] += MemoryUtil.getLong(h + 8L * i) + (Long.compareUnsigned(s, a) < 0 ? 1 : 0);
    }
  }

  /** {@link Ring64#groupSumCarry} with the 64-bit values in a buffer. */
  public static void groupSumCarry(ArrowBuf lo, int[] group, int n, long[] accLo, long[] accHi) {
    long l = address(lo, 8L * n);
    for (int i = 0; i < n; i++) {
      int g = group[i];
      long a = accLo[g];
      long s = a + MemoryUtil.getLong(l + 8L * i);
      accLo[g] = s;
      accHi[g] += Long.compareUnsigned(s, a) < 0 ? 1 : 0;
    }
  }

  /**
   * Mixed-radix group ids: {@code gid[i] = gid[i] * radix + codes[i]} for {@code i < n}, with the
   * codes an {@code IntVector}'s buffer (the public key columns of a grouped aggregate).
   */
  public static void mixRadix(ArrowBuf codes, int radix, int[] gid, int n) {
    long c = address(codes, 4L * n);
    for (int i = 0; i < n; i++) {
      gid[i] = gid[i] * radix + MemoryUtil.getInt(c + 4L * i);
    }
  }
}
