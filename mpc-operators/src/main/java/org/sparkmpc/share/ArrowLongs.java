package org.sparkmpc.share;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVectorHelper;

/**
 * Bulk moves between Arrow {@link BigIntVector}s (the columnar form of a share column) and the
 * {@code long[]} batches the kernels loop over. Shares have no nulls: every slot is valid.
 */
public final class ArrowLongs {
  private ArrowLongs() {}

  /** Copy the first {@code n} values of {@code v} into a new array (nulls are rejected). */
  public static long[] toArray(BigIntVector v, String column) {
    int n = v.getValueCount();
    if (v.getNullCount() > 0) {
      throw new IllegalArgumentException("share column '" + column + "' contains nulls");
    }
    long[] out = new long[n];
    ArrowBuf data = v.getDataBuffer();
    for (int i = 0; i < n; i++) {
      out[i] = data.getLong((long) i * 8);
    }
    return out;
  }

  /** A new vector holding {@code values[0..n)}, owned by the caller (close it). */
  public static BigIntVector fromArray(BufferAllocator allocator, String name, long[] values, int n) {
    BigIntVector v = new BigIntVector(name, allocator);
    v.allocateNew(n);
    ArrowBuf data = v.getDataBuffer();
    for (int i = 0; i < n; i++) {
      data.setLong((long) i * 8, values[i]);
    }
    ArrowBuf validity = v.getValidityBuffer();
    validity.setOne(0, BitVectorHelper.getValidityBufferSizeFromCount(n));
    v.setValueCount(n);
    return v;
  }
}
