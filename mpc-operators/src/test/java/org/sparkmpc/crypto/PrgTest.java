package org.sparkmpc.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PrgTest {

  @Test
  void sameSeedSameStreamAcrossChunkBoundaries() {
    byte[] seed = Hkdf.derive(new byte[32], null, "t", 32);
    long[] a = new AesCtrPrg(seed).next(100_000);
    AesCtrPrg b = new AesCtrPrg(seed);
    long[] c = new long[100_000];
    b.fill(c, 0, 33_333);
    b.fill(c, 33_333, 100_000 - 33_333);
    assertArrayEquals(a, c);
    long[] d = new long[100_000];
    new AesCtrPrg(seed).addTo(d, 0, d.length);
    assertArrayEquals(a, d);
  }

  /**
   * The stream is JCE's AES/CTR keystream byte for byte, whatever mix of calls reads it (odd byte
   * counts between reads of longs, chunk boundaries) and across the carry of the counter's low
   * word and its wrap at 2^128.
   */
  @Test
  void theStreamIsJcesAesCtrKeystreamForAnyMixOfReads() throws Exception {
    java.util.Random r = new java.util.Random(7);
    byte[][] ivs = {new byte[16], new byte[16], new byte[16]};
    Arrays.fill(ivs[1], 8, 16, (byte) 0xFF); // the low word carries into the high word soon
    ivs[1][15] = (byte) 0xF0;
    Arrays.fill(ivs[2], (byte) 0xFF); // 2^128 - 1: wraps to 0 after one block
    for (byte[] iv : ivs) {
      byte[] seed = new byte[32];
      r.nextBytes(seed);
      System.arraycopy(iv, 0, seed, 16, 16);
      javax.crypto.Cipher jce = javax.crypto.Cipher.getInstance("AES/CTR/NoPadding");
      jce.init(javax.crypto.Cipher.ENCRYPT_MODE,
          new javax.crypto.spec.SecretKeySpec(seed, 0, 16, "AES"),
          new javax.crypto.spec.IvParameterSpec(seed, 16, 16));
      AesCtrPrg prg = new AesCtrPrg(seed);
      for (int step = 0; step < 60; step++) {
        int kind = r.nextInt(4);
        int n = r.nextInt(step % 10 == 0 ? 20_000 : 40) + 1;
        byte[] want = jce.update(new byte[kind == 0 ? n : 8 * n]);
        java.nio.LongBuffer wantLongs = java.nio.ByteBuffer.wrap(want)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer();
        if (kind == 0) {
          byte[] got = new byte[n];
          prg.nextBytes(got, 0, n);
          assertArrayEquals(want, got, "bytes at step " + step);
        } else {
          long[] got = new long[n + 3];
          long[] expect = new long[n + 3];
          Arrays.fill(got, 5L);
          Arrays.fill(expect, 5L);
          for (int i = 0; i < n; i++) {
            long k = wantLongs.get(i);
            expect[2 + i] = kind == 1 ? k : kind == 2 ? 5L + k : 5L - k;
          }
          if (kind == 1) {
            prg.fill(got, 2, n);
          } else if (kind == 2) {
            prg.addTo(got, 2, n);
          } else {
            prg.subtractFrom(got, 2, n);
          }
          assertArrayEquals(expect, got, "longs at step " + step);
        }
      }
    }
  }

  @Test
  void differentLabelsGiveIndependentStreams() {
    byte[] k = new byte[32];
    long[] a = new AesCtrPrg(Hkdf.derive(k, null, "a", 32)).next(64);
    long[] b = new AesCtrPrg(Hkdf.derive(k, null, "b", 32)).next(64);
    assertFalse(Arrays.equals(a, b));
  }

  @Test
  void x25519PairwiseKeysMatchBetweenThePairOnly() {
    SecureRandom r = new SecureRandom();
    PairwiseKeys.Ephemeral[] e = new PairwiseKeys.Ephemeral[3];
    byte[][] pks = new byte[3][];
    for (int i = 0; i < 3; i++) {
      e[i] = new PairwiseKeys.Ephemeral(r);
      pks[i] = e[i].publicKey();
    }
    byte[] salt = "session".getBytes();
    PairwiseKeys k0 = PairwiseKeys.agree(0, e[0], pks, salt);
    PairwiseKeys k1 = PairwiseKeys.agree(1, e[1], pks, salt);
    PairwiseKeys k2 = PairwiseKeys.agree(2, e[2], pks, salt);
    assertArrayEquals(k0.seedWith(1, "x"), k1.seedWith(0, "x"));
    assertArrayEquals(k1.seedWith(2, "x"), k2.seedWith(1, "x"));
    assertFalse(Arrays.equals(k0.seedWith(1, "x"), k0.seedWith(2, "x")));
    assertFalse(k0.toString().contains(Arrays.toString(k0.seedWith(1, "x"))));
  }

  @Test
  void prgOutputIsBalanced() {
    long[] v = new AesCtrPrg(Hkdf.derive(new byte[] {1}, null, "bal", 32)).next(100_000);
    long ones = 0;
    for (long x : v) {
      ones += Long.bitCount(x);
    }
    double frac = ones / (64.0 * v.length);
    assertTrue(Math.abs(frac - 0.5) < 0.001, "fraction of ones " + frac);
    assertEquals(100_000, v.length);
  }

  @Test
  void sealedSessionKeysOpenOnlyWithTheWrapKey() {
    byte[][] raw = new byte[3][];
    raw[0] = new byte[32];
    raw[2] = new byte[32];
    java.util.Arrays.fill(raw[0], (byte) 7);
    java.util.Arrays.fill(raw[2], (byte) 9);
    PairwiseKeys keys = PairwiseKeys.of(1, raw);
    byte[] wrap = new byte[32];
    wrap[0] = 1;
    byte[] aad = {1, 2, 3};
    byte[] sealed = keys.seal(wrap, aad);
    PairwiseKeys opened = PairwiseKeys.unseal(wrap, sealed, aad);
    assertEquals(1, opened.self());
    assertArrayEquals(keys.prgWith(0, "l").next(4),
        opened.prgWith(0, "l").next(4));
    assertArrayEquals(keys.prgWith(2, "l").next(4),
        opened.prgWith(2, "l").next(4));
    byte[] other = wrap.clone();
    other[0] = 2;
    IllegalArgumentException e = assertThrows(
        IllegalArgumentException.class, () -> PairwiseKeys.unseal(other, sealed, aad));
    assertTrue(e.getMessage().contains("do not open"));
    assertThrows(IllegalArgumentException.class,
        () -> PairwiseKeys.unseal(wrap, sealed, new byte[] {1, 2, 4}));
    sealed[20] ^= 1;
    assertThrows(IllegalArgumentException.class,
        () -> PairwiseKeys.unseal(wrap, sealed, aad));
  }

  @Test
  void destroyedKeysAreZeroedAndRefused() {
    byte[][] raw = new byte[2][];
    raw[1] = new byte[32];
    java.util.Arrays.fill(raw[1], (byte) 7);
    PairwiseKeys keys = PairwiseKeys.of(0, raw);
    keys.seedWith(1, "l");
    assertFalse(keys.isDestroyed());
    keys.destroy();
    assertTrue(keys.isDestroyed());
    assertArrayEquals(new byte[32], raw[1], "the key array is overwritten with zeros");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> keys.seedWith(1, "l"));
    assertTrue(e.getMessage().contains("session ended"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> keys.prgWith(1, "l"));
    assertThrows(IllegalStateException.class, () -> keys.seal(new byte[32], new byte[0]));
    keys.destroy(); // idempotent
  }
}
