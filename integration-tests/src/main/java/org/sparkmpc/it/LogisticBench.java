package org.sparkmpc.it;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.ml.BinaryMetrics;
import org.sparkmpc.spark.ml.SecureLogisticRegression;
import org.sparkmpc.spark.ml.SecureLogisticRegressionModel;

/**
 * The logistic regression rows of the benchmark: 10 features split over two parties (5 each), the
 * label at a third, a dealer, raw columns of different scales. (1) 10,000 rows, mini-batch gradient
 * descent, 10 epochs of batches of 128 (790 steps, the workload MP-SPDZ's logistic regression
 * example runs); (2) {@code --logit-rows} rows (default 1M), Newton steps over the whole table,
 * time per pass against Spark ML's {@link LogisticRegression} per iteration on the same cached
 * rows. Accuracy and AUC of both models on the training rows are printed next to the times.
 */
public final class LogisticBench {
  static final int FEATURES = 10;

  private LogisticBench() {}

  /** The rows of one party: columns {@code from..to} of the features, the label if asked. */
  static Dataset<Row> data(SparkSession spark, long rows, int from, int to, boolean label) {
    List<String> cols = new ArrayList<>();
    cols.add("id");
    for (int j = from; j < to; j++) {
      cols.add(feature(j) + " AS x" + j);
    }
    if (label) {
      StringBuilder z = new StringBuilder("-0.5");
      for (int j = 0; j < FEATURES; j++) {
        z.append(" + ").append(0.4 * (j % 3 + 1) * (j % 2 == 0 ? 1 : -1)).append(" * ")
            .append(normal(j));
      }
      cols.add("CAST(IF(" + uniform(77) + " < 1 / (1 + EXP(-(" + z + "))), 1, 0) AS INT) AS y");
    }
    return spark.range(rows).selectExpr(cols.toArray(new String[0]));
  }

  /** Feature j on its own scale: {@code 10^(j % 5) · N(0,1) + 3·10^(j % 5)}. */
  private static String feature(int j) {
    double s = Math.pow(10, j % 5);
    return "CAST(" + s + " * " + normal(j) + " + " + 3 * s + " AS DOUBLE)";
  }

  private static String uniform(int j) {
    return "((pmod(xxhash64(id, " + j + "), 2000003) + 0.5) / 2000003.0)";
  }

  /** A standard normal value of id and j (Box–Muller on two hashed uniforms). */
  private static String normal(int j) {
    return "(SQRT(-2 * LN(" + uniform(1000 + j) + ")) * COS(6.283185307 * " + uniform(2000 + j)
        + "))";
  }

  /** One party of the logistic benchmark (BenchParty mode {@code logit}). */
  static void party(SparkSession spark, SparkMpc mpc, Properties conf, StringBuilder out) {
    long rows = Long.parseLong(conf.getProperty("rows"));
    int from = Integer.parseInt(conf.getProperty("from"));
    int to = Integer.parseInt(conf.getProperty("to"));
    boolean label = Boolean.parseBoolean(conf.getProperty("label"));
    String solver = conf.getProperty("solver");
    int iters = Integer.parseInt(conf.getProperty("iters"));
    Dataset<Row> own = data(spark, rows, from, to, label).repartition(4)
        .persist(StorageLevel.MEMORY_ONLY());
    own.count();
    List<String> mine = new ArrayList<>();
    for (int j = from; j < to; j++) {
      mine.add("x" + j);
    }
    if (label) {
      mine.add("y");
    }
    String[] all = new String[FEATURES];
    for (int j = 0; j < FEATURES; j++) {
      all[j] = "x" + j;
    }
    SecureLogisticRegression lr = new SecureLogisticRegression().setFeaturesCols(all)
        .setLabelCol("y").setRegParam(0.001).setSolver(solver).setMaxIter(iters)
        .setRecipients("party1");
    Dataset<Row> warm = mpc.shareAligned(own.filter("id < 2000"), "id",
        mine.toArray(new String[0]));
    new SecureLogisticRegression().setFeaturesCols(all).setLabelCol("y").setSolver(solver)
        .setMaxIter(1).fit(warm);
    mpc.drop(warm);
    Dataset<Row> table = mpc.shareAligned(own, "id", mine.toArray(new String[0]));
    long t0 = System.nanoTime();
    SecureLogisticRegressionModel model = lr.fit(table);
    long t1 = System.nanoTime();
    out.append("logit_fit_ms=").append((t1 - t0) / 1_000_000).append('\n');
    out.append("logit_std_ms=").append(model.standardizeMillis()).append('\n');
    if (model.isRecipient()) {
      StringBuilder coef = new StringBuilder();
      for (double c : model.coefficients()) {
        coef.append(c).append(' ');
      }
      out.append("logit_model=").append(coef).append(model.intercept()).append('\n');
    }
  }

