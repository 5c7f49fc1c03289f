package org.sparkmpc.it;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.sum;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.SparkPlan;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.runner.PartyRunner;

/**
 * One party of a cross-party test scenario: runs several steps in one MPC session, in lockstep with
 * the other parties, and records each step's outcome in {@code <out>/<step>/}: {@code result.csv}
 * (revealed rows), {@code plan.txt}, {@code metrics.txt}, {@code released.txt} (the message bytes
 * this party's gateway handed its query and those it then released), or {@code error.txt} when the
 * step failed.
 * Steps are SQL jobs ({@code step.N.input}, {@code .schema}, {@code .share}, {@code .query}) or the
 * DataFrame API walkthrough ({@code step.N.kind=api}), or attempts on secure tables
 * ({@code step.N.kind=probe}, see {@link ShareProbes}), or saves and loads of stored share tables
 * ({@code step.N.kind=stored}, see {@link StoredSteps}).
 */
public final class ScenarioParty {
  private ScenarioParty() {}

  public static void main(String[] args) throws Exception {
    Properties conf = PartyRunner.load(Path.of(args[0]));
    Thread.sleep(Long.parseLong(conf.getProperty("startDelayMs", "0"))); // a party that starts late
    Path out = Path.of(conf.getProperty("out"));
    SparkSession spark = PartyRunner.session(conf);
    Files.createDirectories(out);
    long t0 = System.nanoTime();
    SparkMpc started;
    try {
      started = SparkMpc.of(spark);
    } catch (RuntimeException e) {
      Files.writeString(out.resolve("session-error.txt"), e.getMessage() + "\nafter_ms="
          + (System.nanoTime() - t0) / 1_000_000);
      System.err.println("session failed: " + e.getMessage());
      spark.stop();
      System.exit(3);
      return;
    }
    try (SparkMpc mpc = started) {
      for (String step : conf.getProperty("steps").split(",")) {
        Path dir = out.resolve(step);
        Files.createDirectories(dir);
        // .conf.*: session settings for this step only
        String p = "step." + step + ".conf.";
        List<String> set = conf.stringPropertyNames().stream().filter(k -> k.startsWith(p))
            .toList();
        set.forEach(k -> spark.conf().set(k.substring(p.length()), conf.getProperty(k)));
        try {
          String kind = conf.getProperty("step." + step + ".kind", "sql");
          if (kind.equals("api")) {
            api(spark, mpc, conf, dir);
          } else if (kind.equals("aligned")) {
            aligned(spark, mpc, conf, step, dir);
          } else if (kind.equals("regression")) {
            regression(spark, mpc, conf, step, dir);
          } else if (kind.equals("logistic")) {
            logistic(spark, mpc, conf, step, dir);
          } else if (kind.equals("deep")) {
            deep(spark, mpc, conf, step, dir);
          } else if (kind.equals("dataframe")) {
            dataframe(spark, mpc, conf, step, dir);
          } else if (kind.equals("psi")) {
            PsiSteps.run(spark, mpc, conf, step, dir);
          } else if (kind.equals("stored")) {
            StoredSteps.run(spark, mpc, conf, step, dir);
          } else if (kind.equals("noisy")) {
            DpSteps.run(spark, mpc, conf, step, dir);
          } else if (kind.equals("probe")) {
            ShareProbes.run(spark, mpc, conf, step, dir);
          } else {
            sql(spark, mpc, conf, step, dir);
          }
        } catch (Exception e) {
          Files.writeString(dir.resolve("error.txt"), String.valueOf(e.getMessage()));
        } finally {
          set.forEach(k -> spark.conf().unset(k.substring(p.length())));
        }
      }
    } finally {
      spark.stop();
    }
    System.exit(0);
  }

  private static void sql(SparkSession spark, SparkMpc mpc, Properties conf, String step, Path dir)
      throws Exception {
    String p = "step." + step + ".";
    mpc.share(input(spark, conf, p), conf.getProperty(p + "share").split(","))
        .createOrReplaceTempView("tx");
    Dataset<Row> result = spark.sql(conf.getProperty(p + "query"));
    // .revealAfter: the query keeps its result secret-shared, then SparkMpc.reveal opens it.
    write(mpc, Boolean.parseBoolean(conf.getProperty(p + "revealAfter")) ? mpc.reveal(result)
        : result, dir);
  }

  /**
   * A deep protocol ({@link DeepChain}) over the step's shared rows: {@code .column},
   * {@code .rounds}, optionally a failure injected at {@code .failPartition}/{@code .failRound}, and
   * session settings {@code .conf.*} for this step; writes {@code result.txt} ({@code value=}).
   */
  private static void deep(SparkSession spark, SparkMpc mpc, Properties conf, String step,
      Path dir) throws Exception {
    String p = "step." + step + ".";
    Dataset<Row> t = mpc.share(input(spark, conf, p), conf.getProperty(p + "share").split(","));
    String failAt = conf.getProperty(p + "failPartition");
    DeepChain.Injection fail = failAt == null ? null : new DeepChain.Injection(
        Integer.parseInt(failAt), Integer.parseInt(conf.getProperty(p + "failRound")));
    long value = DeepChain.run(mpc, t, conf.getProperty(p + "column"),
        Integer.parseInt(conf.getProperty(p + "rounds")), fail);
    Files.writeString(dir.resolve("result.txt"), "value=" + value + "\n");
  }

