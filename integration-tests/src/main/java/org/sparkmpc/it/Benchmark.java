package org.sparkmpc.it;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;

/**
 * The benchmark harness: three parties on this machine with {@code --rows} rows each (default 3M),
 * then plaintext Spark on the same pooled rows in the same run, and one table with the ratios.
 *
 * <p>Arguments: see {@link #USAGE}.
 */
public final class Benchmark {
  private Benchmark() {}

  /** The parts of the benchmark, in the order they run; all by default. */
  static final List<String> PARTS = List.of("agg", "mult", "deep", "kernel", "cmp", "pred", "reg",
      "logit", "infer", "psi", "jdbc", "stored", "fed", "dp");
  static final String USAGE = "usage: Benchmark [--rows N] [--reg-rows N] [--logit-rows N] [--parts "
      + String.join(",", PARTS) + "] [--kernel-batch N] [--kernel-dealer-only] [--cmp-batch N] "
      + "[--pred-heap -XmxNg] [--infer-rows N] [--psi-rows N[,N...]] [--jdbc-rows N] [--stored-rows N] "
      + "[--fed-clients N] [--fed-dims N] [--dp-rows N] [--work DIR]";

  public static void main(String[] args) throws Exception {
    long rows = 3_000_000;
    long regRows = 1_000_000;
    long logitRows = 1_000_000;
    Path work = Path.of("bench-output");
    int[][] kernelRuns = {{2, 0}, {3, 0}, {2, 1}};
    int kernelBatch = 1 << 20;
    int cmpBatch = 1 << 20;
    String predHeap = null; // from --rows: PredicateBench.heap
    long inferRows = 1_000_000; // the batch of the infer part (InferenceBench)
    String psiRows = "1000000"; // identifiers per party in the psi part, one run each
    long jdbcRows = 3_000_000; // rows in the jdbc part, half in each party's table
    long storedRows = 1_000_000; // rows per party in the stored part (StoredBench)
    int fedClients = 10_000; // clients of the fed part (FederatedBench)
    int fedDims = 100_000; // dimensions of each client's update in the fed part
    long dpRows = 1_000_000; // rows per party in the dp part (DpBench)
    java.util.Set<String> parts = new java.util.LinkedHashSet<>(PARTS);
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rows" -> rows = Long.parseLong(args[++i]);
        case "--reg-rows" -> regRows = Long.parseLong(args[++i]);
        case "--logit-rows" -> logitRows = Long.parseLong(args[++i]);
        case "--work" -> work = Path.of(args[++i]);
        case "--parts" -> parts = new java.util.LinkedHashSet<>(List.of(args[++i].split(",")));
        case "--kernel-dealer-only" -> kernelRuns = new int[][] {{2, 0}, {3, 0}};
        case "--kernel-batch" -> kernelBatch = Integer.parseInt(args[++i]);
        case "--cmp-batch" -> cmpBatch = Integer.parseInt(args[++i]);
        case "--pred-heap" -> predHeap = args[++i];
        case "--infer-rows" -> inferRows = Long.parseLong(args[++i]);
        case "--psi-rows" -> psiRows = args[++i];
        case "--jdbc-rows" -> jdbcRows = Long.parseLong(args[++i]);
        case "--stored-rows" -> storedRows = Long.parseLong(args[++i]);
        case "--fed-clients" -> fedClients = Integer.parseInt(args[++i]);
        case "--fed-dims" -> fedDims = Integer.parseInt(args[++i]);
        case "--dp-rows" -> dpRows = Long.parseLong(args[++i]);
        default -> throw new IllegalArgumentException(USAGE);
      }
    }
    for (String part : parts) {
      if (!PARTS.contains(part)) {
        throw new IllegalArgumentException("unknown part '" + part + "'; " + USAGE);
      }
    }
    work = work.toAbsolutePath();
    List<String> table = new ArrayList<>();
    if (parts.contains("agg")) {
      aggregates(work, rows, table);
    }
    if (parts.contains("mult")) {
      long[][] mult = {multiplications(work, 2, rows / 3, false),
          multiplications(work, 3, rows / 3, false)};
      long[] staged = multiplications(work, 2, rows / 3, true);
      for (int i = 0; i < mult.length; i++) {
        long total = mult[i][0];
        table.add(String.format("| multiplications per second per party, dealer, %d parties "
            + "(`SUM(x * y)` over %,d shared rows, whole Spark path, one deep stage) | %,.0f | |",
            i + 2, total, total * 1000.0 / Math.max(1, mult[i][1])));
        if (i == 0) {
          table.add(String.format("| the same, 2 parties, products as a send stage and a receive "
              + "stage (the path before deep stages) | %,.0f | |",
              staged[0] * 1000.0 / Math.max(1, staged[1])));
        }
        table.add(String.format("| bytes sent per multiplication per party, dealer, %d parties, "
            + "whole Spark path | %.1f | |", i + 2, mult[i][2] / (double) Math.max(1, total)));
      }
    }
    if (parts.contains("deep")) {
      deepRows(work, 1_000_000, 64, table);
    }
    if (parts.contains("kernel")) {
      int[][] runs = kernelRuns;
      for (int[] run : runs) {
        String source = run[1] == 0 ? "dealer" : "ot";
        int batch = run[1] == 0 ? kernelBatch : 1 << 17;
        int batches = run[1] == 0 ? (8 << 20) / kernelBatch : 2;
        long[] k = kernel(work, run[0], source, batch, batches);
        table.add(String.format("| multiplications per second per party online, %s, %d parties "
            + "(Beaver kernel, %,d in batches of %,d, TLS between party JVMs) | %,.0f | |",
            source, run[0], k[0], batch, k[0] * 1000.0 / Math.max(1, k[2])));
        table.add(String.format("| multiplications per second per party with preprocessing, "
            + "%s, %d parties | %,.0f | |", source, run[0],
            k[0] * 1000.0 / Math.max(1, k[1] + k[2])));
        table.add(String.format("| bytes sent per multiplication per party, %s, %d parties: "
            + "online / preprocessing | %.1f / %.1f | |", source, run[0],
            k[3] / (double) k[0], k[4] / (double) k[0]));
      }
    }
    if (parts.contains("cmp")) {
      PredicateBench.comparisonRows(work, cmpBatch, 4, table);
    }
    if (parts.contains("pred")) {
      PredicateBench.predicateRows(work, rows, predHeap, table);
    }
    if (parts.contains("reg")) {
      regressionRows(work, regRows, table);
    }
    if (parts.contains("logit")) {
      LogisticBench.rows(work, logitRows, table);
    }
    // infer: secure inference served over a long-lived session, without Spark (InferenceBench)
    if (parts.contains("infer")) {
      InferenceBench.rows(work, inferRows, table);
    }
    if (parts.contains("psi")) {
      for (String n : psiRows.split(",")) {
        long ids = Long.parseLong(n.trim());
        PsiBench.rows(work, ids, ids > 2_000_000 ? "-Xmx6g" : "-Xmx3g", table);
      }
    }
    // jdbc: ingest from PostgreSQL into shares against Spark's plaintext JDBC read (JdbcBench)
    if (parts.contains("jdbc")) {
      JdbcBench.rows(work, jdbcRows, table);
    }
    if (parts.contains("stored")) {
      StoredBench.rows(work, storedRows, table);
    }
    // fed: federated secure aggregation, clients uploading to 2 and 3 parties (FederatedBench)
    if (parts.contains("fed")) {
      FederatedBench.rows(work, fedClients, fedDims, table);
    }
    // dp: a revealed aggregate with noise drawn inside MPC against the exact reveal (DpBench)
    if (parts.contains("dp")) {
      DpBench.rows(work, dpRows, table);
    }
    System.out.println();
    System.out.println(machine());
    System.out.println();
    System.out.println("| measure | value | ratio to plaintext |");
    System.out.println("| --- | ---: | ---: |");
    table.forEach(System.out::println);
    System.out.println();
    System.out.println("Secure timings are the first party's (the others ran concurrently on the "
        + "same cores); medians of 3 runs (end to end, Spark-path multiplications, plaintext "
        + "regression, secret-predicate queries), 5 runs (over shares) and 7 runs (plaintext "
        + "aggregate and secret-predicate queries), all in warm JVMs.");
  }

  /** The three-bank aggregate rows: secure over shares and end to end vs plaintext Spark. */
  static void aggregates(Path work, long rows, List<String> table) throws Exception {
    List<String> parties = List.of("bank1", "bank2", "bank3");
    Path keys = LocalParties.keys(work.resolve("keys"), parties);
    String spec = LocalParties.partiesSpec(parties, LocalParties.freePorts(3));
    List<String> files = new ArrayList<>();
    Map<String, Properties> confs = new LinkedHashMap<>();
    for (int i = 0; i < 3; i++) {
      String b = parties.get(i);
      Path data = transactions(work, i, rows);
      files.add(data.toString());
      Properties p = LocalParties.baseConfig(b, spec, keys, Duration.ofMinutes(5));
      p.setProperty("input", data.toString());
      p.setProperty("out", work.resolve(b + "-bench.txt").toString());
      p.setProperty("spark.sql.shuffle.partitions", "4");
      confs.put(b, p);
    }
    System.out.printf("benchmark: 3 parties x %,d rows, each its own JVM (local[2]) on this machine%n",
        rows);
    List<LocalParties.Outcome> outs = LocalParties.run(work, confs, "-Xmx3g",
        Duration.ofMinutes(20), BenchParty.class.getName(), List.of());
    for (LocalParties.Outcome o : outs) {
      if (!o.ok()) {
        System.err.println(o);
        System.exit(1);
      }
    }
    Properties r = new Properties();
    try (var in = Files.newInputStream(work.resolve("bank1-bench.txt"))) {
      r.load(in);
    }
    long shareMs = Long.parseLong(r.getProperty("share_ms"));
    long firstQueryMs = Long.parseLong(r.getProperty("first_query_ms"));
    long queryMs = Long.parseLong(r.getProperty("query_ms"));
    long ownRows = Long.parseLong(r.getProperty("own_rows"));
    long sent = Long.parseLong(r.getProperty("share_bytes_sent"));

    SparkSession spark = plaintextSpark();
    Dataset<Row> pooled = spark.read().option("header", "true")
        .schema("region STRING, amount DOUBLE, items INT").csv(files.toArray(new String[0]))
        .repartition(4).persist(StorageLevel.MEMORY_ONLY());
    long pooledRows = pooled.count();
    long[] runs = new long[7];
    for (int i = 0; i < runs.length; i++) {
      long s = System.nanoTime();
      pooled.groupBy("region").agg(functions.sum("amount"), functions.count("amount"),
          functions.avg("amount")).collectAsList();
      runs[i] = System.nanoTime() - s;
    }
    Arrays.sort(runs);
    long plainMs = Math.max(1, runs[runs.length / 2] / 1_000_000);
    spark.stop();
    long e2eMs = shareMs + firstQueryMs;
    table.add(String.format("| plaintext Spark `groupBy(region).agg(sum, count, avg)`, %,d pooled "
        + "rows (cached) | %,d ms | 1.00 |", pooledRows, plainMs));
    table.add(String.format("| secure query over already-shared columns (3 parties, %,d rows) | "
        + "%,d ms | %.2f |", pooledRows, queryMs, queryMs / (double) plainMs));
    table.add(String.format("| secure end to end from plaintext (share %,d ms + first query %,d "
        + "ms) | %,d ms | %.2f |", shareMs, firstQueryMs, e2eMs, e2eMs / (double) plainMs));
    table.add(String.format("| sharing throughput, values per second per party | %,.0f | |",
        (pooledRows * 1000.0) / Math.max(1, shareMs)));
    table.add(String.format("| bytes sent per own row when sharing (public region column; "
        + "secret columns send 0) | %.1f | |", sent / (double) Math.max(1, ownRows)));
    table.add(String.format("| peak heap / off-heap of one party (%,d own rows, %,d in its "
        + "table) | %,d MiB / %,d MiB | |", ownRows, pooledRows,
        Long.parseLong(r.getProperty("peak_heap_bytes")) >> 20,
        Long.parseLong(r.getProperty("peak_offheap_bytes")) >> 20));
  }

  /**
   * Bank {@code party}'s {@code rows} transactions ({@link SampleData#transactions}) under
   * {@code work/data}, written once per row count (whole or not at all) and reused by every part
   * that reads them.
   */
  static Path transactions(Path work, int party, long rows) throws java.io.IOException {
    Path data = work.resolve("data").resolve("bank" + (party + 1) + "-" + rows + ".csv");
    if (!Files.exists(data)) {
      Path partial = data.resolveSibling(data.getFileName() + ".partial");
      SampleData.transactions(partial, party, rows);
      Files.move(partial, data, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
    return data;
  }

  /** XᵀX and Xᵀy, and the full fit, secure (3 parties + dealer) vs plaintext Spark / Spark ML. */
  static void regressionRows(Path work, long rows, List<String> table) throws Exception {
    Properties r = regression(work, rows);
    long gramMs = Long.parseLong(r.getProperty("reg_gram_ms"));
    long solveMs = Long.parseLong(r.getProperty("reg_solve_ms"));
    long fitMs = Long.parseLong(r.getProperty("reg_fit_ms"));
    long shareMs = Long.parseLong(r.getProperty("reg_share_ms"));
    long bytes = Long.parseLong(r.getProperty("reg_fit_bytes_sent"));
    String[] secureModel = r.getProperty("reg_model").trim().split(" ");

    SparkSession spark = plaintextSpark();
    Dataset<Row> data = BenchParty.regressionData(spark, rows, REG_FEATURES, 0, REG_FEATURES,
        true).repartition(4).persist(StorageLevel.MEMORY_ONLY());
    data.count();
    String[] features = new String[REG_FEATURES];
    List<org.apache.spark.sql.Column> sums = new ArrayList<>();
    for (int i = 0; i < REG_FEATURES; i++) {
      features[i] = "x" + i;
    }
    for (int i = 0; i < REG_FEATURES; i++) {
      for (int j = i; j < REG_FEATURES; j++) {
        sums.add(functions.sum(functions.col(features[i]).multiply(functions.col(features[j]))));
      }
      sums.add(functions.sum(functions.col(features[i]).multiply(functions.col("y"))));
      sums.add(functions.sum(features[i]));
    }
    sums.add(functions.sum(functions.col("y").multiply(functions.col("y"))));
    sums.add(functions.sum("y"));
    sums.add(functions.count("y"));
    long[] gram = new long[3];
    long[] gramian = new long[3];
    long[] fits = new long[3];
    org.apache.spark.api.java.JavaRDD<org.apache.spark.mllib.linalg.Vector> vectors = data
        .toJavaRDD().map(row -> {
          double[] v = new double[REG_FEATURES + 2];
          for (int j = 0; j < REG_FEATURES; j++) {
            v[j] = row.getDouble(1 + j);
          }
          v[REG_FEATURES] = 1;
          v[REG_FEATURES + 1] = row.getDouble(1 + REG_FEATURES);
          return org.apache.spark.mllib.linalg.Vectors.dense(v);
        }).persist(StorageLevel.MEMORY_ONLY());
    vectors.count();
    SparkMlReference.Fit ml = null;
    for (int i = 0; i < 3; i++) {
      long s = System.nanoTime();
      data.agg(sums.get(0), sums.subList(1, sums.size()).toArray(new org.apache.spark.sql.Column[0]))
          .collectAsList();
      gram[i] = (System.nanoTime() - s) / 1_000_000;
      s = System.nanoTime();
      new org.apache.spark.mllib.linalg.distributed.RowMatrix(vectors.rdd())
          .computeGramianMatrix();
      gramian[i] = (System.nanoTime() - s) / 1_000_000;
      ml = SparkMlReference.fit(data, features, "y");
      fits[i] = ml.millis();
    }
    Arrays.sort(gram);
    Arrays.sort(gramian);
    Arrays.sort(fits);
    spark.stop();
    double worst = 0;
    for (int i = 0; i < REG_FEATURES; i++) {
      worst = Math.max(worst, Math.abs(Double.parseDouble(secureModel[i]) - ml.coefficients()[i]));
    }
    worst = Math.max(worst, Math.abs(Double.parseDouble(secureModel[REG_FEATURES])
        - ml.intercept()));
    long plainGram = Math.max(1, gramian[1]);
    long sqlGram = Math.max(1, gram[1]);
    long plainFit = Math.max(1, fits[1]);
    table.add(String.format("| plaintext Spark XᵀX and Xᵀy (`RowMatrix.computeGramianMatrix` of "
        + "[X, 1, y]), X = %,d x %d pooled (cached) | %,d ms | 1.00 |", rows, REG_FEATURES,
        plainGram));
    table.add(String.format("| plaintext Spark XᵀX and Xᵀy as 77 SQL sums of products, same data "
        + "| %,d ms | %.2f |", sqlGram, sqlGram / (double) plainGram));
    table.add(String.format("| secure XᵀX and Xᵀy, features split 5 + 5 over two parties, label at "
        + "a third, dealer's Gram triples | %,d ms | %.2f |", gramMs, gramMs / (double) plainGram));
    table.add(String.format("| Spark ML `LinearRegression` fit (normal solver), same data (cached) "
        + "| %,d ms | 1.00 |", plainFit));
    table.add(String.format("| secure fit, solved inside MPC (XᵀX %,d ms + solve %,d ms), only "
        + "the model opened | %,d ms | %.2f |", gramMs, solveMs, fitMs,
        fitMs / (double) plainFit));
    table.add(String.format("| bytes sent per row per party by the secure fit | %.1f | |",
        bytes / (double) rows));
    table.add(String.format("| largest difference, secure vs Spark ML coefficients; R² secure / "
        + "Spark ML | %.1e; %s / %.6f | |", worst, secureModel[secureModel.length - 1], ml.r2()));
    table.add(String.format("| sharing the regression table aligned by id (3 parties, %,d rows) "
        + "| %,d ms | |", rows, shareMs));
  }

  static SparkSession plaintextSpark() {
    return SparkSession.builder().master("local[2]").appName("plaintext")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4").getOrCreate();
  }

  /**
   * A {@code rounds}-round protocol ({@link DeepChain}) over {@code rows} shared rows (2 parties,
   * half each, dealer) through Spark, against the same kernel between the party JVMs without
   * Spark ({@link DeepKernelBench}) over the same partitions and wave width.
   */
  static void deepRows(Path work, long rows, int rounds, List<String> table) throws Exception {
    java.util.function.BiConsumer<Integer, Properties> big = (i, p) -> {
      p.setProperty("spark.mpc.gateway.maxBufferedBytes", "4g");
      p.setProperty("rounds", Integer.toString(rounds));
    };
    Properties spark = runParties(work.resolve("deep"), 2, true, BenchParty.class.getName(),
        "-Xmx7g", List.of(), (i, p) -> {
          big.accept(i, p);
          p.setProperty("mode", "deep");
          p.setProperty("rows", Long.toString(rows / 2));
        });
    int partitions = Integer.parseInt(spark.getProperty("deep_partitions"));
    Properties kernel = runParties(work.resolve("deep-kernel"), 2, true,
        DeepKernelBench.class.getName(), "-Xmx7g", List.of(), (i, p) -> {
          big.accept(i, p);
          p.setProperty("rows", Long.toString(rows));
          p.setProperty("partitions", Integer.toString(partitions));
          p.setProperty("width", "2"); // local[2] at both parties: the agreed wave width
        });
    long through = Long.parseLong(spark.getProperty("deep_ms"));
    long plain = Math.max(1, Long.parseLong(kernel.getProperty("deep_kernel_ms")));
    table.add(String.format("| rounds through Spark: %d-round protocol (`DeepChain`, %d sequential "
        + "Beaver multiplications per row) over %,d shared rows in %d partitions, 2 parties, "
        + "dealer: one deep stage (wave of 2 tasks) / the same kernel between the party JVMs "
        + "without Spark (target: at most 1.5x) | %,d ms / %,d ms | %.2fx |", rounds, rounds,
        rows, partitions, through, plain, through / (double) plain));
    table.add(String.format("| multiplications per second per party in that protocol through "
        + "Spark | %,.0f | |", rows * (double) rounds * 1000.0 / Math.max(1, through)));
  }

  /** {@code parties} parties and a dealer process; returns rows, median ms, bytes sent (party 1). */
  static long[] multiplications(Path work, int parties, long rowsPerParty, boolean staged)
      throws Exception {
    Properties r = runParties(work.resolve("mult-" + parties + (staged ? "-staged" : "")),
        parties, true, BenchParty.class.getName(), "-Xmx2g",
        staged ? List.of("-Dsparkmpc.stagedRounds=true") : List.of(), (i, p) -> {
          p.setProperty("mode", "mult");
          p.setProperty("rows", Long.toString(rowsPerParty));
        });
    return new long[] {Long.parseLong(r.getProperty("mult_rows")),
        Long.parseLong(r.getProperty("mult_ms")), Long.parseLong(r.getProperty("mult_bytes_sent"))};
  }

  /**
   * Start {@code parties} party JVMs running {@code main} (and a dealer process if asked), wait
   * for them and return the first party's {@code key=value} output.
   */
  static Properties runParties(Path dir, int parties, boolean dealer, String main, String heap,
      java.util.function.BiConsumer<Integer, Properties> configure) throws Exception {
    return runParties(dir, parties, dealer, main, heap, List.of(), configure);
  }

  /** As above, with extra JVM options for the party JVMs. */
  static Properties runParties(Path dir, int parties, boolean dealer, String main, String heap,
      List<String> jvmOptions, java.util.function.BiConsumer<Integer, Properties> configure)
      throws Exception {
    return runParties(dir, parties, dealer, main, heap, jvmOptions, Duration.ofMinutes(20),
        configure);
  }

  /** As above, the party JVMs stopped after {@code limit}. */
  static Properties runParties(Path dir, int parties, boolean dealer, String main, String heap,
      List<String> jvmOptions, Duration limit,
      java.util.function.BiConsumer<Integer, Properties> configure) throws Exception {
    List<String> members = new ArrayList<>();
    for (int i = 1; i <= parties; i++) {
      members.add("party" + i);
    }
    if (dealer) {
      members.add("dealer");
    }
    Path keys = LocalParties.keys(dir.resolve("keys"), members);
    String spec = LocalParties.partiesSpec(members, LocalParties.freePorts(members.size()));
    // The dealer waits for each operator's request as long as the parties may take to start and
    // to run a query over millions of rows on two shared cores.
    Process dealerProcess = dealer ? LocalParties.startDealer(dir, spec, keys,
        Duration.ofMinutes(5), Duration.ofMinutes(15), List.of()) : null;
    Map<String, Properties> confs = new LinkedHashMap<>();
    for (int i = 0; i < parties; i++) {
      Properties p = LocalParties.baseConfig(members.get(i), spec, keys, Duration.ofMinutes(5));
      if (dealer) {
        p.setProperty("spark.mpc.dealer", "dealer");
      }
      p.setProperty("out", dir.resolve(members.get(i) + "-out.txt").toString());
      configure.accept(i, p);
      confs.put(members.get(i), p);
    }
    List<LocalParties.Outcome> outs = LocalParties.run(dir, confs, heap, limit, main, jvmOptions);
    if (dealerProcess != null) {
      dealerProcess.waitFor(2, java.util.concurrent.TimeUnit.MINUTES);
      dealerProcess.destroyForcibly();
    }
    for (LocalParties.Outcome o : outs) {
      if (!o.ok()) {
        throw new IllegalStateException(o.toString());
      }
    }
    Properties r = new Properties();
    try (var in = Files.newInputStream(dir.resolve("party1-out.txt"))) {
      r.load(in);
    }
    return r;
  }

  /** The online multiplication kernel without Spark: mults, prep ms, online ms, online bytes. */
  static long[] kernel(Path work, int parties, String correlations, int batch, int batches)
      throws Exception {
    Properties r = runParties(work.resolve("kernel-" + correlations + "-" + parties), parties,
        correlations.equals("dealer"), KernelBench.class.getName(), "-Xmx3g", (i, p) -> {
          p.setProperty("correlations", correlations);
          p.setProperty("batch", Integer.toString(batch));
          p.setProperty("batches", Integer.toString(batches));
        });
    return new long[] {Long.parseLong(r.getProperty("mults")),
        Long.parseLong(r.getProperty("prep_ms")), Long.parseLong(r.getProperty("online_ms")),
        Long.parseLong(r.getProperty("online_bytes_sent")),
        Long.parseLong(r.getProperty("prep_bytes_sent"))};
  }

  static final int REG_FEATURES = 10;

  /**
   * Regression: 10 features split over two parties (5 each), the label at a third, a dealer;
   * {@code rows} rows. Returns the first party's output.
   */
  static Properties regression(Path work, long rows) throws Exception {
    return runParties(work.resolve("regression"), 3, true, BenchParty.class.getName(), "-Xmx3g",
        (i, p) -> {
          p.setProperty("mode", "regression");
          p.setProperty("rows", Long.toString(rows));
          p.setProperty("features", Integer.toString(REG_FEATURES));
          p.setProperty("from", Integer.toString(i == 0 ? 0 : i == 1 ? REG_FEATURES / 2 : 0));
          p.setProperty("to", Integer.toString(i == 0 ? REG_FEATURES / 2 : i == 1 ? REG_FEATURES
              : 0));
          p.setProperty("label", Boolean.toString(i == 2));
          p.setProperty("spark.mpc.share.partitions", "4");
        });
  }

  static String machine() {
    Runtime rt = Runtime.getRuntime();
    long mem = ((com.sun.management.OperatingSystemMXBean) ManagementFactory
        .getOperatingSystemMXBean()).getTotalMemorySize();
    return String.format("machine: %d cores, %.0f GiB RAM, %s %s, Java %s", rt.availableProcessors(),
        mem / (double) (1L << 30), System.getProperty("os.name"), System.getProperty("os.arch"),
        System.getProperty("java.version"));
  }
}
