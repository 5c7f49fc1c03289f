package org.sparkmpc.correlation.ot;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.sparkmpc.crypto.AesCtrPrg;
import org.sparkmpc.crypto.Hkdf;

/**
 * IKNP OT extension (Ishai–Kilian–Nissim–Petrank 2003): from {@value BaseOt#COUNT} base OTs, run
 * once with the roles reversed, any number of random OTs, in batches whose size is a multiple of
 * 64.
 *
 * <p>The extension receiver holds the base-OT <em>sender's</em> key pairs {@code (k0_j, k1_j)}
 * and choice bits {@code r}; for each batch it expands column {@code t_j = G(k0_j)} and sends
 * {@code u_j = t_j ^ G(k1_j) ^ r} ({@value BaseOt#COUNT} bits per OT). The extension sender holds a
 * random {@code s} in {0,1}^128 (its base-OT choices) and {@code k_j^{s_j}}; it computes
 * {@code q_j = G(k_j^{s_j}) ^ s_j u_j}, so that row {@code i} satisfies
 * {@code q_i = t_i ^ r_i s}. Random OT {@code i} is then {@code (H(i, q_i), H(i, q_i ^ s))} for the
 * sender and {@code H(i, t_i)} for the receiver. {@code G} is AES-CTR ({@link AesCtrPrg}) keyed by
 * HKDF from the base key and a label of the batch coordinates, so every batch uses fresh streams;
 * {@code H} is {@link #hash}, a fixed-key AES correlation-robust hash with a per-OT tweak.
 *
 * <p>Bit matrices are kept as {@code long} arrays: columns are {@code long[128 * words]} (column
 * {@code j} at {@code [j * words, (j + 1) * words)}, OT {@code i} at bit {@code i % 64} of word
 * {@code i / 64}); rows are {@code long[2 * 64 * words]} (row {@code i} at {@code [2i, 2i + 1]}),
 * obtained by 64x64 bit transposes.
 *
 * <p>Cost per OT: 16 bytes (the {@code u} column bits), one direction; AES work of about 3 blocks.
 * Reveals {@code u}, which is the choice bits masked by a pseudo-random stream. Assumes semi-honest
 * parties, AES as a PRG, and the fixed-key hash being correlation robust.
 */
public final class Iknp {
  /** Number of base OTs and columns. */
  public static final int K = BaseOt.COUNT;

  static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final byte[] FIXED_KEY = java.util.Arrays.copyOf(
      BaseOt.sha256().digest("sparkmpc/ot/fixed-key-aes/v1".getBytes(StandardCharsets.UTF_8)), 16);
  private static final int HASH_BATCH = 4096;

  private Iknp() {}

  /** The extension receiver: holds the base-OT sender's key pairs. */
  public static final class Receiver {
    private final byte[][][] baseKeys;
    private final byte[] salt;

    /**
     * @param baseKeys the base-OT sender's pairs {@code [128][2][16]} (secret)
     * @param salt     public HKDF salt (the session id)
     */
    public Receiver(byte[][][] baseKeys, byte[] salt) {
      if (baseKeys.length != K) {
        throw new IllegalArgumentException("IKNP needs " + K + " base OTs");
      }
      this.baseKeys = baseKeys;
      this.salt = salt.clone();
    }

    /**
     * Extend one batch of {@code 64 * choices.length} OTs with choice bits {@code choices} (bit
     * {@code i % 64} of word {@code i / 64}). Writes the rows {@code t_i} into {@code rowsOut}
     * ({@code long[128 * choices.length]}) and returns the columns {@code u} to send
     * ({@code long[128 * choices.length]}).
     *
     * @param label the batch coordinates, identical at the sender; never reused
     */
    public long[] extend(long[] choices, String label, long[] rowsOut) {
      int words = choices.length;
      long[] t = new long[K * words];
      long[] u = new long[K * words];
      long[] tmp = new long[words];
      for (int j = 0; j < K; j++) {
        prg(baseKeys[j][0], salt, label, j).fill(t, j * words, words);
        prg(baseKeys[j][1], salt, label, j).fill(tmp, 0, words);
        int base = j * words;
        for (int w = 0; w < words; w++) {
          u[base + w] = t[base + w] ^ tmp[w] ^ choices[w];
        }
      }
      transpose(t, words, rowsOut);
      return u;
    }
  }

  /** The extension sender: holds {@code s} (its base-OT choices) and the chosen base keys. */
  public static final class Sender {
    private final boolean[] s;
    private final long[] sRow;
    private final byte[][] baseKeys;
    private final byte[] salt;

