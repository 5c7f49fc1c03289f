package org.sparkmpc.it;

import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.regression.LinearRegression;
import org.apache.spark.ml.regression.LinearRegressionModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The plaintext reference for secure linear regression: Spark ML's {@link LinearRegression} fitted
 * on the same data pooled in one place (what the parties would compute if they could share their
 * rows). Tests compare the secure result against it and the benchmark reports its fit time next to
 * the secure one. Ordinary least squares through the normal equations: solver {@code "normal"}, no
 * regularisation, an intercept, no standardisation. For secure logistic regression, {@link
 * #logistic}: Spark ML's {@link LogisticRegression} with the same L2 regularisation and
 * standardisation, fitted to convergence.
 */
public final class SparkMlReference {
  private static final String FEATURES_COLUMN = "__sparkmpc_features";

  private SparkMlReference() {}

  /**
   * One plaintext fit: the coefficients in the order of {@code features}, the intercept, the
   * training R² and the wall time of the fit alone, in milliseconds (assembling the features is not
   * counted).
   */
  public record Fit(double[] coefficients, double intercept, double r2, long millis) {}

  /**
   * Fits {@code label} on {@code features} over {@code joined}, the pooled plaintext table.
   *
   * @param joined   the pooled rows, holding every column of {@code features} and {@code label}
   * @param features the numeric feature columns, in coefficient order
   * @param label    the numeric label column
   */
  public static Fit fit(Dataset<Row> joined, String[] features, String label) {
    Dataset<Row> assembled = new VectorAssembler().setInputCols(features)
        .setOutputCol(FEATURES_COLUMN).transform(joined);
    LinearRegression lr = new LinearRegression().setSolver("normal").setRegParam(0.0)
        .setElasticNetParam(0.0).setFitIntercept(true).setStandardization(false)
        .setFeaturesCol(FEATURES_COLUMN).setLabelCol(label);
    long start = System.nanoTime();
    LinearRegressionModel model = lr.fit(assembled);
    long millis = (System.nanoTime() - start) / 1_000_000L;
    Vector coefficients = model.coefficients();
    return new Fit(coefficients.toArray(), model.intercept(), model.summary().r2(), millis);
  }

  /**
   * Spark ML's binary logistic regression on the pooled rows, with the settings of a secure fit:
   * L2 only ({@code elasticNetParam = 0}), the same {@code regParam} and {@code standardization},
   * an intercept, and run to convergence (200 iterations at most, tolerance 1e-9), so that the
   * secure model's few Newton steps are compared with the optimum. The label is a numeric column of
   * 0s and 1s. {@code r2} of the result is NaN.
   */
  public static Fit logistic(Dataset<Row> joined, String[] features, String label,
      double regParam, boolean standardization) {
    Dataset<Row> assembled = new VectorAssembler().setInputCols(features)
        .setOutputCol(FEATURES_COLUMN).transform(joined);
    LogisticRegression lr = new LogisticRegression().setRegParam(regParam)
        .setElasticNetParam(0.0).setStandardization(standardization).setFitIntercept(true)
        .setMaxIter(200).setTol(1e-9).setFeaturesCol(FEATURES_COLUMN).setLabelCol(label);
    long start = System.nanoTime();
    LogisticRegressionModel model = lr.fit(assembled);
    long millis = (System.nanoTime() - start) / 1_000_000L;
    return new Fit(model.coefficients().toArray(), model.intercept(), Double.NaN, millis);
  }

  /**
   * The probability of class 1 under a logistic model, {@code 1 / (1 + e^-(x·w + b))}, for each
   * row of {@code rows} (features in the order of {@code coefficients}).
   */
  public static double[] probabilities(double[][] rows, double[] coefficients, double intercept) {
    double[] p = new double[rows.length];
    for (int i = 0; i < rows.length; i++) {
      double z = intercept;
      for (int j = 0; j < coefficients.length; j++) {
        z += coefficients[j] * rows[i][j];
      }
      p[i] = 1 / (1 + Math.exp(-z));
    }
    return p;
  }
}
