package org.sparkmpc.spark.ml;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.share.Reveal;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.SecureColumns;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.table.SecureTable;

/**
 * Binary logistic regression on a secure table, as a Spark ML {@link Estimator}: the features may
 * come from any parties (vertically split, rows aligned) or every party may contribute its own
 * rows (horizontally split, {@code SparkMpc.share}); the label is a secure column of 0s
 * and 1s. Every party calls the same setters and {@link #fit} at the same point of its program.
 *
 * <p><b>Method</b>: Newton's method (iteratively reweighted least squares) on standardised
 * features ({@link Standardizer}, on by default as in Spark ML), minimising
 * {@code (1/n) Σ logloss + (regParam/2)·||β||²} (the intercept not penalised; with
 * {@code standardization} the penalty is on the standardised coefficients, as in Spark ML), for
 * {@code maxIter} public steps from {@code β = 0}. Each step is one deep stage over the table
 * ({@link LogisticSteps.Pass}: the Hessian and gradient sums, about 38 rounds per partition and
 * {@code 400 + 80d} bytes per row to each other party) and a solve on the driver (about
 * {@code 4·log2(15·(d+1)·maxCondition) + 40} rounds of {@code O(d²)} bytes). σ is the piecewise
 * cubic of {@link org.sparkmpc.protocol.Sigmoid} (error at most 7e-4).
 *
 * <p><b>Reveals</b>: only the coefficients and the intercept on the original scale, to the
 * recipients (every party when none are named), and one bit per feature telling whether its
 * spread is below {@code 2^-(U-4)} of its bound (then the fit stops, naming it). Every party keeps
 * its shares of the model, which {@link SecureLogisticRegressionModel#transform} uses.
 */
public final class SecureLogisticRegression extends Estimator<SecureLogisticRegressionModel> {
  private static final long serialVersionUID = 1L;
  private final String uid;
  private final StringArrayParam featuresCols;
  private final Param<String> labelCol;
  private final DoubleParam regParam;
  private final IntParam maxIter;
  private final BooleanParam standardization;
  private final StringArrayParam recipients;
  private final DoubleParam maxCondition;
  private final Param<String> solver;
  private final IntParam batchSize;
  private final DoubleParam stepSize;
  /** Newton's method over the whole table (the default). */
  public static final String NEWTON = "newton";
  /** Mini-batch gradient descent on the driver, {@code maxIter} epochs. */
  public static final String MINIBATCH = "minibatch";

  public SecureLogisticRegression() {
    this(Identifiable$.MODULE$.randomUID("secureLogReg"));
  }

  public SecureLogisticRegression(String uid) {
    this.uid = uid;
    featuresCols = new StringArrayParam(this, "featuresCols", "secure feature columns");
    labelCol = new Param<>(this, "labelCol", "secure label column of 0s and 1s");
    regParam = new DoubleParam(this, "regParam", "L2 regularisation (>= 0)");
    maxIter = new IntParam(this, "maxIter", "Newton steps (>= 1)");
    standardization = new BooleanParam(this, "standardization",
        "standardise the features inside MPC before fitting");
    recipients = new StringArrayParam(this, "recipients",
        "parties that receive the model (empty: all)");
    maxCondition = new DoubleParam(this, "maxCondition",
        "largest condition number of the Hessian solved to full precision");
    solver = new Param<>(this, "solver", "newton (default) or minibatch");
    batchSize = new IntParam(this, "batchSize", "rows per mini-batch (solver minibatch)");
    stepSize = new DoubleParam(this, "stepSize", "learning rate (solver minibatch)");
    setDefault(solver, NEWTON);
    setDefault(batchSize, 128);
    setDefault(stepSize, 1.0);
    setDefault(featuresCols, new String[0]);
    setDefault(labelCol, "label");
    setDefault(regParam, 0.0);
    setDefault(maxIter, 10);
    setDefault(standardization, true);
    setDefault(recipients, new String[0]);
    setDefault(maxCondition, 1e4);
  }

  @Override
  public String uid() {
    return uid;
  }

  public StringArrayParam featuresCols() {
    return featuresCols;
  }

  public Param<String> labelCol() {
    return labelCol;
  }

  public DoubleParam regParam() {
    return regParam;
  }

  public IntParam maxIter() {
    return maxIter;
  }

