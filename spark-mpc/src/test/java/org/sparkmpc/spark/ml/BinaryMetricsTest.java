package org.sparkmpc.spark.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * {@link BinaryMetrics} against brute force: the area under the ROC curve as the share of
 * (positive, negative) pairs ranked right, ties counting half. (Spark ML's evaluator is not on this
 * module's classpath; {@code PublicDatasetsTest} in integration-tests compares with it.)
 */
class BinaryMetricsTest {

  @Test
  void aucEqualsThePairCountOnRandomDataWithTies() {
    SplittableRandom random = new SplittableRandom(20_261_130L);
    for (int trial = 0; trial < 200; trial++) {
      int n = 2 + random.nextInt(300);
      int levels = 1 + random.nextInt(20);       // few distinct scores: many ties
      double[] scores = new double[n];
      double[] labels = new double[n];
      for (int i = 0; i < n; i++) {
        labels[i] = random.nextInt(3) == 0 ? 1 : 0;
        // Positives score a little higher on average, so the area is not always near 0.5.
        scores[i] = random.nextInt(levels) + (labels[i] == 1 ? random.nextInt(3) : 0);
      }
      labels[0] = 1;
      labels[1] = 0;
      double expected = pairCount(scores, labels);
      assertEquals(expected, BinaryMetrics.auc(scores, labels), 1e-12, "trial " + trial);
      double[][] roc = BinaryMetrics.roc(scores, labels);
      assertEquals(expected, trapezoids(roc), 1e-12, "area under the curve, trial " + trial);
      assertEquals(Arrays.stream(scores).distinct().count() + 1, roc[0].length,
          "points of the curve, trial " + trial);
    }
  }

  @Test
  void rocHasOnePointPerDistinctScoreFromOriginToOne() {
    double[] scores = {0.9, 0.8, 0.8, 0.5, 0.3, 0.3, 0.1};
    double[] labels = {1, 1, 0, 1, 0, 0, 0};
    double[][] roc = BinaryMetrics.roc(scores, labels);
    // Thresholds 0.9, 0.8 (a positive and a negative together), 0.5, 0.3, 0.1.
    assertArrayEquals(new double[] {0, 0, 0.25, 0.25, 0.75, 1}, roc[0], 1e-15);
    assertArrayEquals(new double[] {0, 1 / 3.0, 2 / 3.0, 1, 1, 1}, roc[1], 1e-15);
    // 12 pairs: 10 ranked right, the tie at 0.8 counts half, 0.5 under 0.8 counts nothing.
    assertEquals(10.5 / 12, BinaryMetrics.auc(scores, labels), 1e-15);
  }

  @Test
  void knownAreas() {
    assertEquals(0.75, BinaryMetrics.auc(new double[] {0.1, 0.4, 0.35, 0.8},
        new double[] {0, 0, 1, 1}), 1e-15);
    assertEquals(1.0, BinaryMetrics.auc(new double[] {1, 2, 3, 4}, new double[] {0, 0, 1, 1}));
    assertEquals(0.0, BinaryMetrics.auc(new double[] {4, 3, 2, 1}, new double[] {0, 0, 1, 1}));
    assertEquals(0.5, BinaryMetrics.auc(new double[] {7, 7, 7}, new double[] {0, 1, 0}));
    double[][] tied = BinaryMetrics.roc(new double[] {7, 7, 7}, new double[] {0, 1, 0});
    assertArrayEquals(new double[] {0, 1}, tied[0]);
    assertArrayEquals(new double[] {0, 1}, tied[1]);
    // Infinite scores rank like any other; -0.0 and 0.0 are one score.
    assertEquals(1.0, BinaryMetrics.auc(new double[] {Double.NEGATIVE_INFINITY, -0.0,
        Double.POSITIVE_INFINITY}, new double[] {0, 0, 1}));
    assertEquals(0.5, BinaryMetrics.auc(new double[] {-0.0, 0.0}, new double[] {0, 1}));
  }

  @Test
  void accuracyPredictsOneAboveTheThresholdOnly() {
    double[] p = {0.2, 0.5, 0.51, 0.9};
    assertEquals(1.0, BinaryMetrics.accuracy(p, new double[] {0, 0, 1, 1}, 0.5));
    assertEquals(0.75, BinaryMetrics.accuracy(p, new double[] {0, 1, 1, 1}, 0.5));
    assertEquals(0.5, BinaryMetrics.accuracy(p, new double[] {0, 0, 1, 1}, 0.0));
    // One class only is fine for accuracy.
    assertEquals(0.5, BinaryMetrics.accuracy(p, new double[] {0, 0, 0, 0}, 0.5));
  }

  @Test
  void badInputIsRefusedSayingWhy() {
    double[] s = {0.1, 0.2};
    double[] l = {0, 1};
    refused("2 scores but 3 labels", () -> BinaryMetrics.auc(s, new double[] {0, 1, 0}));
    refused("3 probabilities but 2 labels",
        () -> BinaryMetrics.accuracy(new double[] {0, 1, 0}, l, 0.5));
    refused("empty", () -> BinaryMetrics.roc(new double[0], new double[0]));
    refused("empty", () -> BinaryMetrics.accuracy(new double[0], new double[0], 0.5));
    refused("label 2.0 at row 1 is neither 0 nor 1",
        () -> BinaryMetrics.auc(s, new double[] {0, 2}));
    refused("label -1.0 at row 0", () -> BinaryMetrics.accuracy(s, new double[] {-1, 1}, 0.5));
    refused("scores holds NaN at row 1", () -> BinaryMetrics.auc(new double[] {0, Double.NaN}, l));
    refused("probabilities holds NaN at row 0",
        () -> BinaryMetrics.accuracy(new double[] {Double.NaN, 1}, l, 0.5));
    refused("threshold is NaN", () -> BinaryMetrics.accuracy(s, l, Double.NaN));
    refused("all 2 labels are 1 (positive)", () -> BinaryMetrics.auc(s, new double[] {1, 1}));
    refused("all 2 labels are 0 (negative)", () -> BinaryMetrics.roc(s, new double[] {0, 0}));
    refused("labels is null", () -> BinaryMetrics.auc(s, null));
  }

  private static void refused(String message, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().contains(message), "message: " + e.getMessage());
  }

  /** Every (positive, negative) pair: 1 when the positive scores higher, 1/2 for a tie. */
  private static double pairCount(double[] scores, double[] labels) {
    double right = 0;
    long pairs = 0;
    for (int i = 0; i < scores.length; i++) {
      for (int j = 0; j < scores.length; j++) {
        if (labels[i] == 1 && labels[j] == 0) {
          pairs++;
          right += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
        }
      }
    }
    return right / pairs;
  }

  /** The trapezoidal area under a curve {fpr, tpr}, after checking its shape. */
  private static double trapezoids(double[][] roc) {
    double[] x = roc[0];
    double[] y = roc[1];
    assertEquals(x.length, y.length);
    assertEquals(0.0, x[0]);
    assertEquals(0.0, y[0]);
    assertEquals(1.0, x[x.length - 1], 1e-15);
    assertEquals(1.0, y[y.length - 1], 1e-15);
    double[] sortedX = x.clone();
    Arrays.sort(sortedX);
    assertArrayEquals(sortedX, x, "fpr not non-decreasing");
    double area = 0;
    for (int i = 1; i < x.length; i++) {
      assertTrue(y[i] >= y[i - 1], "tpr not non-decreasing");
      area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2;
    }
    return area;
  }
}
