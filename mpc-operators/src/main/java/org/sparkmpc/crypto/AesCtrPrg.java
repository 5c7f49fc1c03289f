package org.sparkmpc.crypto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Pseudo-random generator: AES-128 in counter mode over a zero plaintext (JCE, AES-NI where the CPU
 * has it). Two parties that hold the same 32-byte seed expand the same stream of 64-bit ring
 * elements, which is what makes seed-compressed sharing work: a share that is a PRG output never
 * crosses the network. Deterministic: the same seed gives the same stream, so a retried Spark task
 * recomputes identical shares.
 *
 * <p>Not thread-safe; one instance per task and stream.
 */
public final class AesCtrPrg {
  private static final int CHUNK = 64 * 1024;

  private final Cipher cipher;
  private final byte[] zeros = new byte[CHUNK];
  private final byte[] out = new byte[CHUNK];

  /** @param seed 32 bytes: the first 16 are the AES key, the last 16 the initial counter block */
  public AesCtrPrg(byte[] seed) {
    if (seed.length != 32) {
      throw new IllegalArgumentException("PRG seed must be 32 bytes");
    }
    try {
      cipher = Cipher.getInstance("AES/CTR/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(seed, 0, 16, "AES"),
          new IvParameterSpec(seed, 16, 16));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES/CTR is not available in this JVM", e);
    }
  }

  /** Fill {@code dst[off .. off+n)} with the next {@code n} uniformly random ring elements. */
  public void fill(long[] dst, int off, int n) {
    int done = 0;
    while (done < n) {
      int take = Math.min(n - done, CHUNK / 8);
      keystream(take * 8);
      ByteBuffer.wrap(out, 0, take * 8).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer()
          .get(dst, off + done, take);
      done += take;
    }
  }

  /** Add the next {@code n} stream elements to {@code dst[off..)} (mod 2^64). */
  public void addTo(long[] dst, int off, int n) {
    applyStream(dst, off, n, false);
  }

  /** Subtract the next {@code n} stream elements from {@code dst[off..)} (mod 2^64). */
  public void subtractFrom(long[] dst, int off, int n) {
    applyStream(dst, off, n, true);
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
      int take = Math.min(n - done, CHUNK);
      keystream(take);
      System.arraycopy(out, 0, dst, off + done, take);
      done += take;
    }
  }

  private void applyStream(long[] dst, int off, int n, boolean subtract) {
    int done = 0;
    while (done < n) {
      int take = Math.min(n - done, CHUNK / 8);
      keystream(take * 8);
      java.nio.LongBuffer lb = ByteBuffer.wrap(out, 0, take * 8).order(ByteOrder.LITTLE_ENDIAN)
          .asLongBuffer();
      int base = off + done;
      if (subtract) {
        for (int i = 0; i < take; i++) {
          dst[base + i] -= lb.get(i);
        }
      } else {
        for (int i = 0; i < take; i++) {
          dst[base + i] += lb.get(i);
        }
      }
      done += take;
    }
  }

  private void keystream(int bytes) {
    try {
      int produced = cipher.update(zeros, 0, bytes, out, 0);
      if (produced != bytes) {
        throw new IllegalStateException("AES/CTR produced " + produced + " of " + bytes + " bytes");
      }
    } catch (javax.crypto.ShortBufferException e) {
      throw new IllegalStateException(e);
    }
  }
}
