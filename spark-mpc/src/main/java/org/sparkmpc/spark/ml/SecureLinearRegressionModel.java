package org.sparkmpc.spark.ml;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.types.ShareType;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.table.SecureTable;
import org.sparkmpc.spark.table.SharePartition;

/**
 * A fitted {@link SecureLinearRegression}. At a recipient it holds the opened coefficients,
 * intercept and R² on the original scale; at every party (solver {@code mpc}) it holds this party's
 * shares of the model, with which {@link #transform} predicts on secure features without opening
 * them: with standardization the model on the unit-interval features {@code x̂ = x·2^(f-B_j)}
 * ({@link LinearSteps#originalScale}), without it the coefficients at the table's scale.
 */
public final class SecureLinearRegressionModel {
  /** Name of the prediction column {@link #transform} adds. */
  public static final String PREDICTION = "prediction";

  private final String[] featureCols;
  private final double[] coefficients;
  private final double intercept;
  private final double r2;
  private final long[] weightShares;
  private final long interceptShare;
  private final int scaleBits;
  private final SparkMpc mpc;
  /** With standardization: the features' public shape, the label's bound and the model's shares. */
  private final Standardizer shape;
  private final int labelBound;
  private final long[] unitModel;
  private long gramMillis;
  private long solveMillis;

  private SecureLinearRegressionModel(String[] featureCols, double[] coefficients,
      double intercept, double r2, long[] weightShares, long interceptShare, int scaleBits,
      SparkMpc mpc) {
    this(featureCols, coefficients, intercept, r2, weightShares, interceptShare, scaleBits, mpc,
        null, 0, null);
  }

  private SecureLinearRegressionModel(String[] featureCols, double[] coefficients,
      double intercept, double r2, long[] weightShares, long interceptShare, int scaleBits,
      SparkMpc mpc, Standardizer shape, int labelBound, long[] unitModel) {
    this.featureCols = featureCols.clone();
    this.coefficients = coefficients;
    this.intercept = intercept;
    this.r2 = r2;
    this.weightShares = weightShares;
    this.interceptShare = interceptShare;
    this.scaleBits = scaleBits;
    this.mpc = mpc;
    this.shape = shape;
    this.labelBound = labelBound;
    this.unitModel = unitModel;
  }

  static SecureLinearRegressionModel notRecipient(String[] features, SparkMpc mpc) {
    return new SecureLinearRegressionModel(features, null, 0, Double.NaN, null, 0, 0, mpc);
  }

  /**
   * A model fitted with standardization: the opened values (null at other parties) and this
   * party's shares of {@code [γ_1..γ_d, c]} at {@link LinearSteps#KEEP} bits.
   */
  static SecureLinearRegressionModel standardised(String[] features, double[] coefficients,
      double intercept, double r2, long[] unitModel, Standardizer shape, int labelBound, int f,
      SparkMpc mpc) {
    return new SecureLinearRegressionModel(features, coefficients, intercept, r2, null, 0, f, mpc,
        shape, labelBound, unitModel);
  }

  /** From the opened output of the in-MPC solve ({@code w..., [b], R²}) and the shares. */
  static SecureLinearRegressionModel fromSolve(String[] features, double[] opened,
      boolean intercept, long[] w, long b, int f, SparkMpc mpc) {
    int d = features.length;
    return new SecureLinearRegressionModel(features,
        opened == null ? null : Arrays.copyOf(opened, d),
        opened == null || !intercept ? 0 : opened[d], opened == null ? Double.NaN
            : opened[opened.length - 1], w, b, f, mpc);
  }

