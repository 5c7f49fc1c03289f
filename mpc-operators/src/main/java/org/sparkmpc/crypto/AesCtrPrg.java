package org.sparkmpc.crypto;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;

/**
 * Pseudo-random generator: AES-128 in counter mode over a zero plaintext, i.e. the keystream
 * {@code AES(k, c), AES(k, c+1), ...} with {@code c} the 128-bit big-endian initial counter block,
 * exactly the stream of JCE's {@code AES/CTR/NoPadding}. Two parties that hold the same 32-byte seed
 * expand the same stream of 64-bit ring elements, which is what makes seed-compressed sharing work:
 * a share that is a PRG output never crosses the network. Deterministic: the same seed gives the
 * same stream, so a retried Spark task recomputes identical shares.
 *
 * <p>The counter blocks are written here and encrypted in batches of up to 64 KiB (sized to what
 * is asked, so a short stream costs little) with JCE's {@code AES/ECB/NoPadding}, whose AES-NI
 * path is about 9x faster on this project's machines than the JDK 17 counter mode (which
 * encrypts and increments block by block).
 *
 * <p>Not thread-safe; one instance per task and stream.
 */
public final class AesCtrPrg {
  private static final int CHUNK = 64 * 1024;
  private static final VarHandle BE = MethodHandles.byteArrayViewVarHandle(long[].class,
      ByteOrder.BIG_ENDIAN);
  private static final VarHandle LE = MethodHandles.byteArrayViewVarHandle(long[].class,
      ByteOrder.LITTLE_ENDIAN);

  /** The first batch: a PRG that is asked for a few words allocates and encrypts no more. */
  private static final int FIRST = 256;

  private final Cipher cipher;
  /** Counter blocks and their encryption; sized to the first request, then doubled to CHUNK. */
  private byte[] counters = new byte[0];
  private byte[] out = new byte[0];
  private long counterHi;
  private long counterLo;
  /** Bytes of {@link #out} already used; {@code out.length}: none left. */
  private int pos = 0;

  /** @param seed 32 bytes: the first 16 are the AES key, the last 16 the initial counter block */
  public AesCtrPrg(byte[] seed) {
    if (seed.length != 32) {
      throw new IllegalArgumentException("PRG seed must be 32 bytes");
    }
    try {
      cipher = Cipher.getInstance("AES/ECB/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(seed, 0, 16, "AES"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES is not available in this JVM", e);
    }
    counterHi = (long) BE.get(seed, 16);
    counterLo = (long) BE.get(seed, 24);
  }

  /**
   * Encrypt the next counter blocks into {@link #out}: enough for {@code wanted} more bytes, at
   * least twice the last batch, at most {@code CHUNK}. The batch size changes only how the
   * keystream is cut, not the keystream.
   */
  private void refill(long wanted) {
    int size = (int) Math.min(CHUNK, Math.max(Math.max(FIRST, 2L * out.length),
        (wanted + 15) & ~15L));
    if (size != out.length) {
      counters = new byte[size];
      out = new byte[size];
    }
    long hi = counterHi;
    long lo = counterLo;
    for (int b = 0; b < size; b += 16) {
      BE.set(counters, b, hi);
      BE.set(counters, b + 8, lo);
      lo++;
      if (lo == 0) {
        hi++;
      }
    }
    counterHi = hi;
    counterLo = lo;
    try {
      int produced = cipher.update(counters, 0, size, out, 0);
      if (produced != size) {
        throw new IllegalStateException("AES produced " + produced + " of " + size + " bytes");
      }
    } catch (ShortBufferException e) {
      throw new IllegalStateException(e);
    }
    pos = 0;
  }

  /** The next 8 stream bytes as a little-endian long. */
  private long nextLong() {
    if (out.length - pos >= 8) {
      long v = (long) LE.get(out, pos);
      pos += 8;
      return v;
    }
    long v = 0;
    for (int i = 0; i < 8; i++) {
      if (pos == out.length) {
        refill(8 - i);
      }
      v |= (out[pos++] & 0xFFL) << (8 * i);
    }
    return v;
  }

  /** Fill {@code dst[off .. off+n)} with the next {@code n} uniformly random ring elements. */
  public void fill(long[] dst, int off, int n) {
    applyStream(dst, off, n, SET);
  }

  /** Add the next {@code n} stream elements to {@code dst[off..)} (mod 2^64). */
  public void addTo(long[] dst, int off, int n) {
    applyStream(dst, off, n, ADD);
  }

  /** Subtract the next {@code n} stream elements from {@code dst[off..)} (mod 2^64). */
  public void subtractFrom(long[] dst, int off, int n) {
    applyStream(dst, off, n, SUBTRACT);
  }

  /** XOR the next {@code n} stream words into {@code dst[off..)} (for XOR-shared bits). */
  public void xorInto(long[] dst, int off, int n) {
    applyStream(dst, off, n, XOR);
  }

  /** The next {@code n} ring elements in a new array. */
  public long[] next(int n) {
    long[] a = new long[n];
    fill(a, 0, n);
    return a;
  }

  /** The next {@code n} random bytes. */
  public void nextBytes(byte[] dst, int off, int n) {
    int done = 0;
    while (done < n) {
      if (pos == out.length) {
        refill(n - done);
      }
      int take = Math.min(n - done, out.length - pos);
      System.arraycopy(out, pos, dst, off + done, take);
      pos += take;
      done += take;
    }
  }

  private static final int SET = 0;
  private static final int ADD = 1;
  private static final int SUBTRACT = 2;
  private static final int XOR = 3;

  /** Set, add, subtract or XOR the next {@code n} stream elements at {@code dst[off..)}, by chunks. */
  private void applyStream(long[] dst, int off, int n, int op) {
    int i = 0;
    while (i < n) {
      if (pos == out.length) {
        refill(8L * (n - i));
      }
      int take = Math.min(n - i, (out.length - pos) >>> 3);
      if (take == 0) { // fewer than 8 bytes left in this chunk
        long v = nextLong();
        int k = off + i++;
        dst[k] = op == SET ? v : op == ADD ? dst[k] + v : op == XOR ? dst[k] ^ v : dst[k] - v;
        continue;
      }
      byte[] ks = out;
      int p = pos;
      int base = off + i;
      if (op == SET) {
        for (int j = 0; j < take; j++) {
          dst[base + j] = (long) LE.get(ks, p + 8 * j);
        }
      } else if (op == ADD) {
        for (int j = 0; j < take; j++) {
          dst[base + j] += (long) LE.get(ks, p + 8 * j);
        }
      } else if (op == XOR) {
        for (int j = 0; j < take; j++) {
          dst[base + j] ^= (long) LE.get(ks, p + 8 * j);
        }
      } else {
        for (int j = 0; j < take; j++) {
          dst[base + j] -= (long) LE.get(ks, p + 8 * j);
        }
      }
      pos = p + 8 * take;
      i += take;
    }
  }
}
