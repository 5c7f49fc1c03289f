package org.sparkmpc.ring;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Ring elements to and from little-endian bytes, the payload format of share messages. */
public final class LongCodec {
  private LongCodec() {}

  /** {@code values[off..off+n)} as {@code 8n} little-endian bytes. */
  public static byte[] encode(long[] values, int off, int n) {
    byte[] out = new byte[n * 8];
    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().put(values, off, n);
    return out;
  }

  public static byte[] encode(long[] values) {
    return encode(values, 0, values.length);
  }

  /** Decode exactly {@code n} longs from {@code bytes[off..)}; an error if the length is wrong. */
  public static long[] decode(byte[] bytes, int off, int n, String what) {
    if (bytes.length - off != (long) n * 8) {
      throw new IllegalArgumentException(
          what + ": expected " + ((long) n * 8) + " bytes of shares, got " + (bytes.length - off));
    }
    long[] out = new long[n];
    ByteBuffer.wrap(bytes, off, n * 8).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
    return out;
  }

  /**
   * Decode {@code n} longs from {@code bytes[off..)} of a message that holds {@code total} longs
   * in all; an error if the message's length is not {@code 8 * total} bytes.
   */
  public static long[] decode(byte[] bytes, int off, int n, int total, String what) {
    if (bytes.length != (long) total * 8 || off < 0 || off + (long) n * 8 > bytes.length) {
      throw new IllegalArgumentException(what + ": expected " + ((long) total * 8)
          + " bytes of shares, got " + bytes.length);
    }
    long[] out = new long[n];
    ByteBuffer.wrap(bytes, off, n * 8).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
    return out;
  }

  /** Add the {@code n} little-endian longs in {@code bytes[off..)} into {@code acc}. */
  public static void addInto(byte[] bytes, int off, long[] acc, int n) {
    java.nio.LongBuffer lb = ByteBuffer.wrap(bytes, off, n * 8).order(ByteOrder.LITTLE_ENDIAN)
        .asLongBuffer();
    for (int i = 0; i < n; i++) {
      acc[i] += lb.get(i);
    }
  }

  /** XOR the {@code n} little-endian longs in {@code bytes[off..)} into {@code acc}. */
  public static void xorInto(byte[] bytes, int off, long[] acc, int n) {
    java.nio.LongBuffer lb = ByteBuffer.wrap(bytes, off, n * 8).order(ByteOrder.LITTLE_ENDIAN)
        .asLongBuffer();
    for (int i = 0; i < n; i++) {
      acc[i] ^= lb.get(i);
    }
  }
}
