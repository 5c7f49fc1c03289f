package org.sparkmpc.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkmpc.protocol.BeaverMultiplicationTest.assertBalanced;
import static org.sparkmpc.share.PartyThreads.shareOf;
import static org.sparkmpc.share.PartyThreads.values;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.DealerCorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.correlation.TruncationPairs;
import org.sparkmpc.correlation.ot.OtCorrelationSource;
import org.sparkmpc.ring.Matrices;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.share.PartyThreads;
import org.sparkmpc.share.Reveal;

/**
 * Truncation with pairs, Gram and matrix products with matrix triples, and the linear solve inside
 * MPC, with the dealer for 2 and 3 parties, against plaintext arithmetic.
 */
class MatrixAndSolveTest {

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void truncationWithPairsIsExactToOneBitOverTheWholeRange(int parties) throws Exception {
    int n = 50_000;
    int f = 20;
    long[] z = values(11, n, 63); // |z| < 2^62
    z[0] = (1L << 62) - 1;
    z[1] = -(1L << 62) + 1;
    z[2] = 0;
    z[3] = -1;
    List<long[][]> out = PartyThreads.runWithDealer(parties, ctx -> {
      DealerCorrelationSource dealer = new DealerCorrelationSource(ctx);
      dealer.request(1, List.of(Need.truncation(0, 0, n, f)));
      long[] zs = shareOf(ctx, 0, 1, 0, z);
      TruncationPairs pairs = dealer.truncationPairs(1, 0, 0, n, f);
      Truncation.withPairs(ctx, 1, 0, 0, pairs, 0, zs, n);
      long[] opened = Reveal.toAll(ctx, 1, 0, 1, zs, n);
      dealer.finish(2);
      return new long[][] {opened, pairs.r()};
    });
    for (int i = 0; i < n; i++) {
      long exact = z[i] >> f;
      long got = out.get(0)[0][i];
      assertTrue(got == exact || got == exact + 1, "element " + i);
    }
    for (long[][] o : out) {
      assertBalanced(o[1]);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void gramWithGramTriplesEqualsPlaintext(int parties) throws Exception {
    int rows = 3_000;
    int m = 4;
    long[][] cols = new long[m][];
    for (int c = 0; c < m; c++) {
      cols[c] = values(20 + c, rows, 64);
    }
    List<long[]> out = PartyThreads.runWithDealer(parties, ctx -> {
      DealerCorrelationSource dealer = new DealerCorrelationSource(ctx);
      dealer.request(1, List.of(Need.gram(2, 0, rows, m)));
      long[][] shares = new long[m][];
      for (int c = 0; c < m; c++) {
        shares[c] = shareOf(ctx, c % parties, 1, c, cols[c]);
      }
      MatrixProducts.PendingGram p = MatrixProducts.gramPrepare(dealer, 1, 2, 0, shares, rows);
      MatrixProducts.sendMasked(ctx, 1, 2, 0, p.masked());
      long[] g = MatrixProducts.gramFinish(ctx, 1, 2, 0, p);
      long[] opened = Reveal.toAll(ctx, 1, 2, 1, g, m * m);
      dealer.finish(2);
      return opened;
    });
    long[] flat = new long[rows * m];
    for (int c = 0; c < m; c++) {
      System.arraycopy(cols[c], 0, flat, c * rows, rows);
    }
    long[] expected = Matrices.gram(flat, rows, m);
    for (long[] o : out) {
      assertArrayEquals(expected, o);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void matrixProductsWithMatrixTriplesEqualPlaintext(int parties) throws Exception {
    int count = 3;
    int p = 4;
    int q = 5;
    int r = 2;
    long[] x = values(31, count * p * q, 64);
    long[] y = values(32, count * q * r, 64);
    List<long[]> out = PartyThreads.runWithDealer(parties, ctx -> {
      DealerCorrelationSource dealer = new DealerCorrelationSource(ctx);
      dealer.request(1, List.of(Need.matrix(-1, 0, count, p, q, r)));
      long[] z = MatrixProducts.multiply(ctx, 1, -1, 5, dealer.matrixTriples(1, -1, 0, count, p,
          q, r), shareOf(ctx, 0, 1, 0, x), shareOf(ctx, parties - 1, 1, 1, y));
      long[] opened = Reveal.toAll(ctx, 1, -1, 6, z, z.length);
      dealer.finish(2);
      return opened;
    });
    long[] expected = new long[count * p * r];
    for (int u = 0; u < count; u++) {
      Matrices.multiplyAdd(x, u * p * q, y, u * q * r, expected, u * p * r, p, q, r);
    }
    for (long[] o : out) {
      assertArrayEquals(expected, o);
    }
  }

  /** Standardised features, y = X w + noise; returns the rows as [x..., 1, y]. */
  static double[][] regressionRows(int n, double[] w, double intercept, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int d = w.length;
    double[][] z = new double[n][d + 2];
    for (int t = 0; t < n; t++) {
      double y = intercept + 0.1 * rnd.nextGaussian();
      for (int j = 0; j < d; j++) {
        z[t][j] = rnd.nextGaussian() + (j > 0 ? 0.3 * z[t][j - 1] : 0);
        y += w[j] * z[t][j];
      }
      z[t][d] = 1;
      z[t][d + 1] = y;
    }
    return z;
  }

  /** ZᵀZ of the rows at scale 2^32 from values encoded at scale 2^16, as the parties hold it. */
  static long[] gramAtScale32(double[][] z) {
    int m = z[0].length;
    long[] g = new long[m * m];
    for (double[] row : z) {
      long[] enc = new long[m];
      for (int j = 0; j < m; j++) {
        enc[j] = Math.round(row[j] * 65536);
      }
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < m; j++) {
          g[i * m + j] += enc[i] * enc[j];
        }
      }
    }
    return g;
  }

  /** Least squares in plaintext doubles (Gaussian elimination) and R². */
  static double[] plaintextFit(double[][] z) {
    int m = z[0].length;
    int k = m - 1;
    double[][] a = new double[k][k + 1];
    for (double[] row : z) {
      for (int i = 0; i < k; i++) {
        for (int j = 0; j < k; j++) {
          a[i][j] += row[i] * row[j];
        }
        a[i][k] += row[i] * row[k];
      }
    }
    for (int c = 0; c < k; c++) {
      for (int r = 0; r < k; r++) {
        if (r != c) {
          double f = a[r][c] / a[c][c];
          for (int j = c; j <= k; j++) {
            a[r][j] -= f * a[c][j];
          }
        }
      }
    }
    double[] w = new double[k + 1];
    for (int i = 0; i < k; i++) {
      w[i] = a[i][k] / a[i][i];
    }
    double mean = 0;
    for (double[] row : z) {
      mean += row[k] / z.length;
    }
    double sse = 0;
    double sst = 0;
    for (double[] row : z) {
      double p = 0;
      for (int i = 0; i < k; i++) {
        p += w[i] * row[i];
      }
      sse += (row[k] - p) * (row[k] - p);
      sst += (row[k] - mean) * (row[k] - mean);
    }
    w[k] = 1 - sse / sst;
    return w;
  }

  /** Runs the solve on shares of {@code g} (party 0 holds the matrix) and opens the result. */
  static long[] solveAndOpen(MpcContext ctx, CorrelationSource source, long[] g, int m, long n) {
    FixedPointEngine counted = FixedPointEngine.counting(m - 1);
    SecureLinearSolve.solve(counted, new long[m * m], m, n, 32, m - 2, 1e4);
    OperatorScope scope = ctx.coordinates().operator("solve");
    FixedPointEngine.Plan plan = counted.plan(scope, source);
    source.request(scope.id(), plan.needs());
    long[] gs = shareOf(ctx, 0, scope.id(), scope.streams("input", 1).stream(0), g);
    FixedPointEngine live = FixedPointEngine.live(ctx, source, plan);
    long[] w = SecureLinearSolve.solve(live, gs, m, n, 32, m - 2, 1e4);
    assertEquals(plan.rounds().count(), live.rounds(), "the live run used the planned rounds");
    return Reveal.toAll(ctx, scope.id(), Coordinates.DRIVER_PARTITION, scope.round("reveal"), w,
        w.length);
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void solveInsideMpcMatchesPlaintextLeastSquares(int parties) throws Exception {
    int n = 5_000;
    double[][] z = regressionRows(n, new double[] {1.5, -2.0, 0.5}, 3.0, 7);
    long[] g = gramAtScale32(z);
    int m = z[0].length;
    List<long[]> out = PartyThreads.runWithDealer(parties, ctx -> {
      DealerCorrelationSource dealer = new DealerCorrelationSource(ctx);
      long[] w = solveAndOpen(ctx, dealer, g, m, n);
      dealer.finish(ctx.coordinates().operator("end of session").id());
      return w;
    });
    double[] expected = plaintextFit(z);
    List<Double> got = new ArrayList<>();
    for (long v : out.get(0)) {
      got.add(Math.scalb((double) v, -SecureLinearSolve.SCALE));
    }
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], got.get(i), 1e-3, "output " + i + " of " + got);
    }
    for (long[] o : out) {
      assertArrayEquals(out.get(0), o);
    }
  }

