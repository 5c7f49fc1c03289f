package org.sparkmpc.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.sparkmpc.spark.ml.BinaryMetrics;

/**
 * The README's first command: three banks on this machine, each a JVM of its own with its own local
 * Spark, compute per-region total, count and average of their pooled transactions over TLS on
 * loopback, without pooling them. Prints the secure answer beside plaintext Spark's answer on the
 * pooled rows, and the time each took.
 *
 * <p>Then four more parts, each with parties of its own: two hospitals fit a linear regression on
 * columns split between them ({@link #regression}); the three banks fit a fraud model, a
 * logistic regression on their transactions ({@link #fraud}); and two hospitals with overlapping
 * patient sets align them by private set intersection and fit a logistic regression
 * ({@link HospitalStudy}). Each model is printed beside Spark ML's on the pooled rows. Last, a
 * federated round: two aggregation parties open the mean of clients' updates that the demo sends
 * from threads of its own ({@link FederatedRound}).
 *
 * <p>Arguments: {@code [--rows N] [--patients N] [--fraud N] [--study N] [--clients N]
 * [--work DIR]} (default 1,000,000 transactions per bank, 200,000 patients, 10,000 labelled
 * transactions per bank, 20,000 patients per hospital in the study, 200 federated clients,
 * ./demo-output; 0 skips that part).
 */
public final class Demo {
  private Demo() {}

  static final List<String> BANKS = List.of("bank1", "bank2", "bank3");
  static final String QUERY = "SELECT region, reveal(SUM(amount)) AS total, COUNT(*) AS n, "
      + "reveal(AVG(amount)) AS average FROM tx GROUP BY region";