  /**
   * The README's DataFrame example of secret predicates over the step's shared rows: a filter on
   * secure columns, then SUM, COUNT and MAX by region, revealed with {@code SparkMpc.reveal}.
   */
  private static void dataframe(SparkSession spark, SparkMpc mpc, Properties conf, String step,
      Path dir) throws Exception {
    String p = "step." + step + ".";
    Dataset<Row> tx = mpc.share(input(spark, conf, p), conf.getProperty(p + "share").split(","));
    Dataset<Row> big = tx.filter(col("amount").gt(9000).and(
        org.apache.spark.sql.functions.not(col("items").lt(3))))
        .groupBy("region").agg(sum("amount").as("total"), count("*").as("n"),
            org.apache.spark.sql.functions.max("amount").as("hi"));
    write(mpc, mpc.reveal(big), dir);
  }

  /**
   * The step's own rows: {@code <p>input} (CSV with a header) read with {@code <p>schema}, and
   * with {@code <p>ingest=<table>} through the party's data policy as that table.
   */
  static Dataset<Row> input(SparkSession spark, Properties conf, String p) {
    Dataset<Row> raw = spark.read().option("header", "true").schema(conf.getProperty(p + "schema"))
        .csv(conf.getProperty(p + "input"));
    // .ingest: read through the party's data policy, as the table of that name
    String table = conf.getProperty(p + "ingest");
    return table == null ? raw : SparkMpc.of(spark).ingest(table, raw);
  }

  /** The step's rows shared aligned by {@code <p>id}, its {@code <p>share} columns secret. */
  private static Dataset<Row> aligned(SparkMpc mpc, SparkSession spark, Properties conf,
      String p) {
    return mpc.shareAligned(input(spark, conf, p), conf.getProperty(p + "id"),
        conf.getProperty(p + "share").split(","));
  }

  /** Vertically split data: this party's columns of entities aligned by a public id. */
  private static void aligned(SparkSession spark, SparkMpc mpc, Properties conf, String step,
      Path dir) throws Exception {
    String p = "step." + step + ".";
    aligned(mpc, spark, conf, p).createOrReplaceTempView("tx");
    write(mpc, spark.sql(conf.getProperty(p + "query")), dir);
  }

  /**
   * SecureLinearRegression on an aligned table ({@code .standardization}, default true); the model
   * goes to {@code .recipients}: {@code model.txt} holds the coefficients, the intercept and R².
   */
  private static void regression(SparkSession spark, SparkMpc mpc, Properties conf, String step,
      Path dir) throws Exception {
    String p = "step." + step + ".";
    Dataset<Row> table = aligned(mpc, spark, conf, p);
    org.sparkmpc.spark.ml.SecureLinearRegression estimator =
        new org.sparkmpc.spark.ml.SecureLinearRegression(mpc)
            .setFeatureCols(conf.getProperty(p + "features").split(","))
            .setLabelCol(conf.getProperty(p + "label"))
            .setRecipients(conf.getProperty(p + "recipients").split(","))
            .setSolver(conf.getProperty(p + "solver", "mpc"))
            .setStandardization(Boolean.parseBoolean(conf.getProperty(p + "standardization",
                "true")));
    org.sparkmpc.spark.ml.SecureLinearRegressionModel model = estimator.fit(table);
    StringBuilder sb = new StringBuilder();
    if (model.isRecipient()) {
      for (double c : model.coefficients()) {
        sb.append(c).append(',');
      }
      sb.append(model.intercept()).append(',').append(model.r2());
    }
    Files.writeString(dir.resolve(model.isRecipient() ? "model.txt" : "not-recipient.txt"),
        sb.toString());
    String predictTo = conf.getProperty(p + "predictTo");
    if (predictTo != null) {
      write(mpc, model.transform(table, predictTo, conf.getProperty(p + "id")),
          dir.resolve("predictions"));
    }
  }

