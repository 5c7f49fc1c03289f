package org.sparkmpc.federated;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import org.sparkmpc.crypto.AesCtrPrg;

/**
 * The arithmetic of seed-compressed shares for federated secure aggregation: a client splits its
 * quantised update {@code q} (a vector over Z(2^(8*width)), width 4 or 8 bytes) into one <em>full</em>
 * share {@code q - sum_j PRG(seed_j)} for one party and a 32-byte seed for every other party. Each party
 * adds what it received into an accumulator; the accumulators of all parties add up to the sum of the
 * clients' updates.
 *
 * <p>Accumulators are {@code long[]} summed mod 2^64 whatever the width: 2^(8*width) divides 2^64, so
 * the low 8*width bits of a sum are right however often it wrapped, and {@link #reduce} maps them to
 * the signed value at the end (once per accumulator, after all additions and after adding the other
 * parties' accumulators, if they are added up in the clear).
 *
 * <p>Seed expansion: {@link AesCtrPrg} keyed by the seed (its first 16 bytes the AES key, the last 16
 * the counter). Width 8: element {@code i} is the {@code i}-th PRG long. Width 4: PRG long {@code k}
 * gives elements {@code 2k} (its low 32 bits) and {@code 2k+1} (its high 32 bits), so an odd-length
 * vector uses the low half of the last long only.
 *
 * <p>Bytes per element: a full share costs {@code width} bytes on the wire and on disk (little-endian,
 * two's complement mod 2^(8*width)); a seed share costs 32 bytes for the whole vector. Local work: one
 * AES block per 16 bytes of expansion, one add per element; no per-element objects.
 *
 * <p>What it reveals: nothing by itself. A seed is uniformly random and independent of the update; the
 * full share is the update masked by the expansions of seeds its holder never sees. Seeds and shares
 * are secret: never log them.
 */
public final class SeedShares {

  /** Bytes of a seed. */
  public static final int SEED_BYTES = 32;

  private static final VarHandle LE_LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LE_INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

  /** PRG longs expanded per step for width 4 (a buffer of 32 KiB, reused). */
  private static final int CHUNK = 4096;

  private SeedShares() {}

  /** @throws IllegalArgumentException unless {@code width} is 4 or 8 */
  public static void checkWidth(int width) {
    if (width != 4 && width != 8) {
      throw new IllegalArgumentException("element width must be 4 or 8 bytes, was " + width);
    }
  }

  /** Add the expansion of {@code seed32} ({@code acc.length} elements of {@code width} bytes) to {@code acc}, mod 2^64. */
  public static void addExpansion(byte[] seed32, int width, long[] acc) {
    expand(seed32, width, acc, true);
  }

  /** Subtract the expansion of {@code seed32} ({@code acc.length} elements of {@code width} bytes) from {@code acc}, mod 2^64. */
  public static void subtractExpansion(byte[] seed32, int width, long[] acc) {
    expand(seed32, width, acc, false);
  }

  private static void expand(byte[] seed32, int width, long[] acc, boolean add) {
    checkWidth(width);
    if (seed32.length != SEED_BYTES) {
      throw new IllegalArgumentException("a seed must be " + SEED_BYTES + " bytes, was " + seed32.length);
    }
    AesCtrPrg prg = new AesCtrPrg(seed32);
    if (width == 8) {
      if (add) {
        prg.addTo(acc, 0, acc.length);
      } else {
        prg.subtractFrom(acc, 0, acc.length);
      }
      return;
    }
    int n = acc.length;
    long[] buf = new long[Math.min(CHUNK, (n + 1) / 2)];
    int i = 0;
    while (i < n) {
      int longs = Math.min(buf.length, (n - i + 1) / 2);
      prg.fill(buf, 0, longs);
      int pairs = Math.min(longs, (n - i) / 2);
      if (add) {
        for (int k = 0; k < pairs; k++) {
          long v = buf[k];
          acc[i + 2 * k] += v & 0xFFFF_FFFFL;
          acc[i + 2 * k + 1] += v >>> 32;
        }
      } else {
        for (int k = 0; k < pairs; k++) {
          long v = buf[k];
          acc[i + 2 * k] -= v & 0xFFFF_FFFFL;
          acc[i + 2 * k + 1] -= v >>> 32;
        }
      }
      i += 2 * pairs;
      if (pairs < longs) { // odd length: the last element is the low half of the last long
        long low = buf[pairs] & 0xFFFF_FFFFL;
        acc[i++] += add ? low : -low;
      }
    }
  }

  /** Add {@code acc.length} little-endian elements of {@code width} bytes, read from {@code src[off..)}, to {@code acc}. */
  public static void addFull(byte[] src, int off, int width, long[] acc) {
    addFull(src, off, width, acc, 0, acc.length);
  }

  /**
   * Add {@code n} little-endian elements of {@code width} bytes, read from {@code src[off..)}, to
   * {@code acc[accOff..accOff+n)}: the form for a full share read from a stream in pieces.
   */
  public static void addFull(byte[] src, int off, int width, long[] acc, int accOff, int n) {
    checkWidth(width);
    if (off < 0 || (long) off + (long) n * width > src.length || accOff < 0 || accOff + n > acc.length) {
      throw new IndexOutOfBoundsException("addFull: " + n + " elements of " + width + " bytes at " + off
          + " of " + src.length + " bytes, into " + accOff + " of " + acc.length);
    }
    if (width == 8) {
      for (int k = 0; k < n; k++) {
        acc[accOff + k] += (long) LE_LONG.get(src, off + 8 * k);
      }
    } else {
      for (int k = 0; k < n; k++) {
        acc[accOff + k] += (int) LE_INT.get(src, off + 4 * k) & 0xFFFF_FFFFL;
      }
    }
  }

  /**
   * Encode {@code values[from..from+n)} as little-endian elements of {@code width} bytes (their low
   * 8*width bits, i.e. mod 2^(8*width)) into {@code dst[off..)}: the client's encoder for a full share,
   * the inverse of {@link #addFull} into a zero accumulator followed by {@link #reduce}.
   */
  public static void encodeFull(long[] values, int from, int n, int width, byte[] dst, int off) {
    checkWidth(width);
    if (from < 0 || from + n > values.length || off < 0 || (long) off + (long) n * width > dst.length) {
      throw new IndexOutOfBoundsException("encodeFull: " + n + " elements from " + from + " of "
          + values.length + " into " + off + " of " + dst.length + " bytes");
    }
    if (width == 8) {
      for (int k = 0; k < n; k++) {
        LE_LONG.set(dst, off + 8 * k, values[from + k]);
      }
    } else {
      for (int k = 0; k < n; k++) {
        LE_INT.set(dst, off + 4 * k, (int) values[from + k]);
      }
    }
  }

  /** Replace each element by the signed value of its low 8*width bits (sign-extended). */
  public static void reduce(long[] acc, int width) {
    checkWidth(width);
    if (width == 4) {
      for (int i = 0; i < acc.length; i++) {
        acc[i] = (int) acc[i];
      }
    }
  }
}