  public static void main(String[] args) throws Exception {
    long rows = 1_000_000;
    long patients = 200_000;
    long fraud = FRAUD_ROWS;
    long study = STUDY_PATIENTS;
    int clients = FederatedRound.CLIENTS;
    Path work = Path.of("demo-output");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rows" -> rows = Long.parseLong(args[++i]);
        case "--patients" -> patients = Long.parseLong(args[++i]);
        case "--fraud" -> fraud = Long.parseLong(args[++i]);
        case "--study" -> study = Long.parseLong(args[++i]);
        case "--clients" -> clients = Integer.parseInt(args[++i]);
        case "--work" -> work = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + "; usage: Demo [--rows N] [--patients N] [--fraud N] [--study N] [--clients N] "
            + "[--work DIR]");
      }
    }
    work = work.toAbsolutePath();
    SparkSession spark = rows > 0 || patients > 0 || fraud > 0 || study > 0
        ? SparkSession.builder().master("local[2]").appName("plaintext")
            .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
            .getOrCreate()
        : null;
    if (rows > 0) {
      banks(spark, work, rows);
    }
    if (patients > 0) {
      regression(spark, work.resolve("regression"), patients);
    }
    if (fraud > 0) {
      fraud(spark, work.resolve("fraud"), fraud);
    }
    if (study > 0) {
      HospitalStudy.run(spark, work.resolve("study"), study);
    }
    if (clients > 0) {
      FederatedRound.run(work.resolve("federated"), clients);
    }
    if (spark != null) {
      spark.stop();
    }
  }

  /**
   * Part one: three banks compute per-region total, count and average of their pooled
   * transactions; printed beside plaintext Spark's answer. Exits 1 if a region is missing.
   */
  static void banks(SparkSession spark, Path work, long rows) throws Exception {
    System.out.printf("Spark MPC demo: 3 banks x %,d transactions, each bank its own JVM and Spark,"
        + " TLS 1.3 on loopback.%n", rows);
    System.out.println("Each bank shares its 'amount' column; region stays public. Query:");
    System.out.println("  " + QUERY);
    Path keys = LocalParties.keys(work.resolve("keys"), BANKS);
    String spec = LocalParties.partiesSpec(BANKS, LocalParties.freePorts(3));
    List<String> files = new ArrayList<>();
    Map<String, Properties> confs = new LinkedHashMap<>();
    for (int i = 0; i < 3; i++) {
      String b = BANKS.get(i);
      Path data = work.resolve("data").resolve(b + ".csv");
      if (!Files.exists(data) || Files.size(data) < rows * 10) {
        SampleData.transactions(data, i, rows);
      }
      files.add(data.toString());
      Properties p = LocalParties.baseConfig(b, spec, keys, Duration.ofMinutes(3));
      p.setProperty("spark.mpc.share.partitions", "4");
      p.setProperty("input.tx.path", data.toString());
      p.setProperty("input.tx.schema", "region STRING, amount DOUBLE, items INT");
      p.setProperty("input.tx.share", "amount");
      p.setProperty("query", QUERY);
      p.setProperty("output", work.resolve(b).resolve("result").toString());
      confs.put(b, p);
    }
    System.out.println("Starting the three banks (keys and data in " + work + ") ...");
    long t0 = System.nanoTime();
    List<LocalParties.Outcome> outs = LocalParties.run(work, confs, "-Xmx2g",
        Duration.ofMinutes(10));
    long secureWall = (System.nanoTime() - t0) / 1_000_000;
    for (LocalParties.Outcome o : outs) {
      if (!o.ok()) {
        System.err.println(o);
        System.exit(1);
      }
    }
    String timings = timings(outs.get(0).stdout());

    long p0 = System.nanoTime();
    Dataset<Row> pooled = spark.read().option("header", "true")
        .schema("region STRING, amount DOUBLE, items INT").csv(files.toArray(new String[0]));
    List<Row> plain = pooled.groupBy("region").agg(functions.sum("amount"), functions.count("*"),
        functions.avg("amount")).collectAsList();
    long plainMs = (System.nanoTime() - p0) / 1_000_000;
    Map<String, Row> expected = new TreeMap<>();
    plain.forEach(r -> expected.put(r.getString(0), r));
    List<Row> secure = spark.read().option("header", "true")
        .schema("region STRING, total DOUBLE, n LONG, average DOUBLE")
        .csv(work.resolve("bank1").resolve("result").toString()).collectAsList();
    Map<String, Row> got = new TreeMap<>();
    secure.forEach(r -> got.put(r.getString(0), r));

    System.out.println();
    System.out.printf("%-10s %18s %18s %10s %10s %12s %12s%n", "region", "secure total",
        "plaintext total", "secure n", "plain n", "secure avg", "plain avg");
    double worst = 0;
    for (Map.Entry<String, Row> e : expected.entrySet()) {
      Row s = got.get(e.getKey());
      Row p = e.getValue();
      System.out.printf("%-10s %18.2f %18.2f %10d %10d %12.4f %12.4f%n", e.getKey(),
          s.getDouble(1), p.getDouble(1), s.getLong(2), p.getLong(2), s.getDouble(3),
          p.getDouble(3));
      worst = Math.max(worst, Math.abs(s.getDouble(1) - p.getDouble(1)));
    }
    System.out.println();
    System.out.printf("largest difference in a total: %.6f (fixed point at 2^-16 per value)%n",
        worst);
    System.out.printf("secure, 3 JVMs started to result written: %,d ms (%s)%n", secureWall,
        timings);
    System.out.printf("plaintext Spark on the pooled %,d rows (one JVM, CSV read included): %,d ms%n",
        rows * 3, plainMs);
    if (got.size() != expected.size()) {
      System.err.println("the secure result has " + got.size() + " regions, plaintext has "
          + expected.size());
      System.exit(1);
    }
  }

  static final List<String> HOSPITALS = List.of("hospitalA", "hospitalB", "dealer");

  /**
   * Part two: hospital A holds age and bmi, hospital B dose and the outcome, for the same patients;
   * a dealer process hands out correlated randomness. Both hospitals receive the model; hospital B
   * also receives the predictions. Printed beside Spark ML's fit on the pooled rows.
   */
  static void regression(SparkSession spark, Path work, long patients) throws Exception {
    System.out.println();
    System.out.printf("Part two: secure linear regression over %,d patients split by columns: "
        + "hospitalA has age, bmi; hospitalB has dose, outcome; a dealer process supplies the "
        + "correlated randomness. The model is solved inside MPC; only it is opened.%n", patients);
    Path[] files = SampleData.patients(work.resolve("data"), patients);
    List<LocalParties.Outcome> outs = runWithDealer(work, HOSPITALS, (i, p) -> {
      String h = HOSPITALS.get(i);
      p.setProperty("job", "regression");
      p.setProperty("input.patients.path", files[i].toString());
      p.setProperty("input.patients.schema", i == 0 ? "id STRING, age DOUBLE, bmi DOUBLE"
          : "id STRING, dose DOUBLE, outcome DOUBLE");
      p.setProperty("input.patients.alignBy", "id");
      p.setProperty("input.patients.share", i == 0 ? "age,bmi" : "dose,outcome");
      p.setProperty("regression.table", "patients");
      p.setProperty("regression.features", "age,bmi,dose");
      p.setProperty("regression.label", "outcome");
      p.setProperty("regression.predictTo", "hospitalB");
      p.setProperty("output", work.resolve(h).resolve("model").toString());
    });
    Map<String, Double> model = new LinkedHashMap<>();
    for (String line : Files.readAllLines(work.resolve("hospitalA/model/model.csv"))) {
      String[] f = line.split(",");
      if (!f[0].equals("term")) {
        model.put(f[0], Double.parseDouble(f[1]));
      }
    }
    Dataset<Row> a = spark.read().option("header", "true")
        .schema("id STRING, age DOUBLE, bmi DOUBLE").csv(files[0].toString());
    Dataset<Row> b = spark.read().option("header", "true")
        .schema("id STRING, dose DOUBLE, outcome DOUBLE").csv(files[1].toString());
    Dataset<Row> pooled = a.join(b, "id").cache();
    pooled.count();
    SparkMlReference.Fit ml = SparkMlReference.fit(pooled, new String[] {"age", "bmi", "dose"},
        "outcome");
    double[] ref = {ml.coefficients()[0], ml.coefficients()[1], ml.coefficients()[2],
        ml.intercept(), ml.r2()};
    System.out.println();
    System.out.printf("%-12s %14s %14s %12s %10s%n", "term", "secure", "Spark ML", "difference",
        "true");
    int k = 0;
    double worst = 0;
    for (Map.Entry<String, Double> e : model.entrySet()) {
      double diff = Math.abs(e.getValue() - ref[k]);
      worst = Math.max(worst, diff);
      System.out.printf("%-12s %14.6f %14.6f %12.2e %10s%n", e.getKey(), e.getValue(), ref[k],
          diff, k < SampleData.PATIENT_MODEL.length ? SampleData.PATIENT_MODEL[k] : "");
      k++;
    }
    long predictions = csvRows(work.resolve("hospitalB/model/predictions"));
    System.out.println();
    System.out.printf("secure fit at hospitalA (%s); Spark ML fit on the pooled rows: %,d ms%n",
        timings(outs.get(0).stdout()).replace("bank1: ", ""), ml.millis());
    System.out.printf("hospitalB received %,d secret-shared predictions, opened to it only%n",
        predictions);
    if (worst > 1e-3) {
      System.err.println("the secure model differs from Spark ML's by " + worst);
      System.exit(1);
    }
  }

  /** Patients per hospital in part four, by default. */
  static final long STUDY_PATIENTS = 20_000;

  /** Labelled transactions per bank in part three, by default. */
  static final long FRAUD_ROWS = 10_000;
  /** L2 regularisation of the fraud model, secure and Spark ML alike. */
  static final double FRAUD_REG = 0.01;
  static final String FRAUD_SCHEMA = "id STRING, income DOUBLE, age INT, amount DOUBLE, "
      + "foreign INT, fraud INT";

  /**
   * Part three: each bank holds its own labelled card transactions (horizontally split) and the
   * three train one fraud model on all of them with the party runner's {@code job=logistic}; a
   * dealer process supplies the correlated randomness. Every bank receives the model; bank1 also
   * receives the fraud probability of every transaction of the three. Printed beside Spark ML's
   * logistic regression on the pooled rows, with accuracy and AUC; exits 1 if they differ by more
   * than 0.005.
   */
  static void fraud(SparkSession spark, Path work, long rows) throws Exception {
    System.out.println();
    System.out.printf("Part three: a fraud model over %,d labelled transactions at each of the "
        + "three banks (horizontally split: each bank shares its own rows of income, age, amount, "
        + "foreign, fraud). Secure logistic regression, %s; only the model is opened.%n", rows,
        "L2 regParam " + FRAUD_REG + ", standardised features, 10 Newton steps inside MPC");
    List<String> members = new ArrayList<>(BANKS);
    members.add("dealer");
    List<String> files = new ArrayList<>();
    for (int i = 0; i < BANKS.size(); i++) {
      files.add(SampleData.fraudTransactions(work.resolve("data").resolve(BANKS.get(i) + ".csv"),
          i, rows).toString());
    }
    List<LocalParties.Outcome> outs = runWithDealer(work, members, (i, p) -> {
      String b = BANKS.get(i);
      Path data = Path.of(files.get(i));
      p.setProperty("job", "logistic");
      p.setProperty("input.tx.path", data.toString());
      p.setProperty("input.tx.schema", FRAUD_SCHEMA);
      p.setProperty("input.tx.share", "income,age,amount,foreign,fraud");
      p.setProperty("regression.table", "tx");
      p.setProperty("regression.features", String.join(",", SampleData.FRAUD_FEATURES));
      p.setProperty("regression.label", "fraud");
      p.setProperty("regression.regParam", Double.toString(FRAUD_REG));
      p.setProperty("regression.predictTo", "bank1");
      p.setProperty("regression.predictKeep", "id");
      p.setProperty("output", work.resolve(b).resolve("model").toString());
    });
    Dataset<Row> pooled = spark.read().option("header", "true").schema(FRAUD_SCHEMA)
        .csv(files.toArray(new String[0])).selectExpr("CAST(income AS DOUBLE) income",
            "CAST(age AS DOUBLE) age", "CAST(amount AS DOUBLE) amount",
            "CAST(`foreign` AS DOUBLE) `foreign`", "CAST(fraud AS DOUBLE) fraud").cache();
    LogisticComparison c = LogisticComparison.compare(
        LogisticComparison.readModel(work.resolve("bank2/model/model.csv")), pooled,
        SampleData.FRAUD_FEATURES, "fraud", FRAUD_REG, SampleData.FRAUD_MODEL);
    long predictions = csvRows(work.resolve("bank1/model/predictions"));
    System.out.println();
    System.out.printf("%,d transactions, %.1f %% fraud; accuracy and AUC of both models on all "
        + "of them%n", c.rows(), 100 * c.positiveShare());
    System.out.printf("secure fit at bank1 (%s); Spark ML fit on the pooled rows: %,d ms%n",
        timings(outs.get(0).stdout()).replace("bank1: ", ""), c.sparkMlMillis());
    System.out.printf("bank1 received %,d secret-shared fraud probabilities, opened to it only; "
        + "every bank keeps its shares of the model in model.properties%n", predictions);
    if (!c.agrees(0.005)) {
      System.err.println("the secure fraud model differs from Spark ML's: accuracy "
          + Arrays.toString(c.accuracy()) + ", AUC " + Arrays.toString(c.auc()));
      System.exit(1);
    }
  }

  /**
   * Run the party runners of {@code members} (the dealer listed last, as its own process) with
   * keys and party list made under {@code work}; {@code configure} adds each party's job keys to
   * its base config (party index, config). Exits 1, printing the party's outcome, if any fails.
   */
  static List<LocalParties.Outcome> runWithDealer(Path work, List<String> members,
      java.util.function.BiConsumer<Integer, Properties> configure) throws Exception {
    Path keys = LocalParties.keys(work.resolve("keys"), members);
    String spec = LocalParties.partiesSpec(members, LocalParties.freePorts(members.size()));
    Process dealer = LocalParties.startDealer(work, spec, keys, Duration.ofMinutes(3), List.of());
    Map<String, Properties> confs = new LinkedHashMap<>();
    for (int i = 0; i < members.size() - 1; i++) {
      Properties p = LocalParties.baseConfig(members.get(i), spec, keys, Duration.ofMinutes(3));
      p.setProperty("spark.mpc.dealer", "dealer");
      configure.accept(i, p);
      confs.put(members.get(i), p);
    }
    List<LocalParties.Outcome> outs = LocalParties.run(work, confs, "-Xmx2g",
        Duration.ofMinutes(10));
    dealer.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
    dealer.destroyForcibly();
    for (LocalParties.Outcome o : outs) {
      if (!o.ok()) {
        System.err.println(o);
        System.exit(1);
      }
    }
    return outs;
  }

  /** Data rows (header left out) of the CSV files Spark wrote into {@code dir}. */
  private static long csvRows(Path dir) throws java.io.IOException {
    try (var files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".csv")).mapToLong(f -> {
        try (var lines = Files.lines(f)) {
          return lines.count() - 1;
        } catch (java.io.IOException ex) {
          throw new java.io.UncheckedIOException(ex);
        }
      }).sum();
    }
  }

  static String timings(String stdout) {
    Matcher m = Pattern.compile("timings: (.*)").matcher(stdout);
    return m.find() ? "bank1: " + m.group(1) : "no timings";
  }
}
