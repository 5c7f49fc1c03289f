package org.sparkmpc.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FixedPointTest {

  @Test
  void roundTripsWithinHalfAnUlpOfTheScale() {
    FixedPoint fp = new FixedPoint(16);
    for (double v : new double[] {0, 1, -1, 3.14159, -2718.28, 1e9, -1e9, 123456.789}) {
      assertEquals(v, fp.decode(fp.encode(v, "x")), Math.scalb(1.0, -17) * 1.0001);
    }
    assertEquals(5L, new FixedPoint(0).encode(5L, "n"));
  }

  @Test
  void sumsOfEncodingsDecodeToTheSum() {
    FixedPoint fp = new FixedPoint(16);
    long acc = 0;
    double sum = 0;
    for (int i = 0; i < 1000; i++) {
      double v = (i % 7 - 3) * 1234.5678;
      acc += fp.encode(v, "x");
      sum += v;
    }
    assertEquals(sum, fp.decode(acc), 1000 * Math.scalb(1.0, -17));
  }

  @Test
  void outOfRangeNanAndInfinityAreRefusedNamingTheColumnNotTheValue() {
    FixedPoint fp = new FixedPoint(16);
    double big = 98765432109876543.0;
    FixedPoint.FixedPointRangeException e = assertThrows(FixedPoint.FixedPointRangeException.class,
        () -> fp.encode(big, "salary"));
    assertTrue(e.getMessage().contains("'salary'"), e.getMessage());
    assertFalse(e.getMessage().contains("98765"), e.getMessage());
    assertThrows(FixedPoint.FixedPointRangeException.class, () -> fp.encode(Double.NaN, "a"));
    assertThrows(FixedPoint.FixedPointRangeException.class,
        () -> fp.encode(Double.NEGATIVE_INFINITY, "a"));
    assertThrows(FixedPoint.FixedPointRangeException.class,
        () -> new FixedPoint(0).encode(Long.MAX_VALUE, "n"));
    double[] batch = {1, 2, Double.POSITIVE_INFINITY};
    assertThrows(FixedPoint.FixedPointRangeException.class,
        () -> fp.encode(batch, new long[3], 3, "b"));
  }

  @Test
  void scaleIsValidated() {
    assertThrows(IllegalArgumentException.class, () -> new FixedPoint(-1));
    assertThrows(IllegalArgumentException.class, () -> new FixedPoint(41));
  }

  @Test
  void ringArithmeticWraps() {
    long[] a = {Long.MAX_VALUE, 5};
    Ring64.addInPlace(a, new long[] {1, -7}, 2);
    assertEquals(Long.MIN_VALUE, a[0]);
    assertEquals(-2, a[1]);
    long[] acc = new long[2];
    Ring64.groupSum(new long[] {1, 2, 3, 4}, new int[] {0, 1, 0, 1}, 4, acc);
    assertEquals(4, acc[0]);
    assertEquals(6, acc[1]);
  }
}