  public BooleanParam standardization() {
    return standardization;
  }

  public StringArrayParam recipients() {
    return recipients;
  }

  public DoubleParam maxCondition() {
    return maxCondition;
  }

  public Param<String> solver() {
    return solver;
  }

  public IntParam batchSize() {
    return batchSize;
  }

  public DoubleParam stepSize() {
    return stepSize;
  }

  /**
   * {@value #NEWTON} (default): Newton steps over the whole table, {@code maxIter} of them, each a
   * deep stage plus a driver solve. {@value #MINIBATCH}: each party's driver gathers its shares of
   * the standardised rows (they stay at the party) and runs {@code maxIter} epochs of mini-batch
   * gradient descent ({@link #setBatchSize}, {@link #setStepSize}) over the driver's channel, 18
   * rounds per batch: for tables of up to some hundred thousand rows.
   */
  public SecureLogisticRegression setSolver(String v) {
    if (!NEWTON.equals(v) && !MINIBATCH.equals(v)) {
      throw new MpcInputException("SecureLogisticRegression solver must be '" + NEWTON + "' or '"
          + MINIBATCH + "', not '" + v + "'");
    }
    return (SecureLogisticRegression) set(solver, v);
  }

  /** Rows per batch of the {@value #MINIBATCH} solver (default 128). */
  public SecureLogisticRegression setBatchSize(int v) {
    if (v < 1 || v > 1 << 20) {
      throw new MpcInputException("SecureLogisticRegression batchSize must be in [1, 2^20], not "
          + v);
    }
    return (SecureLogisticRegression) set(batchSize, v);
  }

  /** Learning rate of the {@value #MINIBATCH} solver (default 1, for standardised features). */
  public SecureLogisticRegression setStepSize(double v) {
    if (!(v > 0) || v > 64) {
      throw new MpcInputException("SecureLogisticRegression stepSize must be in (0, 64], not "
          + v);
    }
    return (SecureLogisticRegression) set(stepSize, v);
  }

  public SecureLogisticRegression setFeaturesCols(String... cols) {
    return (SecureLogisticRegression) set(featuresCols, cols.clone());
  }

  public SecureLogisticRegression setLabelCol(String col) {
    return (SecureLogisticRegression) set(labelCol, col);
  }

  /** L2 regularisation, as Spark ML's {@code regParam} with {@code elasticNetParam = 0}. */
  public SecureLogisticRegression setRegParam(double v) {
    if (!(v >= 0) || v > 100) {
      throw new MpcInputException("SecureLogisticRegression regParam must be in [0, 100], not "
          + v);
    }
    return (SecureLogisticRegression) set(regParam, v);
  }

  /** Newton steps (default 10): a public number, each one deep stage and one driver solve. */
  public SecureLogisticRegression setMaxIter(int v) {
    if (v < 1 || v > 100) {
      throw new MpcInputException("SecureLogisticRegression maxIter must be in [1, 100], not "
          + v);
    }
    return (SecureLogisticRegression) set(maxIter, v);
  }

  public SecureLogisticRegression setStandardization(boolean v) {
    return (SecureLogisticRegression) set(standardization, v);
  }

  public SecureLogisticRegression setRecipients(String... parties) {
    return (SecureLogisticRegression) set(recipients, parties.clone());
  }

  public SecureLogisticRegression setMaxCondition(double v) {
    if (!(v >= 1)) {
      throw new MpcInputException("SecureLogisticRegression maxCondition must be >= 1");
    }
    return (SecureLogisticRegression) set(maxCondition, v);
  }

  @Override
  public SecureLogisticRegression copy(ParamMap extra) {
    return (SecureLogisticRegression) defaultCopy(extra);
  }

  @Override
  public StructType transformSchema(StructType schema) {
    for (String c : $features()) {
      requireField(schema, c);
    }
    requireField(schema, getOrDefault(labelCol));
    return schema;
  }

  static void requireField(StructType schema, String c) {
    if (!Arrays.asList(schema.fieldNames()).stream().anyMatch(f -> f.equalsIgnoreCase(c))) {
      throw new MpcInputException("SecureLogisticRegression: the table has no column '" + c
          + "'");
    }
  }

  private String[] $features() {
    return getOrDefault(featuresCols);
  }

