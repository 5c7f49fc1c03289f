package org.sparkmpc.protocol;

import static org.sparkmpc.share.PartyThreads.shareOf;
import static org.sparkmpc.share.PartyThreads.values;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sparkmpc.correlation.BeaverTriples;
import org.sparkmpc.correlation.DealerCorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.ring.FixedPoint;
import org.sparkmpc.share.PartyThreads;
import org.sparkmpc.share.Reveal;

/** Beaver multiplication with the dealer, for 2 and 3 parties, against plaintext arithmetic. */
class BeaverMultiplicationTest {

  /** Every party opened the elementwise products of {@code x} and {@code y}. */
  static void assertProducts(List<long[]> out, long[] x, long[] y) {
    long[] expected = new long[x.length];
    for (int i = 0; i < x.length; i++) {
      expected[i] = x[i] * y[i];
    }
    for (long[] o : out) {
      assertArrayEquals(expected, o);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void productsOfSharedVectorsEqualPlaintextProducts(int parties) throws Exception {
    int n = 20_000;
    long[] x = values(1, n, 64);
    long[] y = values(2, n, 64);
    List<long[]> out = PartyThreads.runWithDealer(parties, ctx -> {
      DealerCorrelationSource dealer = new DealerCorrelationSource(ctx);
      dealer.request(1, List.of(Need.triples(0, 0, n)));
      long[] xs = shareOf(ctx, 0, 1, 0, x);
      long[] ys = shareOf(ctx, parties - 1, 1, 1, y);
      long[] z = BeaverMultiplication.multiply(ctx, dealer, 1, 0, 0, 0, xs, ys, n);
      long[] opened = Reveal.toAll(ctx, 1, 0, 1, z, n);
      dealer.finish(2);
      return opened;
    });
    assertProducts(out, x, y);
  }

  /**
   * The summed path: the grouped sums of the products, never materialised, equal the plaintext
   * sums, and each party's message is byte for byte the one of the elementwise path.
   */
  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void sumOfProductsEqualsPlaintextAndSendsTheSameMessages(int parties) throws Exception {
    int n = 10_001;
    int groups = 3;
    long[] x = values(5, n, 64);
    long[] y = values(6, n, 64);
    int[] group = new int[n];
    for (int i = 0; i < n; i++) {
      group[i] = (int) Math.floorMod(x[i] ^ y[i], groups);
    }
    List<long[]> out = PartyThreads.runWithDealer(parties, ctx -> {
      DealerCorrelationSource dealer = new DealerCorrelationSource(ctx);
      dealer.request(1, List.of(Need.triples(0, 0, n), Need.triples(1, 0, n)));
      long[] xs = shareOf(ctx, 0, 1, 0, x);
      long[] ys = shareOf(ctx, parties - 1, 1, 1, y);
      long[] res = new long[groups + 1];
      try (org.apache.arrow.memory.BufferAllocator alloc =
               new org.apache.arrow.memory.RootAllocator();
           org.apache.arrow.vector.BigIntVector xv =
               org.sparkmpc.share.ArrowLongs.fromArray(alloc, "x", xs, n);
           org.apache.arrow.vector.BigIntVector yv =
               org.sparkmpc.share.ArrowLongs.fromArray(alloc, "y", ys, n)) {
        // Partition 0: grouped; partition 1: one sum.
        BeaverTriples t0 = dealer.triples(1, 0, 0, n);
        BeaverMultiplication.SumPending p0 = BeaverMultiplication.maskForSum(t0,
            xv.getDataBuffer(), yv.getDataBuffer(), n);
        assertArrayEquals(org.sparkmpc.ring.LongCodec.encode(
            BeaverMultiplication.mask(t0, xs, ys, n).maskedDe()), p0.message());
        BeaverMultiplication.sendForSum(ctx, 1, 0, 0, p0);
        BeaverMultiplication.SumPending p1 = BeaverMultiplication.maskForSum(
            dealer.triples(1, 1, 0, n), xv.getDataBuffer(), yv.getDataBuffer(), n);
        BeaverMultiplication.sendForSum(ctx, 1, 1, 0, p1);
        long[] acc = new long[groups];
        BeaverMultiplication.finishSum(ctx, 1, 0, 0, p0, group, acc);
        long[] one = new long[1];
        BeaverMultiplication.finishSum(ctx, 1, 1, 0, p1, null, one);
        System.arraycopy(acc, 0, res, 0, groups);
        res[groups] = one[0];
      }
      long[] opened = Reveal.toAll(ctx, 1, 0, 1, res,
          groups + 1);
      dealer.finish(2);
      return opened;
    });
    long[] expected = new long[groups + 1];
    for (int i = 0; i < n; i++) {
      expected[group[i]] += x[i] * y[i];
      expected[groups] += x[i] * y[i];
    }
    for (long[] o : out) {
      assertArrayEquals(expected, o);
    }
  }

  /**
   * The last party asks for an operator's triples, then finishes the operator (refused, released)
   * before the dealer sends them: the dealer's late corrections are refused by that party's
   * channel, and the dealer must go on to serve the next operator rather than stop.
   */
  @org.junit.jupiter.api.Test
  @org.junit.jupiter.api.Timeout(60)
  void theDealerServesTheNextOperatorAfterAPartyReleasedOneEarly() throws Exception {
    int n = 5_000;
    long[] x = values(3, n, 64);
    long[] y = values(4, n, 64);
    List<long[]> out = PartyThreads.runWithDealer(2, ctx -> {
      DealerCorrelationSource dealer = new DealerCorrelationSource(ctx);
      if (ctx.self() == ctx.parties() - 1) {
        ctx.channel().releaseOperator(ctx.sessionId(), 1);
      }
      dealer.request(1, List.of(Need.triples(0, 0, n), Need.triples(1, 0, n)));
      dealer.request(2, List.of(Need.triples(0, 0, n)));
      long[] xs = shareOf(ctx, 0, 2, 0, x);
      long[] ys = shareOf(ctx, 1, 2, 1, y);
      long[] z = BeaverMultiplication.multiply(ctx, dealer, 2, 0, 0, 0, xs, ys, n);
      long[] opened = Reveal.toAll(ctx, 2, 0, 1, z, n);
      dealer.finish(3);
      return opened;
    });
    assertProducts(out, x, y);
  }

  @org.junit.jupiter.api.Test
  @org.junit.jupiter.api.Timeout(60)
  void anEmptyBatchMultipliesAndOpensToNothingWithoutWaiting() throws Exception {
    List<long[]> out = PartyThreads.runWithDealer(2, ctx -> {
      DealerCorrelationSource dealer = new DealerCorrelationSource(ctx);
      dealer.request(1, List.of(Need.triples(0, 0, 0)));
      long[] z = BeaverMultiplication.multiply(ctx, dealer, 1, 0, 0, 0, new long[0], new long[0],
          0);
      long[] opened = Reveal.toAll(ctx, 1, 0, 1, z, 0);
      dealer.finish(2);
      return opened;
    });
    for (long[] o : out) {
      assertEquals(0, o.length);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void dealerTriplesAreCorrectDeterministicAndUniform(int parties) throws Exception {
    int n = 100_000;
    List<BeaverTriples[]> out = PartyThreads.runWithDealer(parties, ctx -> {
      DealerCorrelationSource dealer = new DealerCorrelationSource(ctx);
      dealer.request(1, List.of(Need.triples(3, 0, n), Need.triples(3, 1, n)));
      BeaverTriples t = dealer.triples(1, 3, 0, n);
      BeaverTriples again = dealer.triples(1, 3, 0, n);
      BeaverTriples other = dealer.triples(1, 3, 1, n);
      dealer.finish(2);
      return new BeaverTriples[] {t, again, other};
    });
    for (int i = 0; i < n; i += 997) {
      long a = 0;
      long b = 0;
      long c = 0;
      for (BeaverTriples[] p : out) {
        a += p[0].a()[i];
        b += p[0].b()[i];
        c += p[0].c()[i];
      }
      assertEquals(a * b, c, "triple " + i);
    }
    for (BeaverTriples[] p : out) {
      assertArrayEquals(p[0].c(), p[1].c(), "the same coordinates give the same triples");
      assertTrue(p[0].a()[0] != p[2].a()[0], "another stream gives other triples");
      for (long[] v : new long[][] {p[0].a(), p[0].b(), p[0].c()}) {
        assertBalanced(v);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void openedMaskedValuesShowNothingOfTheInputs(int parties) throws Exception {
    int n = 100_000;
    long[] constant = new long[n];
    java.util.Arrays.fill(constant, 7L);
    List<long[]> opened = PartyThreads.runWithDealer(parties, ctx -> {
      DealerCorrelationSource dealer = new DealerCorrelationSource(ctx);
      dealer.request(1, List.of(Need.triples(0, 0, n)));
      long[] xs = shareOf(ctx, 0, 1, 0, constant);
      BeaverMultiplication.Pending p = BeaverMultiplication.send(ctx, dealer, 1, 0, 0, 0, xs, xs, n);
      BeaverMultiplication.finish(ctx, 1, 0, 0, p);
      dealer.finish(2);
      return p.maskedDe();
    });
    for (long[] de : opened) {
      assertBalanced(de); // this party's share of d and e: uniform although x is constant
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void dotProductEqualsPlaintext(int parties) throws Exception {
    int n = 5_000;
    long[] x = values(5, n, 20);
    long[] y = values(6, n, 20);
    List<Long> out = PartyThreads.runWithDealer(parties, ctx -> {
      DealerCorrelationSource dealer = new DealerCorrelationSource(ctx);
      dealer.request(1, List.of(Need.triples(0, 0, n)));
      long s = BeaverMultiplication.dot(ctx, dealer, 1, 0, 0, 0, shareOf(ctx, 0, 1, 0, x),
          shareOf(ctx, 1, 1, 1, y), n);
      long opened = Reveal.toAll(ctx, 1, 0, 1, new long[] {s}, 1)[0];
      dealer.finish(2);
      return opened;
    });
    long expected = 0;
    for (int i = 0; i < n; i++) {
      expected += x[i] * y[i];
    }
    for (long o : out) {
      assertEquals(expected, o);
    }
  }

  /** Fixed-point products of values below {@code 2^k}; returns how many missed by more than 1 unit. */
  static int truncatedProductFailures(int k, int n) throws Exception {
    FixedPoint fp = new FixedPoint(16);
    SplittableRandom r = new SplittableRandom(9 + k);
    double[] xv = new double[n];
    double[] yv = new double[n];
    long[] x = new long[n];
    long[] y = new long[n];
    double range = Math.scalb(1.0, k);
    for (int i = 0; i < n; i++) {
      xv[i] = (r.nextDouble() * 2 - 1) * range;
      yv[i] = (r.nextDouble() * 2 - 1) * range;
      x[i] = fp.encode(xv[i], "x");
      y[i] = fp.encode(yv[i], "y");
    }
    List<long[]> out = PartyThreads.runWithDealer(2, ctx -> {
      DealerCorrelationSource dealer = new DealerCorrelationSource(ctx);
      dealer.request(1, List.of(Need.triples(0, 0, n)));
      long[] z = BeaverMultiplication.multiply(ctx, dealer, 1, 0, 0, 0, shareOf(ctx, 0, 1, 0, x),
          shareOf(ctx, 1, 1, 1, y), n);
      Truncation.probabilisticTwoParty(ctx, z, n, 16);
      long[] opened = Reveal.toAll(ctx, 1, 0, 1, z, n);
      dealer.finish(2);
      return opened;
    });
    int bad = 0;
    for (int i = 0; i < n; i++) {
      long exact = Math.floorDiv(x[i] * y[i], 1L << 16); // |x*y| < 2^(2k+32) < 2^63: no wrap
      long got = out.get(0)[i];
      if (got != exact && got != exact + 1) {
        bad++;
      } else {
        // Encoding errs by 2^-17 per factor (times the other factor), truncation by 2^-16.
        assertEquals(xv[i] * yv[i], fp.decode(got), range * Math.scalb(1.0, -16) + 1e-4,
            "product " + i);
      }
    }
    return bad;
  }

  @org.junit.jupiter.api.Test
  void twoPartyTruncationIsWithinOneUnitForSmallValues() throws Exception {
    // Factors below 2^4: failure probability below 2^(2*4+32+1-64) = 2^-23 per element.
    assertEquals(0, truncatedProductFailures(4, 100_000));
  }

  @org.junit.jupiter.api.Test
  void twoPartyTruncationFailsNoMoreOftenThanItsBound() throws Exception {
    // Factors below 2^10: bound 2^(2*10+32+1-64) = 2^-11 per element, about 49 in 100,000.
    int n = 100_000;
    int bad = truncatedProductFailures(10, n);
    assertTrue(bad <= 2 * n * Math.scalb(1.0, -11) + 10, bad + " failures");
  }

  /** Each of a few bit positions is 1 in about half of the values (6 standard deviations). */
  static void assertBalanced(long[] v) {
    for (int bit : new int[] {0, 7, 31, 62, 63}) {
      long ones = 0;
      for (long x : v) {
        ones += (x >>> bit) & 1;
      }
      double frac = ones / (double) v.length;
      assertTrue(Math.abs(frac - 0.5) < 6 * 0.5 / Math.sqrt(v.length), "bit " + bit + ": " + frac);
    }
  }
}