  @org.junit.jupiter.api.Test
  void theConvergenceMeasureIsTinyForAGoodSystemAndNotForCollinearFeatures() throws Exception {
    int n = 2_000;
    double[][] good = regressionRows(n, new double[] {1.5, -2.0, 0.5}, 3.0, 9);
    double[][] collinear = regressionRows(n, new double[] {1.5, -2.0, 0.5}, 3.0, 9);
    for (double[] row : collinear) {
      row[2] = row[0] - 0.5 * row[1]; // a combination of the other two features
    }
    long threshold = 1L << 24; // ||I - CX|| below 2^-8, at 40 bits
    for (double[][] z : List.of(good, collinear)) {
      long[] g = gramAtScale32(z);
      int m = z[0].length;
      List<long[]> out = PartyThreads.runWithDealer(2, ctx -> {
        DealerCorrelationSource dealer = new DealerCorrelationSource(ctx);
        FixedPointEngine counted = FixedPointEngine.counting(m - 1);
        SecureLinearSolve.solveChecked(counted, new long[m * m], m, n, 32, m - 2, 1e4);
        OperatorScope scope = ctx.coordinates().operator("checked solve");
        FixedPointEngine.Plan plan = counted.plan(scope, dealer);
        dealer.request(scope.id(), plan.needs());
        long[] gs = shareOf(ctx, 0, scope.id(), scope.streams("input", 1).stream(0), g);
        long[] w = SecureLinearSolve.solveChecked(FixedPointEngine.live(ctx, dealer, plan), gs,
            m, n, 32, m - 2, 1e4);
        long[] open = Reveal.toAll(ctx, scope.id(), Coordinates.DRIVER_PARTITION,
            scope.round("reveal"), w, w.length);
        dealer.finish(ctx.coordinates().operator("end of session").id());
        return open;
      });
      long measure = out.get(0)[m];
      boolean small = measure >= 0 && measure < threshold;
      System.out.println((z == good ? "good" : "collinear") + " system: ||I - CX||² = "
          + Math.scalb((double) measure, -40));
      assertEquals(z == good, small, "convergence measure " + measure + " (2^-40)");
    }
  }