    /**
     * @param s        the base-OT choice bits, 128 (secret)
     * @param baseKeys the base-OT receiver's keys {@code k_j^{s_j}} (secret)
     * @param salt     public HKDF salt (the session id)
     */
    public Sender(boolean[] s, byte[][] baseKeys, byte[] salt) {
      if (s.length != K || baseKeys.length != K) {
        throw new IllegalArgumentException("IKNP needs " + K + " base OTs");
      }
      this.s = s.clone();
      this.baseKeys = baseKeys;
      this.salt = salt.clone();
      this.sRow = new long[2];
      for (int j = 0; j < K; j++) {
        if (s[j]) {
          sRow[j >>> 6] |= 1L << (j & 63);
        }
      }
    }

    /** {@code s} as a 128-bit row (two words), the sender's global correlation. Secret. */
    public long[] delta() {
      return sRow.clone();
    }

    /**
     * The rows {@code q_i = t_i ^ r_i s} ({@code long[2 * 64 * words]}) from the receiver's columns
     * {@code u} ({@code long[128 * words]}).
     */
    public long[] rows(long[] u, int words, String label) {
      if (u.length != K * words) {
        throw new IllegalArgumentException("u has " + u.length + " words, expected " + K * words);
      }
      long[] q = new long[K * words];
      for (int j = 0; j < K; j++) {
        int base = j * words;
        prg(baseKeys[j], salt, label, j).fill(q, base, words);
        if (s[j]) {
          for (int w = 0; w < words; w++) {
            q[base + w] ^= u[base + w];
          }
        }
      }
      long[] rows = new long[2 * 64 * words];
      transpose(q, words, rows);
      return rows;
    }
  }

  static AesCtrPrg prg(byte[] key, byte[] salt, String label, int column) {
    return new AesCtrPrg(Hkdf.derive(key, salt, "sparkmpc/ot/iknp/" + label + "/" + column, 32));
  }

  /** Columns {@code long[128 * words]} to rows {@code long[2 * 64 * words]}. */
  static void transpose(long[] cols, int words, long[] rows) {
    long[] block = new long[64];
    for (int w = 0; w < words; w++) {
      for (int g = 0; g < 2; g++) {
        int colBase = 64 * g * words + w;
        for (int c = 0; c < 64; c++) {
          block[c] = cols[colBase + c * words];
        }
        org.sparkmpc.ring.BitSlice.transpose64(block);
        int rowBase = 2 * 64 * w + g;
        for (int r = 0; r < 64; r++) {
          rows[rowBase + 2 * r] = block[r];
        }
      }
    }
  }

  /** The tag of a batch: the high word of every tweak in it. */
  static long tag(String label) {
    byte[] d = BaseOt.sha256()
        .digest(("sparkmpc/ot/tweak/" + label).getBytes(StandardCharsets.UTF_8));
    return (long) LONGS.get(d, 0);
  }

  /**
   * Correlation-robust hash of {@code count} rows, truncated to 64 bits:
   * {@code out[i] = low64(AES_k(x_i ^ w_i) ^ x_i ^ w_i)} with {@code x_i = rows[2i, 2i+1] ^ xor},
   * tweak {@code w_i = (i, tag)} and {@code k} a fixed public key.
   *
   * @param xor a 128-bit row XORed into every input (the sender's {@code s}), or {@code null}
   */
  public static void hash(long[] rows, int count, long tag, long[] xor, long[] out) {
    Cipher aes;
    try {
      aes = Cipher.getInstance("AES/ECB/NoPadding");
      aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(FIXED_KEY, "AES"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES is not available in this JVM", e);
    }
    long x0 = xor == null ? 0 : xor[0];
    long x1 = xor == null ? 0 : xor[1];
    byte[] in = new byte[16 * HASH_BATCH];
    byte[] enc = new byte[16 * HASH_BATCH];
    for (int start = 0; start < count; start += HASH_BATCH) {
      int take = Math.min(HASH_BATCH, count - start);
      for (int k = 0; k < take; k++) {
        int i = start + k;
        LONGS.set(in, 16 * k, rows[2 * i] ^ x0 ^ i);
        LONGS.set(in, 16 * k + 8, rows[2 * i + 1] ^ x1 ^ tag);
      }
      try {
        int n = aes.update(in, 0, 16 * take, enc, 0);
        if (n != 16 * take) {
          throw new IllegalStateException("AES produced " + n + " of " + 16 * take + " bytes");
        }
      } catch (javax.crypto.ShortBufferException e) {
        throw new IllegalStateException(e);
      }
      for (int k = 0; k < take; k++) {
        out[start + k] = (long) LONGS.get(enc, 16 * k) ^ (long) LONGS.get(in, 16 * k);
      }
    }
  }
}
