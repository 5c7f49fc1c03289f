package org.sparkmpc.spark.ml;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.table.SecureTable;
import org.sparkmpc.spark.table.SharePartition;
import org.sparkmpc.spark.types.ShareType;

/**
 * A fitted {@link SecureLogisticRegression}. At a recipient it holds the opened coefficients and
 * intercept on the original scale of the features; at every party it holds this party's shares of
 * the model, with which {@link #transform} predicts on secure features without opening them.
 *
 * <p>{@link #transform}: per partition, the features to the unit interval (one truncation round),
 * the logit (one matrix product, {@code 8(d+1)} bytes per row; a truncation), the probability
 * ({@link org.sparkmpc.protocol.Sigmoid}, 14 rounds, about 351 bytes per row) and the label
 * {@code [logit >= 0]} (one comparison, 8 rounds, about 38 bytes per row): about 26 rounds in one
 * deep stage. Both outputs are secure columns; {@link #transform(Dataset, String, String...)}
 * opens them to one named party only. Reveals nothing else.
 */
public final class SecureLogisticRegressionModel extends Model<SecureLogisticRegressionModel> {
  private static final long serialVersionUID = 1L;
  /** The probability column {@link #transform} adds (secret-shared, the session's scale). */
  public static final String PROBABILITY = "probability";
  /** The label column {@link #transform} adds (secret-shared 0 or 1). */
  public static final String PREDICTION = "prediction";
  private static final int FORMAT = 1;

  private final String uid;
  private final String[] features;
  private final double[] coefficients;
  private final double intercept;
  /** This party's shares of {@code [b, γ_1..γ_d]} at {@link LogisticSteps#F} bits. */
  private final long[] model;
  private final Standardizer shape;
  private final int scale;
  private final long fitMillis;
  private long standardizeMillis;

  SecureLogisticRegressionModel(String uid, String[] features, double[] coefficients,
      double intercept, long[] model, Standardizer shape, int scale, long fitMillis) {
    this.uid = uid;
    this.features = features.clone();
    this.coefficients = coefficients;
    this.intercept = intercept;
    this.model = model;
    this.shape = shape;
    this.scale = scale;
    this.fitMillis = fitMillis;
  }

  @Override
  public String uid() {
    return uid;
  }

  /** Whether this party received the opened model. */
  public boolean isRecipient() {
    return coefficients != null;
  }

  /** The coefficients on the original scale of the features (recipients only). */
  public double[] coefficients() {
    requireRecipient();
    return coefficients.clone();
  }

  /** The intercept (recipients only). */
  public double intercept() {
    requireRecipient();
    return intercept;
  }

  public String[] featuresCols() {
    return features.clone();
  }

  /** Wall time of the fit on this party's driver, in milliseconds. */
  public long fitMillis() {
    return fitMillis;
  }

  /** Of {@link #fitMillis}, the standardisation's part (0 without standardisation). */
  public long standardizeMillis() {
    return standardizeMillis;
  }

  SecureLogisticRegressionModel withStandardizeMillis(long ms) {
    standardizeMillis = ms;
    return this;
  }

  /** The probability of the plaintext model for one row of original values (recipients). */
  public double predictProbability(double[] row) {
    requireRecipient();
    return org.sparkmpc.protocol.Sigmoid.approximate(logit(row));
  }

  private double logit(double[] row) {
    if (row.length != coefficients.length) {
      throw new MpcInputException("the model has " + coefficients.length + " features, the row "
          + row.length);
    }
    double s = intercept;
    for (int i = 0; i < row.length; i++) {
      s += coefficients[i] * row[i];
    }
    return s;
  }

  private void requireRecipient() {
    if (coefficients == null) {
      throw new IllegalStateException("this party is not a recipient of the model");
    }
  }

  @Override
  public SecureLogisticRegressionModel copy(ParamMap extra) {
    return new SecureLogisticRegressionModel(uid, features, coefficients, intercept, model, shape,
        scale, fitMillis);
  }

  @Override
  public StructType transformSchema(StructType schema) {
    for (String c : features) {
      SecureLogisticRegression.requireField(schema, c);
    }
    return schema.add(PROBABILITY, ShareType.column(scale, false, "", scale + 1), false)
        .add(PREDICTION, ShareType.column(0, true, "", 1), false);
  }

