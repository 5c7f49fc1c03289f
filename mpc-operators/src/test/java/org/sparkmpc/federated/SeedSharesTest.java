package org.sparkmpc.federated;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.sparkmpc.crypto.AesCtrPrg;

class SeedSharesTest {

  private static byte[] seed(Random r) {
    byte[] s = new byte[32];
    r.nextBytes(s);
    return s;
  }

  @Test
  void width8ExpansionIsThePrgStream() {
    byte[] s = seed(new Random(1));
    long[] want = new AesCtrPrg(s).next(10_001);
    long[] acc = new long[10_001];
    SeedShares.addExpansion(s, 8, acc);
    assertArrayEquals(want, acc);
  }

  /** Width 4 splits each PRG long into two elements, low half first, across buffer boundaries and odd lengths. */
  @Test
  void width4ExpansionSplitsEachLongLowHalfFirst() {
    byte[] s = seed(new Random(2));
    for (int n : new int[] {0, 1, 2, 7, 8191, 8192, 8193, 20_001}) {
      long[] stream = new AesCtrPrg(s).next((n + 1) / 2);
      long[] acc = new long[n];
      SeedShares.addExpansion(s, 4, acc);
      for (int i = 0; i < n; i++) {
        long word = stream[i / 2];
        long want = (i % 2 == 0) ? word & 0xFFFF_FFFFL : word >>> 32;
        assertEquals(want, acc[i], "n=" + n + " element " + i);
      }
    }
  }

  @Test
  void subtractUndoesAdd() {
    Random r = new Random(3);
    for (int width : new int[] {4, 8}) {
      long[] acc = new long[12_345];
      for (int i = 0; i < acc.length; i++) {
        acc[i] = r.nextLong();
      }
      long[] before = acc.clone();
      byte[] s = seed(r);
      SeedShares.addExpansion(s, width, acc);
      assertFalse(Arrays.equals(before, acc));
      SeedShares.subtractExpansion(s, width, acc);
      assertArrayEquals(before, acc, "width " + width);
    }
  }

  /** A client's split (full share for one party, seeds for the others) sums back to the update, limits included. */
  @Test
  void fullShareAndSeedsReconstructTheUpdate() {
    Random r = new Random(4);
    for (int width : new int[] {4, 8}) {
      long max = width == 4 ? Integer.MAX_VALUE : Long.MAX_VALUE;
      long min = width == 4 ? Integer.MIN_VALUE : Long.MIN_VALUE;
      int n = 5_001;
      long[] q = new long[n];
      for (int i = 0; i < n; i++) {
        q[i] = switch (i % 5) {
          case 0 -> max;
          case 1 -> min;
          case 2 -> -1;
          case 3 -> 0;
          default -> width == 4 ? r.nextInt() : r.nextLong();
        };
      }
      byte[][] seeds = {seed(r), seed(r)};
      long[] full = q.clone();
      for (byte[] s : seeds) {
        SeedShares.subtractExpansion(s, width, full);
      }
      byte[] wire = new byte[3 + n * width];
      SeedShares.encodeFull(full, 0, n, width, wire, 3);
      long[] acc = new long[n];
      // the full share read in two pieces, as from a stream
      SeedShares.addFull(wire, 3, width, acc, 0, 1000);
      SeedShares.addFull(wire, 3 + 1000 * width, width, acc, 1000, n - 1000);
      for (byte[] s : seeds) {
        SeedShares.addExpansion(s, width, acc);
      }
      SeedShares.reduce(acc, width);
      assertArrayEquals(q, acc, "width " + width);
    }
  }

  @Test
  void reduceSignExtendsTheLowBits() {
    long[] a = {0xFFFF_FFFFL, 0x8000_0000L, 0x7FFF_FFFFL, 0x1_0000_0005L, -3L};
    SeedShares.reduce(a, 4);
    assertArrayEquals(new long[] {-1, Integer.MIN_VALUE, Integer.MAX_VALUE, 5, -3}, a);
    long[] b = {Long.MIN_VALUE, -1, 42};
    SeedShares.reduce(b, 8);
    assertArrayEquals(new long[] {Long.MIN_VALUE, -1, 42}, b);
  }

  @Test
  void refusesBadWidthsAndSeeds() {
    assertThrows(IllegalArgumentException.class, () -> SeedShares.addExpansion(new byte[32], 2, new long[1]));
    assertThrows(IllegalArgumentException.class, () -> SeedShares.addExpansion(new byte[16], 8, new long[1]));
    assertThrows(IllegalArgumentException.class, () -> SeedShares.reduce(new long[1], 16));
    assertThrows(IndexOutOfBoundsException.class, () -> SeedShares.addFull(new byte[7], 0, 4, new long[2]));
  }
}