  @org.junit.jupiter.api.Test
  void solveWithTheOtSourceMatchesPlaintextLeastSquares() throws Exception {
    // Two parties, no dealer: truncation pairs from shared random bits, products from OT triples.
    int n = 3_000;
    double[][] z = regressionRows(n, new double[] {0.7, -1.1}, -0.5, 8);
    long[] g = gramAtScale32(z);
    int m = z[0].length;
    List<long[]> out = PartyThreads.run(2, java.time.Duration.ofSeconds(60),
        ctx -> solveAndOpen(ctx, new OtCorrelationSource(ctx), g, m, n));
    double[] expected = plaintextFit(z);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], Math.scalb((double) out.get(0)[i], -SecureLinearSolve.SCALE),
          1e-3, "output " + i);
    }
    assertArrayEquals(out.get(0), out.get(1));
  }

  @org.junit.jupiter.api.Test
  void truncationWithPairsFromRandomBitsIsExactToOneBit() throws Exception {
    int n = 2_000;
    int f = 20;
    long[] z = values(12, n, 60);
    List<long[]> out = PartyThreads.run(2, java.time.Duration.ofSeconds(60), ctx -> {
      OtCorrelationSource ot = new OtCorrelationSource(ctx);
      FixedPointEngine counted = FixedPointEngine.counting(1);
      counted.truncate(new long[n], f);
      OperatorScope scope = ctx.coordinates().operator("truncate");
      FixedPointEngine.Plan plan = counted.plan(scope, ot);
      ot.request(scope.id(), plan.needs());
      FixedPointEngine live = FixedPointEngine.live(ctx, ot, plan);
      long[] zs = live.truncate(shareOf(ctx, 0, scope.id(), 0, z), f);
      assertEquals(2, live.rounds(), "random bits, then the truncation");
      assertThrows(IllegalArgumentException.class, () -> live.truncate(new long[1], f),
          "a round beyond the plan is refused");
      return Reveal.toAll(ctx, scope.id(), 0, scope.round("reveal"), zs, n);
    });
    for (int i = 0; i < n; i++) {
      long exact = z[i] >> f;
      long got = out.get(0)[i];
      assertTrue(got == exact || got == exact + 1, "element " + i);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void openedGramMasksShowNothingOfTheInputs(int parties) throws Exception {
    int rows = 60_000;
    long[] constant = new long[rows];
    java.util.Arrays.fill(constant, 7L << 16);
    List<long[]> masked = PartyThreads.runWithDealer(parties, ctx -> {
      DealerCorrelationSource dealer = new DealerCorrelationSource(ctx);
      dealer.request(1, List.of(Need.gram(0, 0, rows, 2)));
      long[] xs = shareOf(ctx, 0, 1, 0, constant);
      MatrixProducts.PendingGram p = MatrixProducts.gramPrepare(dealer, 1, 0, 0,
          new long[][] {xs, xs}, rows);
      MatrixProducts.sendMasked(ctx, 1, 0, 0, p.masked());
      MatrixProducts.gramFinish(ctx, 1, 0, 0, p);
      dealer.finish(2);
      return p.masked();
    });
    for (long[] e : masked) {
      assertBalanced(e); // what this party opened: uniform although the column is constant
    }
  }
}
