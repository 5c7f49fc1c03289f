package org.sparkmpc.spark.ml;

import java.util.Arrays;

/**
 * A fitted {@link SecureLinearRegression}: the coefficients, intercept and R² at a recipient; at
 * any other party it holds nothing ({@link #isRecipient()} is false).
 */
public final class SecureLinearRegressionModel {
  private final String[] featureCols;
  private final double[] coefficients;
  private final double intercept;
  private final double r2;

  SecureLinearRegressionModel(String[] featureCols, double[] coefficients, double intercept,
      double r2) {
    this.featureCols = featureCols.clone();
    this.coefficients = coefficients;
    this.intercept = intercept;
    this.r2 = r2;
  }

  /** Whether this party received the model. */
  public boolean isRecipient() {
    return coefficients != null;
  }

  /** One coefficient per feature, in the order of the feature columns. */
  public double[] coefficients() {
    requireRecipient();
    return coefficients.clone();
  }

  public double intercept() {
    requireRecipient();
    return intercept;
  }

  /** Coefficient of determination on the training rows. */
  public double r2() {
    requireRecipient();
    return r2;
  }

  public String[] featureCols() {
    return featureCols.clone();
  }

  private void requireRecipient() {
    if (coefficients == null) {
      throw new IllegalStateException("this party is not a recipient of the model");
    }
  }

  @Override
  public String toString() {
    return coefficients == null ? "SecureLinearRegressionModel(not a recipient)"
        : "SecureLinearRegressionModel(" + Arrays.toString(featureCols) + ")";
  }
}