  /**
   * At a recipient of the opened augmented Gram matrix ({@code [X, (1), y]ᵀ[X, (1), y]} at
   * {@code scale} bits): the normal equations solved in plaintext, and R². With an intercept the
   * sums are centred exactly (integers) and the system standardised before it is solved, so raw
   * columns of very different magnitudes lose no precision.
   */
  static SecureLinearRegressionModel fromGram(String[] features, long[] open, int aug, int scale,
      boolean intercept, long n, SparkMpc mpc) {
    int d = features.length;
    if (intercept) {
      double[] fit = NormalEquations.centred(open, aug, scale, n);
      return new SecureLinearRegressionModel(features, Arrays.copyOf(fit, d), fit[d], fit[d + 1],
          null, 0, 0, mpc);
    }
    int k = aug - 1;
    double[][] g = new double[k][k];
    double[] b = new double[k];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        g[i][j] = Math.scalb((double) open[i * aug + j], -scale);
      }
      b[i] = Math.scalb((double) open[i * aug + k], -scale);
    }
    double yy = Math.scalb((double) open[k * aug + k], -scale);
    double[] w = NormalEquations.solve(g, b);
    double sse = yy;
    for (int i = 0; i < k; i++) {
      sse -= w[i] * b[i]; // at the solution, wᵀXᵀXw = wᵀXᵀy
    }
    return new SecureLinearRegressionModel(features, Arrays.copyOf(w, d), 0, 1 - sse / yy, null,
        0, 0, mpc);
  }

  SecureLinearRegressionModel timed(long gramMs, long solveMs) {
    this.gramMillis = gramMs;
    this.solveMillis = solveMs;
    return this;
  }

  /**
   * Wall time of the fit's first operators, in ms: shares of XᵀX, Xᵀy and the sums (with
   * standardization, the standardisation and the Gram of the standardised columns).
   */
  public long gramMillis() {
    return gramMillis;
  }

  /** Wall time of the fit's second operator (the solve and the opening), in ms. */
  public long solveMillis() {
    return solveMillis;
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

  /**
   * Predict on a secure table holding the feature columns (by name): the table with one more
   * secure column, {@value #PREDICTION}, secret-shared ({@code Σ x_j w_j + b} with the shared
   * model). Every party calls it; it reveals nothing.
   *
   * <p>A model fitted with standardization: per partition in one deep stage, {@code x̂} (one
   * truncation), the products (one matrix product, {@code 8(d+1)} bytes per row) and one
   * truncation; the prediction is at the session's fixed-point scale, like the label, and right
   * while it stays below {@code 2^13} times the label's largest training value. Feature values
   * beyond the bounds of the training data are refused. Without standardization: one Beaver round
   * per partition, {@code 16·d} bytes per row; the prediction is at twice the table's scale, exact.
   */
  public Dataset<Row> transform(Dataset<Row> secureTable) {
    if (unitModel != null) {
      return transformUnit(secureTable);
    }
    if (weightShares == null) {
      throw new MpcInputException("transform needs a model fitted with solver 'mpc' (the "
          + "'revealGram' solver leaves no shared coefficients)");
    }
    MpcRuntime rt = mpc.runtime();
    MpcContext ctx = rt.context();
    SecureTable t = mpc.secureTable(secureTable, "SecureLinearRegressionModel.transform");
    SecureLinearRegression.Columns cols = SecureLinearRegression.columns(t, featureCols,
        "SecureLinearRegressionModel.transform");
    int d = featureCols.length;
    int[] up = new int[d];
    for (int i = 0; i < d; i++) {
      if (cols.scale()[i] > scaleBits) {
        throw new MpcInputException("transform: column '" + featureCols[i] + "' has scale "
            + cols.scale()[i] + " bits, more than the model's " + scaleBits);
      }
      up[i] = scaleBits - cols.scale()[i];
    }
    SecureLinearRegression.requireSource(rt);
    String id = rt.nextTableId();
    OperatorScope scope = rt.beginOperator("SecureLinearRegressionModel.transform");
    long op = scope.id();
    RoundRange rounds = scope.rounds("prediction", 1);
    StreamRange streams = scope.streams("prediction", 1);
    rt.request(scope, RegressionTasks.predictNeeds(t.contract(), d, streams));
    try {
      ctx.agree(op, "SecureLinearRegressionModel.transform features="
          + Arrays.toString(featureCols) + " table=" + t.id() + " rows="
          + Arrays.toString(t.contract()) + " out=" + id);
      RegressionTasks tasks = RegressionTasks.predict(ctx.sessionId(), op, rounds, streams,
          cols.index(), up, weightShares, interceptShare << scaleBits);
      t.partitions().mapPartitionsWithIndex(tasks::predictSend, false).count();
      JavaRDD<SharePartition> parts = t.partitions().mapPartitionsWithIndex(
          tasks::predictFinish, false);
      Dataset<Row> out = register(t, id, parts, ShareType.column(2 * scaleBits, false, id, 63));
      rt.correlationSource().release(op);
      return out;
    } catch (RuntimeException e) {
      ctx.abort(op, e);
      throw e;
    }
  }

  /** {@link #transform} of a model fitted with standardization: one deep stage. */
  private Dataset<Row> transformUnit(Dataset<Row> secureTable) {
    String caller = "SecureLinearRegressionModel.transform";
    MpcRuntime rt = mpc.runtime();
    SecureTable t = mpc.secureTable(secureTable, caller);
    SecureLinearRegression.Columns cols = SecureLinearRegression.columns(t, featureCols, caller);
    int[] up = PredictionTables.upShifts(caller, featureCols, cols, scaleBits, shape.bound);
    String id = rt.nextTableId();
    LinearSteps.Predict predict = new LinearSteps.Predict(shape, unitModel, labelBound);
    List<Prediction> out = EngineRuns.onPartitions(rt, t, caller, "features="
        + Arrays.toString(featureCols) + " out=" + id, cols.index(), up,
        (e, c) -> new Prediction(predict.run(e, c)));
    List<long[][]> results = new ArrayList<>(out.size());
    for (Prediction p : out) {
      results.add(p == null ? null : new long[][] {p.values()});
    }
    int bits = Math.min(63, labelBound + 13);
    JavaRDD<SharePartition> joined = PredictionTables.withColumns(t, results, new int[] {bits});
    return register(t, id, joined, ShareType.column(scaleBits, false, id, bits));
  }

  /** A partition's predictions (serialisable wrapper for the deep stage's result). */
  record Prediction(long[] values) implements java.io.Serializable {}

  /** The table {@code t} with one more secure column, {@value #PREDICTION}, as table {@code id}. */
  private Dataset<Row> register(SecureTable t, String id, JavaRDD<SharePartition> parts,
      ShareType prediction) {
    Dataset<Row> out = PredictionTables.register(mpc, t, id, parts, new String[] {PREDICTION},
        new ShareType[] {prediction});
    // The predictions are computed from the features: they carry the features' policy rules.
    mpc.runtime().policy().derive(id, List.of(PREDICTION), t.id(), Arrays.asList(featureCols));
    return out;
  }

  /**
   * Predict and open the predictions to one party only: {@code keep} public columns (an id, say)
   * and {@value #PREDICTION} as a double. At the other parties the result has no rows.
   */
  public Dataset<Row> transform(Dataset<Row> secureTable, String revealTo, String... keep) {
    Dataset<Row> shared = transform(secureTable);
    List<Column> cols = new ArrayList<>();
    for (String k : keep) {
      cols.add(shared.col(k));
    }
    cols.add(shared.col(PREDICTION));
    return mpc.revealTo(shared.select(cols.toArray(new Column[0])), revealTo);
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