  /**
   * SecureLogisticRegression on the step's rows: aligned by {@code .id} (vertically split) or each
   * party's own rows ({@code .split=rows}); writes {@code model.txt} (coefficients then intercept)
   * at recipients, saves and reloads the party's model, and with {@code .predictTo} opens the
   * predictions of the reloaded model to that party.
   */
  private static void logistic(SparkSession spark, SparkMpc mpc, Properties conf, String step,
      Path dir) throws Exception {
    String p = "step." + step + ".";
    Dataset<Row> table = "rows".equals(conf.getProperty(p + "split"))
        ? mpc.share(input(spark, conf, p), conf.getProperty(p + "share").split(","))
        : aligned(mpc, spark, conf, p);
    org.sparkmpc.spark.ml.SecureLogisticRegression est =
        new org.sparkmpc.spark.ml.SecureLogisticRegression()
            .setFeaturesCols(conf.getProperty(p + "features").split(","))
            .setLabelCol(conf.getProperty(p + "label"))
            .setRegParam(Double.parseDouble(conf.getProperty(p + "regParam", "0")))
            .setMaxIter(Integer.parseInt(conf.getProperty(p + "maxIter", "10")))
            .setStandardization(Boolean.parseBoolean(conf.getProperty(p + "standardization",
                "true")))
            .setSolver(conf.getProperty(p + "solver", "newton"))
            .setBatchSize(Integer.parseInt(conf.getProperty(p + "batchSize", "128")))
            .setStepSize(Double.parseDouble(conf.getProperty(p + "stepSize", "1")));
    String to = conf.getProperty(p + "recipients", "");
    if (!to.isEmpty()) {
      est.setRecipients(to.split(","));
    }
    org.sparkmpc.spark.ml.SecureLogisticRegressionModel model = est.fit(table);
    StringBuilder sb = new StringBuilder();
    if (model.isRecipient()) {
      for (double c : model.coefficients()) {
        sb.append(c).append(',');
      }
      sb.append(model.intercept());
    }
    Files.writeString(dir.resolve(model.isRecipient() ? "model.txt" : "not-recipient.txt"),
        sb.toString());
    Files.writeString(dir.resolve("fit_ms.txt"), Long.toString(model.fitMillis()));
    String saved = dir.resolve("model.properties").toString();
    model.save(saved);
    String predictTo = conf.getProperty(p + "predictTo");
    if (predictTo != null) {
      var loaded = org.sparkmpc.spark.ml.SecureLogisticRegressionModel.load(saved);
      String id = conf.getProperty(p + "id");
      write(mpc, id == null ? loaded.transform(table, predictTo)
          : loaded.transform(table, predictTo, id), dir.resolve("predictions"));
    }
  }

  /** The DataFrame API walkthrough of the README. */
  private static void api(SparkSession spark, SparkMpc mpc, Properties conf, Path dir)
      throws Exception {
    Dataset<Row> own = spark.read().option("header", "true")
        .schema("region STRING, amount DOUBLE, items INT").csv(conf.getProperty("input"));
    Dataset<Row> tx = mpc.share(own, "amount", "items");
    Dataset<Row> agg = tx.groupBy("region").agg(sum("amount").as("total"),
        count("amount").as("n"), avg("amount").as("mean"), sum("items").as("items"));
    write(mpc, mpc.reveal(agg), dir.resolve("all"));
    Dataset<Row> totals = tx.groupBy("region").agg(sum("amount").as("total"));
    write(mpc, mpc.revealTo(totals, "bank1"), dir.resolve("to_bank1"));
    tx.createOrReplaceTempView("tx");
    Dataset<Row> shares = spark.sql("SELECT region, SUM(items) AS items FROM tx GROUP BY region");
    write(mpc, mpc.reveal(shares), dir.resolve("sql_shares_then_reveal"));
    write(mpc, mpc.reveal(tx.filter(col("region").equalTo("islands")).select("region", "amount")),
        dir.resolve("rows_islands"));
    write(mpc, mpc.reveal(tx.agg(sum("amount").as("total"), count("*").as("n"))),
        dir.resolve("global"));
  }

  static void write(SparkMpc mpc, Dataset<Row> result, Path dir) throws Exception {
    Files.createDirectories(dir);
    org.sparkmpc.net.ChannelStats stats = org.sparkmpc.spark.MpcRuntime.current().gateway()
        .stats();
    long received = stats.bytesReceived();
    long released = stats.bytesReleased();
    List<Row> rows = result.collectAsList();
    // Once the query has finished, its operators have released what they received (a reveal of
    // rows at the end of the query, from Spark's listener thread).
    for (long end = System.nanoTime() + 3_000_000_000L; System.nanoTime() < end
        && stats.bytesReleased() - released != stats.bytesReceived() - received; ) {
      Thread.sleep(20);
    }
    Files.writeString(dir.resolve("released.txt"), "received=" + (stats.bytesReceived() - received)
        + "\nreleased=" + (stats.bytesReleased() - released) + "\n");
    SparkPlan plan = result.queryExecution().executedPlan();
    Files.writeString(dir.resolve("plan.txt"), plan.toString());
    StringBuilder metrics = new StringBuilder();
    plan.foreach(node -> {
      if (node.nodeName().startsWith("Secure")) {
        node.metrics().foreach(kv -> metrics.append(node.nodeName()).append('.').append(kv._1())
            .append('=').append(kv._2().value()).append('\n'));
      }
      return scala.runtime.BoxedUnit.UNIT;
    });
    Files.writeString(dir.resolve("metrics.txt"), metrics.toString());
    StringBuilder csv = new StringBuilder(String.join(",", result.columns())).append('\n');
    for (Row r : rows) {
      for (int i = 0; i < r.length(); i++) {
        csv.append(i > 0 ? "," : "").append(r.isNullAt(i) ? "" : r.get(i).toString());
      }
      csv.append('\n');
    }
    Files.writeString(dir.resolve(mpc.isRecipient(result) ? "result.csv" : "not-recipient.csv"),
        csv.toString());
  }
}
