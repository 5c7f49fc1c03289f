package org.sparkmpc.spark.ml;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.sum;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.spark.SparkMpc;

/**
 * Least-squares linear regression on a secure table whose features (and label) may sit at
 * different parties, shaped like a Spark ML estimator: setters for the columns and the recipients,
 * {@link #fit} returns a {@link SecureLinearRegressionModel}.
 *
 * <p>What it computes and reveals: the Gram matrix {@code XᵀX}, the vector {@code Xᵀy}, {@code yᵀy}
 * and the row count are computed securely (one Beaver round per partition per distinct product,
 * {@code d(d+1)/2 + d + 1} products for {@code d} features, 16 bytes per row and product to each
 * peer) and opened <b>to the recipients only</b>, which then solve the normal equations. This is the
 * "reveal XᵀX and Xᵀy" mode of the design, and it is stated as such: recipients learn those
 * aggregates, not just the coefficients. Parties that are not recipients learn nothing.
 *
 * <p>Needs a correlation source ({@code spark.mpc.dealer}). Fixed point: sums of products of two
 * fractional columns must stay below {@code 2^(63 - 2·scale)} (standardise the features).
 */
public final class SecureLinearRegression {
  private final SparkMpc mpc;
  private String[] featureCols = new String[0];
  private String labelCol = "label";
  private String[] recipients = new String[0];
  private boolean fitIntercept = true;

  public SecureLinearRegression(SparkMpc mpc) {
    this.mpc = mpc;
  }

  public SecureLinearRegression setFeatureCols(String... cols) {
    this.featureCols = cols.clone();
    return this;
  }

  public SecureLinearRegression setLabelCol(String col) {
    this.labelCol = col;
    return this;
  }

  /** Parties that receive the model (all parties when none are named). */
  public SecureLinearRegression setRecipients(String... parties) {
    this.recipients = parties.clone();
    return this;
  }

  public SecureLinearRegression setFitIntercept(boolean fit) {
    this.fitIntercept = fit;
    return this;
  }

  /** Fit on a secure table; every party calls it at the same point of its program. */
  public SecureLinearRegressionModel fit(Dataset<Row> secureTable) {
    if (featureCols.length == 0) {
      throw new MpcInputException("SecureLinearRegression: set the feature columns");
    }
    int d = featureCols.length;
    List<Column> aggs = new ArrayList<>();
    for (int i = 0; i < d; i++) {
      for (int j = i; j < d; j++) {
        aggs.add(sum(col(featureCols[i]).multiply(col(featureCols[j]))));
      }
    }
    for (int i = 0; i < d; i++) {
      aggs.add(sum(col(featureCols[i]).multiply(col(labelCol))));
    }
    aggs.add(sum(col(labelCol).multiply(col(labelCol))));
    for (int i = 0; i < d; i++) {
      aggs.add(sum(col(featureCols[i])));
    }
    aggs.add(sum(col(labelCol)));
    aggs.add(count(col(labelCol)));
    Dataset<Row> gram = secureTable.agg(aggs.get(0),
        aggs.subList(1, aggs.size()).toArray(new Column[0]));
    Dataset<Row> opened = mpc.revealTo(gram, recipients);
    List<Row> rows = opened.collectAsList();
    if (rows.isEmpty()) {
      return new SecureLinearRegressionModel(featureCols, null, 0, Double.NaN);
    }
    Row r = rows.get(0);
    int k = 0;
    int m = fitIntercept ? d + 1 : d;
    double[][] g = new double[m][m];
    double[] b = new double[m];
    for (int i = 0; i < d; i++) {
      for (int j = i; j < d; j++) {
        g[i][j] = r.getDouble(k++);
        g[j][i] = g[i][j];
      }
    }
    for (int i = 0; i < d; i++) {
      b[i] = r.getDouble(k++);
    }
    double yy = r.getDouble(k++);
    double[] sx = new double[d];
    for (int i = 0; i < d; i++) {
      sx[i] = r.getDouble(k++);
    }
    double sy = r.getDouble(k++);
    long n = r.getLong(k);
    if (fitIntercept) {
      for (int i = 0; i < d; i++) {
        g[i][d] = sx[i];
        g[d][i] = sx[i];
      }
      g[d][d] = n;
      b[d] = sy;
    }
    double[] w = NormalEquations.solve(g, b);
    // R² from the opened aggregates: SSE = yᵀy - 2 wᵀXᵀy + wᵀXᵀXw, SST = yᵀy - n·mean(y)².
    double sse = yy;
    for (int i = 0; i < m; i++) {
      sse -= 2 * w[i] * b[i];
      for (int j = 0; j < m; j++) {
        sse += w[i] * g[i][j] * w[j];
      }
    }
    double sst = yy - sy * sy / n;
    double[] coef = Arrays.copyOf(w, d);
    return new SecureLinearRegressionModel(featureCols, coef, fitIntercept ? w[d] : 0,
        1 - sse / sst);
  }
}
