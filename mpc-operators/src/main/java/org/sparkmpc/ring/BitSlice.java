package org.sparkmpc.ring;

/**
 * Bit-slicing of 64-bit words, 64 elements at a time: the words of a block of 64 elements become
 * 64 bit planes, plane {@code j} holding bit {@code j} of every element of the block (element
 * {@code k} of the block at bit {@code k}). A boolean circuit evaluated on planes does one word
 * operation for 64 elements, so the gates of one circuit level pack densely across elements
 * whatever the number of gates per element.
 *
 * <p>Layout of the planes of {@code n} elements in {@code B = blocks(n)} blocks: plane-major,
 * word {@code j * B + b} is plane {@code j} of block {@code b}. Elements past {@code n} in the
 * last block read as zero.
 */
public final class BitSlice {
  private BitSlice() {}

  /** Blocks of 64 elements that hold {@code n} elements. */
  public static int blocks(int n) {
    return (n + 63) >>> 6;
  }

  /** The 64 planes of {@code words[0..n)}, plane-major ({@code long[64 * blocks(n)]}). */
  public static long[] toPlanes(long[] words, int n) {
    int nb = blocks(n);
    long[] planes = new long[64 * nb];
    long[] block = new long[64];
    for (int b = 0; b < nb; b++) {
      int from = 64 * b;
      int take = Math.min(64, n - from);
      System.arraycopy(words, from, block, 0, take);
      if (take < 64) {
        java.util.Arrays.fill(block, take, 64, 0L);
      }
      transpose64(block);
      for (int j = 0; j < 64; j++) {
        planes[j * nb + b] = block[j];
      }
    }
    return planes;
  }

  /** The words of {@code n} elements from their planes (the inverse of {@link #toPlanes}). */
  public static long[] fromPlanes(long[] planes, int n) {
    int nb = blocks(n);
    if (planes.length != 64 * nb) {
      throw new IllegalArgumentException(planes.length + " plane words for " + n
          + " elements; expected " + 64 * nb);
    }
    long[] words = new long[n];
    long[] block = new long[64];
    for (int b = 0; b < nb; b++) {
      for (int j = 0; j < 64; j++) {
        block[j] = planes[j * nb + b];
      }
      transpose64(block);
      int from = 64 * b;
      System.arraycopy(block, 0, words, from, Math.min(64, n - from));
    }
    return words;
  }

  /**
   * In-place transpose of a 64x64 bit matrix: bit {@code c} of {@code a[r]} swaps with bit
   * {@code r} of {@code a[c]}.
   */
  public static void transpose64(long[] a) {
    stage(a, 32, 0x00000000FFFFFFFFL);
    stage(a, 16, 0x0000FFFF0000FFFFL);
    stage(a, 8, 0x00FF00FF00FF00FFL);
    stage(a, 4, 0x0F0F0F0F0F0F0F0FL);
    stage(a, 2, 0x3333333333333333L);
    stage(a, 1, 0x5555555555555555L);
  }

  /** Swap the off-diagonal {@code j x j} blocks of every {@code 2j x 2j} diagonal block. */
  private static void stage(long[] a, int j, long m) {
    for (int base = 0; base < 64; base += 2 * j) {
      for (int k = base; k < base + j; k++) {
        long t = ((a[k] >>> j) ^ a[k + j]) & m;
        a[k] ^= t << j;
        a[k + j] ^= t;
      }
    }
  }

  /** Mask of the bits of the last packed word that belong to {@code n} elements. */
  public static long tailMask(int n) {
    return (n & 63) == 0 ? -1L : (1L << (n & 63)) - 1;
  }
}
