package org.sparkmpc.spark.runner;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.spark.psi.PrivateSetIntersection;
import org.sparkmpc.spark.SecureColumns;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.SparkMpcExtensions;
import org.sparkmpc.spark.dp.Noise;
import org.sparkmpc.spark.ml.SecureLinearRegression;
import org.sparkmpc.spark.ml.SecureLinearRegressionModel;
import org.sparkmpc.spark.ml.SecureLogisticRegression;
import org.sparkmpc.spark.ml.SecureLogisticRegressionModel;

/**
 * The main class a party hands to {@code spark-submit}: one party's side of a joint job.
 *
 * <p>It reads a party config file (Java properties): the {@code spark.mpc.*} settings, the party's
 * input tables, the columns of each to share, and one SQL query over the secure tables; it runs the
 * query in lockstep with the other parties and writes the revealed result as CSV. A party that is not
 * a recipient of the result writes nothing.
 *
 * <pre>
 * spark.mpc.party=bank1
 * spark.mpc.parties=bank1=10.0.0.1:7101,bank2=10.0.0.2:7101,bank3=10.0.0.3:7101
 * spark.mpc.keyDir=/etc/spark-mpc/keys
 * input.tx.path=/data/bank1/transactions.csv     # CSV (header row) or Parquet
 * input.tx.format=csv                            # csv (default) or parquet
 * input.tx.schema=region STRING, amount DOUBLE   # optional DDL schema for CSV
 *                                                # or a database table (Sources, JdbcSource):
 *                                                # input.tx.url, dbtable, user, passwordFile
 * input.tx.share=amount                          # columns to secret-share; the rest stay public
 * query=SELECT region, reveal(SUM(amount)) AS total, COUNT(*) AS n FROM tx GROUP BY region
 * output=/data/bank1/result                      # a folder; CSV with a header
 * explain=/data/bank1/plan.txt                   # optional: the executed plan
 * policy=/etc/spark-mpc/bank1-policy.yaml        # optional: the party's data policy
 * </pre>
 *
 * <p>A differentially private reveal after the query ({@link SparkMpc#reveal(Dataset, Noise)}):
 * clip the summed columns at this party before sharing, and name a second query whose SUM, COUNT
 * and AVG by public groups are opened with noise, charged to a dataset in the party's privacy
 * ledger ({@code spark.mpc.dp.ledger}, {@code spark.mpc.dp.budget}):
 *
 * <pre>
 * input.tx.clip=amount:0:10000                   # column:lo:hi[,column:lo:hi]; SparkMpc.clip
 * noisy.query=SELECT region, SUM(amount) AS total, COUNT(*) AS n FROM tx GROUP BY region
 * noisy.epsilon=1.0                              # the privacy loss the whole query spends
 * noisy.dataset=transactions                     # the ledger's name for what it is charged to
 * noisy.output=/data/bank1/noisy                 # a folder; CSV with a header
 * </pre>
 *
 * <p>With {@code policy} (or {@code spark.mpc.policy}), every input table is read through the
 * party's data policy ({@link SparkMpc#ingest}), and its rules are enforced at sharing and before
 * every operation that opens values; a refusal names the rule, the column and the party.
 *
 * <p>A regression job ({@code job=regression}) fits {@link SecureLinearRegression} on one table
 * whose columns are split over the parties, aligned by a public id, and writes the model (at the
 * recipients) as {@code output/model.csv}; with {@code regression.predictTo} it also predicts on
 * the same rows and writes the predictions at that party as {@code output/predictions}:
 *
 * <pre>
 * job=regression
 * input.patients.path=/data/hospitalA/patients.csv
 * input.patients.alignBy=patient_id              # vertically split: same ids at every party
 * input.patients.share=age,bmi
 * regression.table=patients
 * regression.features=age,bmi,dose              # columns of any party
 * regression.label=outcome
 * regression.recipients=hospitalA,hospitalB      # default: every party
 * regression.solver=mpc                          # mpc (default) or revealGram
 * regression.standardization=true               # standardise inside MPC (default true)
 * regression.intercept=true                      # fit an intercept (default true)
 * regression.predictTo=hospitalB                 # optional
 * regression.predictKeep=patient_id              # public columns beside the predictions;
 *                                                # default: the table's alignBy id, if any
 * output=/data/hospitalA/model
 * </pre>
 *
 * <p>When the parties hold overlapping but different entities and may not show each other their
 * ids, {@code input.patients.intersectBy=patient_id} (instead of {@code alignBy}) aligns the rows
 * by private set intersection ({@link SparkMpc#shareIntersected}): the table holds the members
 * only, keyed by the public pseudonym {@code psi_key}, which is then the default
 * {@code regression.predictKeep}. Two-party sessions only.
 *
 * <p>A logistic regression job ({@code job=logistic}) fits {@link SecureLogisticRegression} (the
 * label a secure integer column of 0s and 1s) with the same {@code regression.*} keys and some of
 * its own (below), on either kind of table: vertically split ({@code alignBy}) or horizontally
 * split (each party shares its own rows, no {@code alignBy}). The recipients write {@code
 * output/model.csv} in the same {@code term,value} format, each feature then {@code (intercept)},
 * on the features' original scale; it has no {@code (r2)} line, since R² measures a fit of values,
 * not of probabilities (compare logistic models by AUC and accuracy on labelled rows). Every party
 * also writes its part of the model with {@link SecureLogisticRegressionModel#save} to {@code
 * output/model.properties}: its shares of the model (secret data of that party: keep it with its
 * other secure data), and the opened model at a recipient. With {@code regression.predictTo}, that
 * party alone writes {@code output/predictions}: the kept columns, {@code probability} and {@code
 * prediction} (0 or 1) per row of the table.
 *
 * <pre>
 * job=logistic
 * input.tx.path=/data/bank1/transactions.csv
 * input.tx.share=income,age,amount,foreign,fraud   # no alignBy: each bank shares its own rows
 * regression.table=tx
 * regression.features=income,age,amount,foreign
 * regression.label=fraud                           # shared as an integer column of 0s and 1s
 * regression.regParam=0.01                         # L2, as Spark ML's (default 0)
 * regression.maxIter=10                            # Newton steps or epochs (default 10)
 * regression.solver=newton                         # newton (default) or minibatch
 * regression.standardization=true                 # default true, as in Spark ML
 * regression.recipients=bank1,bank2                # default: every party
 * regression.predictTo=bank1                       # optional
 * regression.predictKeep=id                        # optional: public columns to keep
 * output=/data/bank1/fraud-model
 * </pre>
 *
 * <p>{@code regression.solver} is {@code newton} (the default) or {@code minibatch}, the latter with
 * {@code regression.batchSize} (default 128) and {@code regression.stepSize} (default 1); both
 * solve inside MPC. Any other solver (the linear job's {@code mpc} and {@code revealGram}
 * included), {@code regression.intercept} other than {@code true}, or a mini-batch key with the
 * Newton solver is refused before the session starts, naming the key.
 *
 * <p>Every other {@code spark.*} key is passed to the Spark session (under spark-submit the master and
 * resources come from the command line).
 */
