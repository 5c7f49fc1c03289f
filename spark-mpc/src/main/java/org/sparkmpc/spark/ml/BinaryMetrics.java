package org.sparkmpc.spark.ml;

import java.util.Arrays;

/**
 * Quality of a binary classifier from its scores and the true labels, computed in plaintext by
 * whoever holds both (a recipient of opened predictions, or a test): the area under the ROC curve,
 * the curve itself, and the accuracy at a threshold. Plain Java on arrays, so that tests and
 * notebooks can use it without a Spark job; the values are those of Spark ML's {@code
 * BinaryClassificationEvaluator} (metric {@code areaUnderROC}, below its binning threshold of 2000
 * distinct scores) and of {@code LogisticRegressionModel}'s predictions.
 *
 * <p>Labels are 0 (negative) or 1 (positive). Every method refuses, with an {@link
 * IllegalArgumentException} that says which, arrays of different lengths, empty arrays, a label
 * other than 0 or 1, and a NaN score; the ROC curve and its area also refuse labels of one class
 * only, for which they are not defined.
 */
public final class BinaryMetrics {
  private BinaryMetrics() {}

  /**
   * The area under the ROC curve: the probability that a random positive row scores above a
   * random negative one, a tie counting one half (the Mann–Whitney statistic with average ranks for
   * ties). Equals the trapezoidal area under {@link #roc}. 0.5 is a random ranking, 1 a perfect one.
   *
   * @param scores any ordering of the rows: probabilities, margins or a single feature; higher
   *               means more likely positive
   * @param labels 0 or 1 for each row
   */
  public static double auc(double[] scores, double[] labels) {
    return walk(scores, labels, false).area;
  }

  /**
   * The ROC curve: for each distinct score {@code t}, from the highest down, the false positive
   * rate and the true positive rate of predicting positive when {@code score >= t}; preceded by
   * (0, 0). It ends at (1, 1), since the last threshold is the lowest score. Rows with equal scores
   * move the curve together, in one diagonal step.
   *
   * @param scores higher means more likely positive
   * @param labels 0 or 1 for each row
   * @return {@code {fpr, tpr}}, two arrays of the same length, one more than the number of distinct
   *     scores; both non-decreasing
   */
  public static double[][] roc(double[] scores, double[] labels) {
    Walk w = walk(scores, labels, true);
    return new double[][] {w.fpr, w.tpr};
  }

  /**
   * The share of rows whose prediction equals the label, predicting 1 when {@code probability >
   * threshold} (strictly, as Spark ML's {@code LogisticRegressionModel} does) and 0 otherwise.
   * Unlike the ROC curve it is defined when all labels are of one class.
   *
   * @param probabilities the predicted probability of class 1 for each row (any score works, with
   *                      a threshold on its scale)
   * @param labels        0 or 1 for each row
   * @param threshold     the decision threshold, usually 0.5; not NaN
   */
  public static double accuracy(double[] probabilities, double[] labels, double threshold) {
    check(probabilities, labels, "probabilities");
    if (Double.isNaN(threshold)) {
      throw new IllegalArgumentException("the threshold is NaN");
    }
    long right = 0;
    for (int i = 0; i < labels.length; i++) {
      double predicted = probabilities[i] > threshold ? 1.0 : 0.0;
      right += predicted == labels[i] ? 1 : 0;
    }
    return right / (double) labels.length;
  }

  /** The curve (when asked for) and its area, from one pass over the distinct scores. */
  private record Walk(double area, double[] fpr, double[] tpr) {}

  private static Walk walk(double[] scores, double[] labels, boolean curve) {
    int positives = check(scores, labels, "scores");
    int negatives = labels.length - positives;
    if (positives == 0 || negatives == 0) {
      throw new IllegalArgumentException("all " + labels.length + " labels are "
          + (positives == 0 ? "0 (negative)" : "1 (positive)")
          + ": the ROC curve and its area need rows of both classes");
    }
    double[] pos = new double[positives];
    double[] neg = new double[negatives];
    for (int i = 0, p = 0, n = 0; i < labels.length; i++) {
      if (labels[i] == 1.0) {
        pos[p++] = scores[i];
      } else {
        neg[n++] = scores[i];
      }
    }
    Arrays.sort(pos);
    Arrays.sort(neg);
    double[] fpr = curve ? new double[labels.length + 1] : null;
    double[] tpr = curve ? new double[labels.length + 1] : null;
    int points = 1;
    // From the highest score down: i and j index the highest positive and negative not yet
    // counted; tp and fp count those above the current threshold. The area is summed in counts
    // (exact: half-integers), one trapezoid per threshold, and scaled once at the end.
    int i = positives - 1;
    int j = negatives - 1;
    long tp = 0;
    long fp = 0;
    double area = 0;
    while (i >= 0 || j >= 0) {
      double t = i < 0 ? neg[j] : j < 0 ? pos[i] : Math.max(pos[i], neg[j]);
      long tp0 = tp;
      long fp0 = fp;
      while (i >= 0 && pos[i] == t) {
        tp++;
        i--;
      }
      while (j >= 0 && neg[j] == t) {
        fp++;
        j--;
      }
      area += (fp - fp0) * (double) (tp + tp0) / 2;
      if (curve) {
        fpr[points] = fp / (double) negatives;
        tpr[points] = tp / (double) positives;
        points++;
      }
    }
    area /= (double) positives * negatives;
    return curve
        ? new Walk(area, Arrays.copyOf(fpr, points), Arrays.copyOf(tpr, points))
        : new Walk(area, null, null);
  }

  /** Checks the input; returns the number of positive labels. */
  private static int check(double[] scores, double[] labels, String what) {
    if (scores == null || labels == null) {
      throw new IllegalArgumentException((scores == null ? what : "labels") + " is null");
    }
    if (scores.length != labels.length) {
      throw new IllegalArgumentException(scores.length + " " + what + " but " + labels.length
          + " labels");
    }
    if (labels.length == 0) {
      throw new IllegalArgumentException("no rows: " + what + " and labels are empty");
    }
    int positives = 0;
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] == 1.0) {
        positives++;
      } else if (labels[i] != 0.0) {
        throw new IllegalArgumentException("label " + labels[i] + " at row " + i
            + " is neither 0 nor 1");
      }
      if (Double.isNaN(scores[i])) {
        throw new IllegalArgumentException(what + " holds NaN at row " + i);
      }
    }
    return positives;
  }
}
