package org.sparkmpc.ring;

import java.io.Serializable;

/**
 * Fixed-point encoding of reals into Z(2^64): {@code encode(v) = round(v * 2^scaleBits)} as a
 * two's-complement ring element, {@code decode(x) = signed(x) / 2^scaleBits}. Scale 0 encodes
 * integers exactly.
 *
 * <p>Range: a value must satisfy {@code |v| <= maxAbs() = 2^(62 - scaleBits)}, which leaves one bit of
 * headroom for sums; a SUM over many rows must itself stay inside {@code 2^(63 - scaleBits)} or it
 * wraps (choose a smaller scale for large totals). Out-of-range, NaN and infinite values are rejected
 * with an error that names the column; the value itself is never printed.
 */
public final class FixedPoint implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Default scale: 2^16. */
  public static final int DEFAULT_SCALE_BITS = 16;

  private final int scaleBits;
  private final double scale;
  private final double maxAbs;

  public FixedPoint(int scaleBits) {
    if (scaleBits < 0 || scaleBits > 40) {
      throw new IllegalArgumentException(
          "fixed-point scale must be between 0 and 40 bits, was " + scaleBits);
    }
    this.scaleBits = scaleBits;
    this.scale = Math.scalb(1.0, scaleBits);
    this.maxAbs = Math.scalb(1.0, 62 - scaleBits);
  }

  public int scaleBits() {
    return scaleBits;
  }

  /** Largest magnitude accepted by {@link #encode}. */
  public double maxAbs() {
    return maxAbs;
  }

  /** Encode one real; {@code column} names the column in the error. */
  public long encode(double v, String column) {
    if (!(Math.abs(v) <= maxAbs)) {
      throw outOfRange(column, Double.isNaN(v) ? "NaN" : Double.isInfinite(v) ? "infinite" : null);
    }
    return Math.round(v * scale);
  }

  /** Encode an integer (exact when {@code scaleBits == 0}). */
  public long encode(long v, String column) {
    if (scaleBits == 0) {
      if (v > (long) maxAbs || v < -(long) maxAbs) {
        throw outOfRange(column, null);
      }
      return v;
    }
    return encode((double) v, column);
  }

  /** Encode {@code src[0..n)} into {@code dst}; the first bad value fails with the column's name. */
  public void encode(double[] src, long[] dst, int n, String column) {
    for (int i = 0; i < n; i++) {
      double v = src[i];
      if (!(Math.abs(v) <= maxAbs)) {
        throw outOfRange(column, Double.isNaN(v) ? "NaN" : Double.isInfinite(v) ? "infinite" : null);
      }
      dst[i] = Math.round(v * scale);
    }
  }

  /** Decode one ring element to a real. */
  public double decode(long x) {
    return x / scale;
  }

  private IllegalArgumentException outOfRange(String column, String kind) {
    String what = kind == null ? "a value outside the fixed-point range" : "a " + kind + " value";
    return new FixedPointRangeException("column '" + column + "' holds " + what
        + " (allowed magnitude at scale 2^" + scaleBits + " is at most 2^" + (62 - scaleBits)
        + "); lower the column's scale or rescale the data");
  }

  /** Thrown for values that cannot be encoded; names the column, never the value. */
  public static final class FixedPointRangeException extends org.sparkmpc.MpcInputException {
    private static final long serialVersionUID = 1L;

    public FixedPointRangeException(String message) {
      super(message);
    }
  }

  @Override
  public String toString() {
    return "FixedPoint(2^" + scaleBits + ")";
  }
}