public final class PartyRunner {
  private PartyRunner() {}

  /**
   * Run the party config {@code args[0]} ({@code --help} for usage; {@link RunnerCommand}) and exit:
   * 0 when the job succeeded, 1 when it failed, 2 for a usage error.
   */
  public static void main(String[] args) throws IOException {
    System.exit(RunnerCommand.run(System.out, System.err, args));
  }

  /** Load a party config file; errors name the file. */
  public static Properties load(Path file) throws IOException {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
    }
    return p;
  }

  /**
   * The party's Spark session: every {@code spark.*} key of the config, the Spark MPC extension, and
   * {@code local[*]} unless a master is given (spark-submit gives one).
   */
  public static SparkSession session(Properties conf) {
    SparkSession.Builder b = SparkSession.builder().appName("spark-mpc-"
        + require(conf, "spark.mpc.party"));
    for (String k : conf.stringPropertyNames()) {
      if (k.startsWith("spark.")) {
        b.config(k, conf.getProperty(k));
      }
    }
    b.config("spark.sql.extensions", SparkMpcExtensions.class.getName());
    String policy = conf.getProperty("policy", "").trim();
    if (!policy.isEmpty()) {
      b.config(org.sparkmpc.spark.MpcConf.POLICY.key(), policy);
    }
    if (!conf.containsKey("spark.master") && System.getProperty("spark.master") == null) {
      b.master("local[*]");
    }
    return b.getOrCreate();
  }

  /** Run one party's job. Returns the number of result rows written (0 at a non-recipient). */
  public static long run(Properties conf) {
    String job = job(conf);
    // A federated round has no table of its own: its inputs are the clients' uploads.
    boolean federated = job.equals("federated");
    // Input tables are checked before the session: a database this party cannot read stops it
    // here, in a second, with the table and source named.
    if (!federated) {
      org.sparkmpc.connectors.Sources.check(conf);
    } else {
      FederatedJob.spec(conf, List.of("a", "b")); // its numbers, checked before the session
    }
    SparkSession spark = session(conf);
    long t0 = System.nanoTime();
    try (SparkMpc mpc = SparkMpc.of(spark)) {
      long t1 = System.nanoTime();
      java.util.Map<String, Dataset<Row>> tables = new java.util.HashMap<>();
      for (String table : federated ? List.<String>of()
          : org.sparkmpc.connectors.Sources.tables(conf)) {
        Dataset<Row> stored = StoredInputs.loadIfStored(mpc, conf, table);
        if (stored != null) {
          tables.put(table, stored);
          continue;
        }
        // Through the party's data policy (policy=<file>), when it has one.
        Dataset<Row> own = mpc.ingest(table,
            org.sparkmpc.connectors.Sources.read(spark, conf, table));
        for (String[] c : NoisyQuery.clips(conf, table)) {
          own = mpc.clip(own, c[0], Double.parseDouble(c[1]), Double.parseDouble(c[2]));
        }
        String[] cols = require(conf, "input." + table + ".share").split("\\s*,\\s*");
        String alignBy = conf.getProperty("input." + table + ".alignBy", "").trim();
        String intersectBy = conf.getProperty("input." + table + ".intersectBy", "").trim();
        if (!alignBy.isEmpty() && !intersectBy.isEmpty()) {
          throw new MpcInputException("input." + table + ".alignBy and input." + table
              + ".intersectBy are both set: align by a public id or by PSI, not both");
        }
        Dataset<Row> secure;
        if (!intersectBy.isEmpty()) {
          // shareIntersected, with the sizes PSI revealed printed for the party's operator.
          PrivateSetIntersection.Result psi = PrivateSetIntersection.run(mpc.runtime(), own,
              intersectBy, PrivateSetIntersection.Output.MEMBERS, List.of(), List.of(cols));
          System.out.printf(java.util.Locale.ROOT, "spark-mpc: private set intersection of "
              + "table %s on '%s': %,d identifiers here, %,d at the other party, %,d in common%n",
              table, intersectBy, psi.ownRows(), psi.peerRows(), psi.size());
          secure = mpc.shareAligned(psi.members(), PrivateSetIntersection.KEY, cols);
        } else {
          secure = alignBy.isEmpty() ? mpc.share(own, cols) : mpc.shareAligned(own, alignBy, cols);
        }
        secure.createOrReplaceTempView(table);
        StoredInputs.saveIfAsked(mpc, conf, table, secure);
        tables.put(table, secure);
      }
      long t2 = System.nanoTime();
      if (job.equals("federated")) {
        return FederatedJob.run(mpc, conf);
      }
      if (job.equals("regression")) {
        return regression(mpc, conf, tables, t0, t1, t2);
      }
      if (job.equals("logistic")) {
        return logistic(mpc, conf, tables, t0, t1, t2);
      }
      Dataset<Row> result = spark.sql(require(conf, "query"));
      java.util.Optional<org.apache.spark.sql.types.StructField> shares =
          SecureColumns.firstSecure(result.schema());
      if (shares.isPresent()) {
        throw new MpcInputException("the query's result column '" + shares.get().name()
            + "' holds shares, and the runner writes only revealed results: wrap it in reveal(...)"
            + " (shares are written only as an explicit share table, never as a query result)");
      }
      String explain = conf.getProperty("explain");
      if (explain != null) {
        writeText(Path.of(explain), result.queryExecution().executedPlan().toString());
      }
      List<Row> rows = result.collectAsList();
      long t3 = System.nanoTime();
      System.out.printf("spark-mpc: party %s timings: session %d ms, share %d ms, query %d ms%n",
          mpc.party(), (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000);
      long written = 0;
      if (mpc.isRecipient(result)) {
        Path out = Path.of(require(conf, "output"));
        writeCsv(spark, rows, result, out);
        System.out.println("spark-mpc: party " + mpc.party() + " wrote " + rows.size()
            + " result rows to " + out);
        written = rows.size();
      }
      NoisyQuery.runIfAsked(spark, mpc, conf);
      return written;
    } finally {
      spark.stop();
    }
  }

  /**
   * The job of the config, checked before any session starts (a mistake found here keeps the
   * party from joining, instead of failing the others mid-job): sql, regression or logistic, and
   * for logistic its own keys.
   */
  static String job(Properties conf) {
    String job = conf.getProperty("job", "sql").trim();
    switch (job) {
      case "sql" -> NoisyQuery.noise(conf);
      case "regression", "federated" -> { }
      case "logistic" -> logisticSettings(conf);
      default -> throw new MpcInputException("job must be sql, regression, logistic or "
          + "federated, was '" + job + "'");
    }
    for (String k : conf.stringPropertyNames()) {
      if (k.startsWith("input.") && k.endsWith(".clip")) {
        NoisyQuery.clips(conf, k.substring("input.".length(), k.length() - ".clip".length()));
      }
    }
    return job;
  }

  static void writeCsv(SparkSession spark, List<Row> rows, Dataset<Row> result, Path out) {
    spark.createDataFrame(rows, result.schema()).coalesce(1).write().mode("overwrite")
        .option("header", "true").csv(out.toString());
  }

  /** The input table that {@code regression.table} names, shared. */
  private static Dataset<Row> regressionTable(Properties conf,
      java.util.Map<String, Dataset<Row>> tables) {
    String name = require(conf, "regression.table");
    Dataset<Row> table = tables.get(name);
    if (table == null) {
      throw new MpcInputException("regression.table names '" + name + "', which is not an "
          + "input table (input." + name + ".path)");
    }
    return table;
  }

  private static String[] list(Properties conf, String key) {
    String v = conf.getProperty(key, "").trim();
    return v.isEmpty() ? new String[0] : v.split("\\s*,\\s*");
  }

  private static long regression(SparkMpc mpc, Properties conf,
      java.util.Map<String, Dataset<Row>> tables, long t0, long t1, long t2) {
    Dataset<Row> table = regressionTable(conf, tables);
    SecureLinearRegression lr = new SecureLinearRegression(mpc)
        .setFeatureCols(require(conf, "regression.features").split("\\s*,\\s*"))
        .setLabelCol(require(conf, "regression.label"))
        .setRecipients(list(conf, "regression.recipients"))
        .setFitIntercept(Boolean.parseBoolean(conf.getProperty("regression.intercept", "true")))
        .setStandardization(Boolean.parseBoolean(conf.getProperty(
            "regression.standardization", "true").trim()))
        .setSolver(conf.getProperty("regression.solver", SecureLinearRegression.SOLVER_MPC).trim());
    SecureLinearRegressionModel model = lr.fit(table);
    long t3 = System.nanoTime();
    System.out.printf("spark-mpc: party %s timings: session %d ms, share %d ms, fit %d ms%n",
        mpc.party(), (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000);
    Path out = Path.of(require(conf, "output"));
    long written = 0;
    if (model.isRecipient()) {
      StringBuilder csv = new StringBuilder("term,value\n");
      String[] features = model.featureCols();
      double[] coef = model.coefficients();
      for (int i = 0; i < coef.length; i++) {
        csv.append(features[i]).append(',').append(coef[i]).append('\n');
      }
      csv.append("(intercept),").append(model.intercept()).append('\n');
      csv.append("(r2),").append(model.r2()).append('\n');
      writeText(out.resolve("model.csv"), csv.toString());
      System.out.println("spark-mpc: party " + mpc.party() + " received the model: " + csv
          .toString().replace('\n', ' '));
      written = coef.length;
    }
    String predictTo = conf.getProperty("regression.predictTo", "").trim();
    if (!predictTo.isEmpty()) {
      writePredictions(mpc, model.transform(table, predictTo, predictKeep(conf)), out);
    }
    return written;
  }

  /** The settings of a logistic job, checked; errors name the key. */
  record LogisticSettings(String solver, double regParam, int maxIter, boolean standardization,
      int batchSize, double stepSize) {
    /** The estimator these settings describe (features, label and recipients still to set). */
    SecureLogisticRegression estimator() {
      SecureLogisticRegression e = new SecureLogisticRegression().setSolver(solver)
          .setRegParam(regParam).setMaxIter(maxIter).setStandardization(standardization);
      return solver.equals(SecureLogisticRegression.MINIBATCH)
          ? e.setBatchSize(batchSize).setStepSize(stepSize) : e;
    }
  }

  static LogisticSettings logisticSettings(Properties conf) {
    String newton = SecureLogisticRegression.NEWTON;
    String minibatch = SecureLogisticRegression.MINIBATCH;
    String solver = conf.getProperty("regression.solver", "").trim();
    if (solver.isEmpty()) {
      solver = newton;
    }
    if (!solver.equals(newton) && !solver.equals(minibatch)) {
      throw new MpcInputException("regression.solver=" + solver + " is not a solver of "
          + "job=logistic: use " + newton + " (the default: Newton steps over the whole table) or "
          + minibatch + " (mini-batch gradient descent on the drivers); "
          + SecureLinearRegression.SOLVER_MPC + " and " + SecureLinearRegression.SOLVER_REVEAL_GRAM
          + " are solvers of job=regression");
    }
    String intercept = conf.getProperty("regression.intercept", "").trim();
    if (!intercept.isEmpty() && !intercept.equals("true")) {
      throw new MpcInputException("regression.intercept=" + intercept + " is not available for "
          + "job=logistic, which always fits an intercept: set it to true or leave it out");
    }
    for (String key : List.of("regression.batchSize", "regression.stepSize")) {
      if (!solver.equals(minibatch) && conf.getProperty(key) != null) {
        throw new MpcInputException(key + " applies to regression.solver=" + minibatch
            + " only, and the solver is " + solver);
      }
    }
    String std = conf.getProperty("regression.standardization", "true").trim();
    if (!std.equals("true") && !std.equals("false")) {
      throw new MpcInputException("regression.standardization must be true or false, was '"
          + std + "'");
    }
    LogisticSettings s = new LogisticSettings(solver,
        number(conf, "regression.regParam", "0"), whole(conf, "regression.maxIter", "10"),
        Boolean.parseBoolean(std), whole(conf, "regression.batchSize", "128"),
        number(conf, "regression.stepSize", "1"));
    s.estimator();   // the estimator's own range checks, before any session starts
    require(conf, "regression.table");
    require(conf, "regression.features");
    require(conf, "regression.label");
    return s;
  }

  private static double number(Properties conf, String key, String otherwise) {
    String v = conf.getProperty(key, otherwise).trim();
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new MpcInputException(key + " must be a number, was '" + v + "'");
    }
  }

  private static int whole(Properties conf, String key, String otherwise) {
    String v = conf.getProperty(key, otherwise).trim();
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new MpcInputException(key + " must be a whole number, was '" + v + "'");
    }
  }

  private static long logistic(SparkMpc mpc, Properties conf,
      java.util.Map<String, Dataset<Row>> tables, long t0, long t1, long t2) {
    LogisticSettings s = logisticSettings(conf);
    Dataset<Row> table = regressionTable(conf, tables);
    SecureLogisticRegressionModel model = s.estimator()
        .setFeaturesCols(require(conf, "regression.features").split("\\s*,\\s*"))
        .setLabelCol(require(conf, "regression.label"))
        .setRecipients(list(conf, "regression.recipients"))
        .fit(table);
    long t3 = System.nanoTime();
    System.out.printf("spark-mpc: party %s timings: session %d ms, share %d ms, fit %d ms%n",
        mpc.party(), (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000);
    Path out = Path.of(require(conf, "output"));
    try {
      Files.createDirectories(out);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create " + out, e);
    }
    // Every party keeps its shares of the model (for later predictions), in its own storage.
    model.save(out.resolve("model.properties").toString());
    long written = 0;
    if (model.isRecipient()) {
      StringBuilder csv = new StringBuilder("term,value\n");
      String[] features = model.featuresCols();
      double[] coef = model.coefficients();
      for (int i = 0; i < coef.length; i++) {
        csv.append(features[i]).append(',').append(coef[i]).append('\n');
      }
      csv.append("(intercept),").append(model.intercept()).append('\n');
      writeText(out.resolve("model.csv"), csv.toString());
      System.out.println("spark-mpc: party " + mpc.party() + " received the model: " + csv
          .toString().replace('\n', ' '));
      written = coef.length;
    }
    String predictTo = conf.getProperty("regression.predictTo", "").trim();
    if (!predictTo.isEmpty()) {
      writePredictions(mpc, model.transform(table, predictTo, predictKeep(conf)), out);
    }
    return written;
  }

  /**
   * The public columns kept beside the predictions: {@code regression.predictKeep}, else the
   * table's {@code alignBy} id (or {@code psi_key} for {@code intersectBy}), else none.
   */
  private static String[] predictKeep(Properties conf) {
    if (conf.getProperty("regression.predictKeep") != null) {
      return list(conf, "regression.predictKeep");
    }
    String table = require(conf, "regression.table");
    String id = conf.getProperty("input." + table + ".alignBy", "").trim();
    if (id.isEmpty() && !conf.getProperty("input." + table + ".intersectBy", "").isBlank()) {
      id = PrivateSetIntersection.KEY;
    }
    return id.isEmpty() ? new String[0] : new String[] {id};
  }

  /** Predictions opened to one party, which writes them to {@code out/predictions}. */
  private static void writePredictions(SparkMpc mpc, Dataset<Row> pred, Path out) {
    List<Row> rows = pred.collectAsList();
    if (mpc.isRecipient(pred)) {
      pred.sparkSession().createDataFrame(rows, pred.schema()).coalesce(1).write()
          .mode("overwrite").option("header", "true").csv(out.resolve("predictions").toString());
      System.out.println("spark-mpc: party " + mpc.party() + " wrote " + rows.size()
          + " predictions to " + out.resolve("predictions"));
    }
  }

  /** The value of {@code key}, trimmed; an error naming the key when it is missing or blank. */
  static String require(Properties conf, String key) {
    String v = conf.getProperty(key);
    if (v == null || v.isBlank()) {
      throw new MpcInputException("the party config has no '" + key + "'");
    }
    return v.trim();
  }

  private static void writeText(Path file, String text) {
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write " + file, e);
    }
  }
}