  /** Run both rows' parties and Spark ML, and add the rows to {@code table}. */
  static void rows(Path work, long bigRows, List<String> table) throws Exception {
    long small = 10_000;
    Properties sgd = run(work.resolve("logit-sgd"), small, SecureLogisticRegression.MINIBATCH,
        10);
    double[] q = quality(small, sgd.getProperty("logit_model"));
    long sgdMs = Long.parseLong(sgd.getProperty("logit_fit_ms"));
    table.add(String.format("| logistic regression, 10,000 rows x 10 features (5 + 5 at two "
        + "parties, label at a third), dealer, mini-batch 128, 10 epochs (790 steps): fit time, "
        + "ms (target <= 6,400; MP-SPDZ 63,700) | %,d | |", sgdMs));
    table.add(String.format("| the same: accuracy / AUC, secure vs Spark ML on the pooled rows "
        + "| %.4f / %.4f | %.4f / %.4f |", q[0], q[1], q[2], q[3]));
    int steps = 3;
    Properties newton = run(work.resolve("logit-newton"), bigRows,
        SecureLogisticRegression.NEWTON, steps);
    long fit = Long.parseLong(newton.getProperty("logit_fit_ms"));
    long std = Long.parseLong(newton.getProperty("logit_std_ms"));
    double perPass = (fit - std) / (double) steps;
    double[] ml = sparkMlPerIteration(bigRows);
    table.add(String.format("| logistic regression, %,d rows x 10 features, dealer, Newton: ms "
        + "per pass (Hessian and gradient over every row, then the solve; %d passes after a "
        + "%,d ms standardisation) vs Spark ML LogisticRegression ms per iteration (%,.0f ms for "
        + "%d iterations) (target <= 10x) | %,.0f | %.1fx |", bigRows, steps, std, ml[0],
        (int) ml[1], perPass, perPass / (ml[0] / ml[1])));
  }

  private static Properties run(Path dir, long rows, String solver, int iters) throws Exception {
    return Benchmark.runParties(dir, 3, true, BenchParty.class.getName(), "-Xmx3g",
        (i, p) -> {
          p.setProperty("mode", "logit");
          p.setProperty("rows", Long.toString(rows));
          p.setProperty("solver", solver);
          p.setProperty("iters", Integer.toString(iters));
          p.setProperty("from", Integer.toString(i == 0 ? 0 : i == 1 ? FEATURES / 2 : 0));
          p.setProperty("to", Integer.toString(i == 0 ? FEATURES / 2 : i == 1 ? FEATURES : 0));
          p.setProperty("label", Boolean.toString(i == 2));
          p.setProperty("spark.mpc.share.partitions", "4");
          // a gateway keeps every message of an operator until it ends: about 1.2 KB per row
          // from each peer in a Newton pass
          p.setProperty("spark.mpc.gateway.maxBufferedBytes", "2g");
        });
  }

  /** Accuracy and AUC of the secure model and of Spark ML's on the pooled rows. */
  static double[] quality(long rows, String model) {
    SparkSession spark = Benchmark.plaintextSpark();
    List<Row> all = data(spark, rows, 0, FEATURES, true).collectAsList();
    String[] m = model.trim().split(" ");
    double[] w = new double[FEATURES + 1];
    for (int j = 0; j <= FEATURES; j++) {
      w[j] = Double.parseDouble(m[j]);
    }
    LogisticRegressionModel ml = sparkMl(spark, rows, 100).fit(assembled(spark, rows));
    double[] wm = ml.coefficients().toArray();
    double[] ours = new double[all.size()];
    double[] theirs = new double[all.size()];
    double[] y = new double[all.size()];
    for (int i = 0; i < all.size(); i++) {
      Row r = all.get(i);
      double a = w[FEATURES];
      double b = ml.intercept();
      for (int j = 0; j < FEATURES; j++) {
        a += w[j] * r.getDouble(1 + j);
        b += wm[j] * r.getDouble(1 + j);
      }
      ours[i] = 1 / (1 + Math.exp(-a));
      theirs[i] = 1 / (1 + Math.exp(-b));
      y[i] = r.getInt(1 + FEATURES);
    }
    return new double[] {BinaryMetrics.accuracy(ours, y, 0.5), BinaryMetrics.auc(ours, y),
        BinaryMetrics.accuracy(theirs, y, 0.5), BinaryMetrics.auc(theirs, y)};
  }

  private static Dataset<Row> assembled(SparkSession spark, long rows) {
    String[] all = new String[FEATURES];
    for (int j = 0; j < FEATURES; j++) {
      all[j] = "x" + j;
    }
    return new VectorAssembler().setInputCols(all).setOutputCol("fv")
        .transform(data(spark, rows, 0, FEATURES, true).repartition(4))
        .selectExpr("fv", "CAST(y AS DOUBLE) AS label").persist(StorageLevel.MEMORY_ONLY());
  }

  private static LogisticRegression sparkMl(SparkSession spark, long rows, int iters) {
    return new LogisticRegression().setRegParam(0.001).setElasticNetParam(0)
        .setStandardization(true).setFeaturesCol("fv").setLabelCol("label").setMaxIter(iters);
  }

  /** Spark ML's fit on cached rows: median wall ms of 3 fits and its iteration count. */
  static double[] sparkMlPerIteration(long rows) {
    SparkSession spark = Benchmark.plaintextSpark();
    Dataset<Row> data = assembled(spark, rows);
    data.count();
    long[] ms = new long[3];
    int iterations = 0;
    for (int r = 0; r < 3; r++) {
      long t0 = System.nanoTime();
      LogisticRegressionModel m = sparkMl(spark, rows, 100).fit(data);
      ms[r] = (System.nanoTime() - t0) / 1_000_000;
      iterations = m.summary().totalIterations();
    }
    java.util.Arrays.sort(ms);
    data.unpersist();
    return new double[] {ms[1], Math.max(1, iterations)};
  }
}