  /**
   * The secure table with two more secure columns, {@value #PROBABILITY} and {@value #PREDICTION},
   * secret-shared. Every party calls it with a table holding the feature columns (by name).
   */
  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    String caller = "SecureLogisticRegressionModel.transform";
    @SuppressWarnings("unchecked")
    Dataset<Row> ds = (Dataset<Row>) dataset;
    SparkMpc mpc = SparkMpc.of(ds.sparkSession());
    MpcRuntime rt = mpc.runtime();
    SecureTable t = mpc.secureTable(ds, caller);
    SecureLinearRegression.Columns cols = SecureLinearRegression.columns(t, features, caller);
    int[] up = PredictionTables.upShifts(caller, features, cols, scale, shape.bound);
    String id = rt.nextTableId();
    LogisticSteps.Predict predict = new LogisticSteps.Predict(shape, model, scale, true, true);
    List<Outputs> out = EngineRuns.onPartitions(rt, t, "SecureLogisticRegressionModel.transform",
        "features=" + Arrays.toString(features) + " out=" + id, cols.index(), up,
        (e, c) -> new Outputs(predict.run(e, c)));
    List<long[][]> results = new ArrayList<>(out.size());
    for (Outputs o : out) {
      results.add(o == null ? null : o.columns());
    }
    JavaRDD<SharePartition> joined = PredictionTables.withColumns(t, results,
        new int[] {scale + 1, 1});
    Dataset<Row> result = PredictionTables.register(SparkMpc.of(ds.sparkSession()), t, id, joined,
        new String[] {PROBABILITY, PREDICTION}, new ShareType[] {
            ShareType.column(scale, false, id, scale + 1), ShareType.column(0, true, id, 1)});
    // The predictions are computed from the features: they carry the features' policy rules.
    rt.policy().derive(id, List.of(PROBABILITY, PREDICTION), t.id(), Arrays.asList(features));
    return result;
  }

  /** A partition's two output columns (serialisable wrapper for the deep stage's result). */
  record Outputs(long[][] columns) implements java.io.Serializable {}

  /**
   * Predict and open the outputs to one party only: {@code keep} public columns (an id, say),
   * {@value #PROBABILITY} as a double and {@value #PREDICTION} as 0 or 1. At the other parties the
   * result has no rows.
   */
  public Dataset<Row> transform(Dataset<Row> secureTable, String revealTo, String... keep) {
    Dataset<Row> shared = transform(secureTable);
    List<Column> cols = new ArrayList<>();
    for (String k : keep) {
      cols.add(shared.col(k));
    }
    cols.add(shared.col(PROBABILITY));
    cols.add(shared.col(PREDICTION));
    return SparkMpc.of(secureTable.sparkSession())
        .revealTo(shared.select(cols.toArray(new Column[0])), revealTo);
  }

  /**
   * Write this party's part of the model to {@code path} in its own storage: its shares of the
   * model, the public shape of the features, and the opened model if it is a recipient. The file
   * holds shares: keep it with the party's other secure data.
   */
  public void save(String path) {
    Properties p = new Properties();
    p.setProperty("format", Integer.toString(FORMAT));
    p.setProperty("uid", uid);
    p.setProperty("features", String.join(",", features));
    p.setProperty("scale", Integer.toString(scale));
    p.setProperty("unit", Integer.toString(shape.unit));
    p.setProperty("bounds", join(Arrays.stream(shape.bound).asLongStream().toArray()));
    p.setProperty("shares", join(model));
    if (coefficients != null) {
      p.setProperty("coefficients", String.join(",", Arrays.stream(coefficients)
          .mapToObj(Double::toString).toList()));
      p.setProperty("intercept", Double.toString(intercept));
    }
    try (var w = Files.newBufferedWriter(Path.of(path), StandardCharsets.UTF_8)) {
      p.store(w, "Spark MPC secure logistic regression model: this party's shares");
    } catch (IOException e) {
      throw new MpcInputException("cannot write the model to " + path + ": " + e.getMessage());
    }
  }

  /** Read a model written by {@link #save}. */
  public static SecureLogisticRegressionModel load(String path) {
    Properties p = new Properties();
    try (var r = Files.newBufferedReader(Path.of(path), StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IOException e) {
      throw new MpcInputException("cannot read a model from " + path + ": " + e.getMessage());
    }
    if (!Integer.toString(FORMAT).equals(p.getProperty("format"))) {
      throw new MpcInputException(path + " is not a secure logistic regression model of format "
          + FORMAT);
    }
    String[] features = p.getProperty("features").split(",");
    int scale = Integer.parseInt(p.getProperty("scale"));
    int[] bounds = Arrays.stream(p.getProperty("bounds").split(",")).mapToInt(Integer::parseInt)
        .toArray();
    long[] shares = Arrays.stream(p.getProperty("shares").split(",")).mapToLong(Long::parseLong)
        .toArray();
    if (bounds.length != features.length || shares.length != features.length + 1) {
      throw new MpcInputException(path + ": the model's parts do not match its features");
    }
    double[] coef = p.getProperty("coefficients") == null ? null
        : Arrays.stream(p.getProperty("coefficients").split(",")).mapToDouble(Double::parseDouble)
            .toArray();
    double b = coef == null ? Double.NaN : Double.parseDouble(p.getProperty("intercept"));
    Standardizer shape = Standardizer.shape(features, bounds,
        Integer.parseInt(p.getProperty("unit")), scale);
    return new SecureLogisticRegressionModel(p.getProperty("uid"), features, coef, b, shares,
        shape, scale, 0);
  }

  private static String join(long[] v) {
    return String.join(",", Arrays.stream(v).mapToObj(Long::toString).toList());
  }

  @Override
  public String toString() {
    return "SecureLogisticRegressionModel(" + Arrays.toString(features)
        + (coefficients == null ? ", not a recipient)" : ")");
  }
}
