package org.sparkmpc.share;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sparkmpc.ring.Ring64;

/**
 * Wide (128-bit) input shares: their low words are the ordinary 64-bit shares, and their sums hold
 * exact totals far beyond 2^63, which 64-bit sums would wrap.
 */
class WideSharingTest {

  /** Values near the top of the signed 64-bit range, of both signs: their sums wrap at 64 bits. */
  static long[] large(int owner, int n) {
    Random r = new Random(77 + owner);
    long[] v = new long[n];
    for (int i = 0; i < n; i++) {
      v[i] = (r.nextBoolean() ? 1 : -1) * ((1L << 62) - r.nextInt(1 << 20)) + (i % 5 == 0
          ? (1L << 61) : 0);
    }
    return v;
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3, 5})
  void wideSharesSumToTheExactTotalAndTheirLowWordsAreTheUsualShares(int parties)
      throws Exception {
    int n = 5_000;
    int[] group = new int[n];
    for (int i = 0; i < n; i++) {
      group[i] = i % 3;
    }
    List<long[][]> out = PartyThreads.run(parties, ctx -> {
      long[][] perOwner = new long[parties * 2][];
      for (int owner = 0; owner < parties; owner++) {
        long[] lo;
        long[] hi = new long[n];
        if (owner == ctx.self()) {
          lo = large(owner, n).clone();
          long[] narrow = lo.clone();
          AdditiveSharing.shareOwnWideInPlace(ctx, 9, 1, 4, lo, hi, n);
          AdditiveSharing.shareOwnInPlace(ctx, 9, 1, 4, narrow, n);
          if (!java.util.Arrays.equals(narrow, lo)) {
            throw new AssertionError("low words differ from the 64-bit shares");
          }
        } else {
          lo = AdditiveSharing.peerShare(ctx, owner, 9, 1, 4, n);
          hi = null; // a peer's high words are 0
        }
        long[] accLo = new long[3];
        long[] accHi = new long[3];
        if (hi != null) {
          Ring64.groupSum128(lo, hi, group, n, accLo, accHi);
        } else {
          Ring64.groupSumCarry(lo, group, n, accLo, accHi);
        }
        long[] opened = Reveal.toPartiesWide(ctx, 9, 2, owner, accLo, accHi, 3,
            Reveal.all(ctx));
        perOwner[2 * owner] = java.util.Arrays.copyOf(opened, 3);
        perOwner[2 * owner + 1] = java.util.Arrays.copyOfRange(opened, 3, 6);
      }
      return perOwner;
    });
    for (int owner = 0; owner < parties; owner++) {
      long[] v = large(owner, n);
      BigInteger[] expected = new BigInteger[3];
      java.util.Arrays.fill(expected, BigInteger.ZERO);
      long[] wrapped = new long[3];
      for (int i = 0; i < n; i++) {
        expected[group[i]] = expected[group[i]].add(BigInteger.valueOf(v[i]));
        wrapped[group[i]] += v[i];
      }
      for (int p = 0; p < parties; p++) {
        long[] lo = out.get(p)[2 * owner];
        long[] hi = out.get(p)[2 * owner + 1];
        for (int g = 0; g < 3; g++) {
          assertEquals(expected[g], Ring64.toBigInteger(hi[g], lo[g]), "owner " + owner);
          assertTrue(expected[g].bitLength() > 63, "the test's totals must pass 2^63");
        }
        assertArrayEquals(wrapped, lo, "the low words are the 64-bit sums");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void wideRevealMessagesAreMaskedAndStillAddUp(int parties) throws Exception {
    int n = 4;
    long[] lo = {5, -1, 0, Long.MIN_VALUE};
    long[] hi = {0, -1, 0, 7};
    List<long[]> opened = PartyThreads.run(parties, ctx -> ctx.self() == 0
        ? Reveal.toPartiesWide(ctx, 3, 0, 0, lo, hi, n, Reveal.all(ctx))
        : Reveal.toPartiesWide(ctx, 3, 0, 0, new long[n], new long[n], n, Reveal.all(ctx)));
    for (long[] o : opened) {
      for (int i = 0; i < n; i++) {
        assertEquals(Ring64.toBigInteger(hi[i], lo[i]), Ring64.toBigInteger(o[n + i], o[i]));
      }
    }
  }

  @Test
  void negationIn128Bits() {
    long[] lo = {0, 1, -1, 5};
    long[] hi = {1, 0, -1, -3};
    long[] l2 = lo.clone();
    long[] h2 = hi.clone();
    Ring64.neg128(l2, h2, 4);
    for (int i = 0; i < 4; i++) {
      assertEquals(Ring64.toBigInteger(hi[i], lo[i]).negate(), Ring64.toBigInteger(h2[i], l2[i]));
    }
  }

  @Test
  void magnitudeBitsIsTheLeastBound() {
    long[] cases = {0, 1, -1, 2, -2, 3, 255, -256, 1L << 40, -(1L << 40), Long.MAX_VALUE,
        Long.MIN_VALUE + 1, Long.MIN_VALUE};
    for (long c : cases) {
      int bits = Ring64.magnitudeBits(new long[] {c}, 1);
      BigInteger mag = BigInteger.valueOf(c).abs();
      assertTrue(mag.compareTo(BigInteger.ONE.shiftLeft(bits)) < 0, c + " -> " + bits);
      assertEquals(mag.bitLength(), bits, c + " -> " + bits);
    }
    assertEquals(41, Ring64.magnitudeBits(new long[] {5, -(1L << 40), 1L << 39, 0}, 4));
    assertEquals(41, Ring64.magnitudeBits(new long[] {(1L << 41) - 1, -3}, 2));
    assertEquals(0, Ring64.magnitudeBits(new long[] {0, 0}, 2));
  }
}