  @Override
  public SecureLogisticRegressionModel fit(Dataset<?> dataset) {
    String caller = "SecureLogisticRegression.fit";
    String[] features = $features();
    if (features.length == 0) {
      throw new MpcInputException(caller + ": set the feature columns (setFeaturesCols)");
    }
    @SuppressWarnings("unchecked")
    Dataset<Row> ds = (Dataset<Row>) dataset;
    SparkMpc mpc = SparkMpc.of(ds.sparkSession());
    MpcRuntime rt = mpc.runtime();
    MpcContext ctx = rt.context();
    SecureTable t = mpc.secureTable(ds, caller);
    String label = getOrDefault(labelCol);
    String[] names = Arrays.copyOf(features, features.length + 1);
    names[features.length] = label;
    SecureLinearRegression.Columns cols = SecureLinearRegression.columns(t, names, caller);
    // The model is an aggregate of every row of the table, opened to the recipients.
    rt.policy().beforeOpening("SecureLogisticRegression", rt.policy().rules(t.id(),
        Arrays.asList(names)), Arrays.asList(getOrDefault(recipients)), false, t.rows());
    int f = rt.defaultScaleBits();
    int d = features.length;
    int[] up = new int[d + 1];
    int[] bound = new int[d];
    for (int i = 0; i <= d; i++) {
      if (cols.scale()[i] > f) {
        throw new MpcInputException(caller + ": column '" + names[i] + "' has scale "
            + cols.scale()[i] + " bits, more than the session's " + f);
      }
      up[i] = f - cols.scale()[i];
      if (i < d) {
        bound[i] = Math.max(cols.bits()[i] + up[i], 1);
      }
    }
    checkLabel(t, label, cols.bits()[d], cols.scale()[d], caller);
    long n = t.rows();
    if (n < 2) {
      throw new MpcInputException(caller + ": the table has " + n + " rows");
    }
    int[] to = SecureLinearRegression.recipientIndices(ctx, getOrDefault(recipients));
    SecureLinearRegression.requireSource(rt);
    boolean std = (Boolean) getOrDefault(standardization);
    double lambda = (Double) getOrDefault(regParam);
    int steps = (Integer) getOrDefault(maxIter);
    double cond = (Double) getOrDefault(maxCondition);
    String how = getOrDefault(solver);
    int batch = (Integer) getOrDefault(batchSize);
    double lr = (Double) getOrDefault(stepSize);
    String what = "solver=" + how + (MINIBATCH.equals(how) ? " batch=" + batch + " step=" + lr
        : "") + " features=" + Arrays.toString(features) + " label=" + label + " regParam="
        + lambda + " maxIter=" + steps + " standardization=" + std + " recipients="
        + Arrays.toString(to) + " scale=" + f + " maxCondition=" + cond;
    long t0 = System.nanoTime();
    int[] featureIndex = Arrays.copyOf(cols.index(), d);
    int[] featureUp = Arrays.copyOf(up, d);
    long ts = System.nanoTime();
    Standardizer s = std
        ? Standardizer.fit(rt, t, caller, features, featureIndex, featureUp, bound, what)
        : Standardizer.unscaled(ctx.self(), caller, features, bound, n, f);
    long stdMs = (System.nanoTime() - ts) / 1_000_000;
    double[] lam = new double[d];
    for (int i = 0; i < d; i++) {
      lam[i] = std ? lambda : lambda * Math.pow(4, f - bound[i]);
    }
    long[] beta = MINIBATCH.equals(how) ? miniBatch(rt, t, s, cols.index(), up, what, n, f, batch,
        steps, lr, lam) : newton(rt, t, s, cols.index(), up, what, n, f, steps, lam, cond);
    long[] fb = beta;
    long[] model = EngineRuns.onDriver(rt, "SecureLogisticRegression.model", what,
        e -> LogisticSteps.originalScale(e, fb, s, f));
    double[] opened = open(rt, model, to, what);
    double[] coefficients = null;
    double intercept = Double.NaN;
    if (opened != null) {
      coefficients = new double[d];
      for (int i = 0; i < d; i++) {
        coefficients[i] = Math.scalb(opened[i + 1], f - bound[i]);
      }
      intercept = opened[0];
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    return new SecureLogisticRegressionModel(uid, features, coefficients, intercept, model,
        s, f, ms).withStandardizeMillis(std ? stdMs : 0);
  }

  private static long[] newton(MpcRuntime rt, SecureTable t, Standardizer s, int[] index,
      int[] up, String what, long n, int f, int steps, double[] lam, double cond) {
    int d = index.length - 1;
    long[] beta = new long[d + 1];
    for (int it = 0; it < steps; it++) {
      LogisticSteps.Pass pass = new LogisticSteps.Pass(s, beta, f);
      List<long[]> parts = EngineRuns.onPartitions(rt, t, "SecureLogisticRegression.pass",
          what + " step=" + it, index, up, pass);
      long[] sums = new long[d * (d + 1) + d + 2];
      for (long[] p : parts) {
        for (int i = 0; p != null && i < sums.length; i++) {
          sums[i] += p[i];
        }
      }
      long[] b = beta;
      beta = EngineRuns.onDriver(rt, "SecureLogisticRegression.step", what + " step=" + it,
          e -> LogisticSteps.newtonStep(e, sums, b, d, n, f, lam, cond));
    }
    return beta;
  }

  private static long[] miniBatch(MpcRuntime rt, SecureTable t, Standardizer s, int[] index,
      int[] up, String what, long n, int f, int batch, int epochs, double lr, double[] lam) {
    int d = index.length - 1;
    if (n > Integer.MAX_VALUE / 2) {
      throw new MpcInputException("SecureLogisticRegression: the minibatch solver gathers the "
          + "rows at each party's driver; " + n + " rows are too many, use solver 'newton'");
    }
    List<long[][]> parts = EngineRuns.onPartitions(rt, t, "SecureLogisticRegression.rows", what,
        index, up, new LogisticSteps.Rows(s));
    long[][] z = new long[d][(int) n];
    long[] y = new long[(int) n];
    int at = 0;
    for (long[][] p : parts) {
      if (p == null) {
        continue;
      }
      int r = p[d].length;
      for (int j = 0; j < d; j++) {
        System.arraycopy(p[j], 0, z[j], at, r);
      }
      System.arraycopy(p[d], 0, y, at, r);
      at += r;
    }
    java.util.concurrent.ExecutorService helper = java.util.concurrent.Executors
        .newSingleThreadExecutor(r -> {
          Thread th = new Thread(r, "minibatch-beside");
          th.setDaemon(true);
          return th;
        });
    try {
      return EngineRuns.onDriverTwo(rt, "SecureLogisticRegression.minibatch", what,
          (e, side) -> LogisticSteps.miniBatch(e, side, helper, z, y, f, batch, epochs, lr, lam));
    } finally {
      helper.shutdownNow();
    }
  }

  /** Open the model to the recipients: its values at the others' null. */
  private static double[] open(MpcRuntime rt, long[] model, int[] to, String what) {
    var scope = rt.beginOperator("SecureLogisticRegression.open");
    MpcContext ctx = rt.context();
    try {
      ctx.agree(scope.id(), "SecureLogisticRegression.open " + what);
      long[] open = Reveal.toParties(ctx, scope.id(), Coordinates.DRIVER_PARTITION,
          scope.round("reveal model"), model, model.length, to);
      rt.releaseMessages(scope);
      if (open == null) {
        return null;
      }
      double[] out = new double[open.length];
      for (int i = 0; i < open.length; i++) {
        out[i] = Math.scalb((double) open[i], -LogisticSteps.F);
      }
      return out;
    } catch (RuntimeException e) {
      ctx.abort(scope.id(), e);
      throw e;
    }
  }

  /** The label must be a column of 0s and 1s: integral with values below 2 by its public bound. */
  static void checkLabel(SecureTable t, String label, int bits, int scale, String caller) {
    for (var a : t.output()) {
      if (a.name().equalsIgnoreCase(label)) {
        var type = SecureColumns.type(a);
        if (!type.integral() || bits > 1) {
          throw new MpcInputException(caller + ": the label column '" + label + "' must hold 0 "
              + "and 1 only (share it as an integer column); its public bound allows values up "
              + "to 2^" + (bits - scale));
        }
      }
    }
  }

  static List<String> names(String[] a) {
    return new ArrayList<>(Arrays.asList(a));
  }
}
