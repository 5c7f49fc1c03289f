package org.sparkmpc.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.sparkmpc.spark.ml.BinaryMetrics;

/**
 * A secure logistic model, as a party runner wrote it ({@code model.csv}: {@code term,value}, each
 * feature then {@code (intercept)}), beside Spark ML's logistic regression fitted on the same
 * pooled rows: the coefficients, and accuracy and AUC of both models on those rows, printed as the
 * demo shows them.
 *
 * @param accuracy      secure, then Spark ML
 * @param auc           secure, then Spark ML
 * @param rows          rows scored
 * @param positiveShare share of rows labelled 1
 * @param sparkMlMillis Spark ML's fit time
 */
record LogisticComparison(double[] accuracy, double[] auc, int rows, double positiveShare,
    long sparkMlMillis) {

  /** Whether accuracy and AUC of the two models differ by at most {@code tolerance}. */
  boolean agrees(double tolerance) {
    return Math.abs(accuracy[0] - accuracy[1]) <= tolerance
        && Math.abs(auc[0] - auc[1]) <= tolerance;
  }

  /** The terms and values of a runner's {@code model.csv}, in file order. */
  static Map<String, Double> readModel(Path modelCsv) throws IOException {
    Map<String, Double> model = new LinkedHashMap<>();
    for (String line : Files.readAllLines(modelCsv)) {
      String[] f = line.split(",");
      if (!f[0].equals("term")) {
        model.put(f[0], Double.parseDouble(f[1]));
      }
    }
    return model;
  }

  /**
   * Fit Spark ML on {@code pooled} (the features and the label, all doubles), score both models on
   * its rows, and print the comparison table with the {@code truth} column (the model the data was
   * drawn from, features then intercept).
   */
  static LogisticComparison compare(Map<String, Double> model, Dataset<Row> pooled,
      String[] features, String label, double regParam, double[] truth) {
    int d = features.length;
    double[] coef = new double[d];
    for (int j = 0; j < d; j++) {
      coef[j] = model.get(features[j]);
    }
    double intercept = model.get("(intercept)");
    List<Row> all = pooled.select(label, features).collectAsList();
    SparkMlReference.Fit ml = SparkMlReference.logistic(pooled, features, label, regParam, true);
    double[][] x = new double[all.size()][d];
    double[] labels = new double[all.size()];
    for (int i = 0; i < all.size(); i++) {
      labels[i] = all.get(i).getDouble(0);
      for (int j = 0; j < d; j++) {
        x[i][j] = all.get(i).getDouble(j + 1);
      }
    }
    double[] ours = SparkMlReference.probabilities(x, coef, intercept);
    double[] theirs = SparkMlReference.probabilities(x, ml.coefficients(), ml.intercept());
    double[] acc = {BinaryMetrics.accuracy(ours, labels, 0.5),
        BinaryMetrics.accuracy(theirs, labels, 0.5)};
    double[] auc = {BinaryMetrics.auc(ours, labels), BinaryMetrics.auc(theirs, labels)};

    System.out.println();
    System.out.printf("%-12s %14s %14s %12s %10s%n", "term", "secure", "Spark ML", "difference",
        "true");
    double[] ref = Arrays.copyOf(ml.coefficients(), d + 1);
    ref[d] = ml.intercept();
    int k = 0;
    for (Map.Entry<String, Double> e : model.entrySet()) {
      System.out.printf("%-12s %14.6g %14.6g %12.2e %10s%n", e.getKey(), e.getValue(), ref[k],
          Math.abs(e.getValue() - ref[k]), truth[k]);
      k++;
    }
    System.out.printf("%-12s %14.4f %14.4f %12.2e%n", "(accuracy)", acc[0], acc[1],
        Math.abs(acc[0] - acc[1]));
    System.out.printf("%-12s %14.4f %14.4f %12.2e%n", "(AUC)", auc[0], auc[1],
        Math.abs(auc[0] - auc[1]));
    return new LogisticComparison(acc, auc, labels.length,
        Arrays.stream(labels).sum() / labels.length, ml.millis());
  }
}
