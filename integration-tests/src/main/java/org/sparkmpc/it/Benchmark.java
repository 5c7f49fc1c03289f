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
 * <p>Arguments: {@code [--rows N] [--work DIR]}.
 */
public final class Benchmark {
  private Benchmark() {}

  public static void main(String[] args) throws Exception {
    long rows = 3_000_000;
    Path work = Path.of("bench-output");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rows" -> rows = Long.parseLong(args[++i]);
        case "--work" -> work = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("usage: Benchmark [--rows N] [--work DIR]");
      }
    }
    work = work.toAbsolutePath();
    List<String> parties = List.of("bank1", "bank2", "bank3");
    Path keys = LocalParties.keys(work.resolve("keys"), parties);
    String spec = LocalParties.partiesSpec(parties, LocalParties.freePorts(3));
    List<String> files = new ArrayList<>();
    Map<String, Properties> confs = new LinkedHashMap<>();
    for (int i = 0; i < 3; i++) {
      String b = parties.get(i);
      Path data = work.resolve("data").resolve(b + ".csv");
      if (!Files.exists(data) || Files.size(data) < rows * 10) {
        SampleData.transactions(data, i, rows);
      }
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

    SparkSession spark = SparkSession.builder().master("local[2]").appName("plaintext")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4").getOrCreate();
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
    long[][] mult = {multiplications(work, 2, rows / 3), multiplications(work, 3, rows / 3)};
    System.out.println();
    System.out.println(machine());
    System.out.println();
    System.out.println("| measure | value | ratio to plaintext |");
    System.out.println("| --- | ---: | ---: |");
    System.out.printf("| plaintext Spark `groupBy(region).agg(sum, count, avg)`, %,d pooled rows "
        + "(cached) | %,d ms | 1.00 |%n", pooledRows, plainMs);
    System.out.printf("| secure query over already-shared columns (3 parties, %,d rows) | %,d ms "
        + "| %.2f |%n", pooledRows, queryMs, queryMs / (double) plainMs);
    System.out.printf("| secure end to end from plaintext (share %,d ms + first query %,d ms) "
        + "| %,d ms | %.2f |%n", shareMs, firstQueryMs, e2eMs, e2eMs / (double) plainMs);
    System.out.printf("| sharing throughput, values per second per party | %,.0f | |%n",
        (pooledRows * 1000.0) / Math.max(1, shareMs));
    System.out.printf("| bytes sent per own row when sharing (public region column; secret "
        + "columns send 0) | %.1f | |%n", sent / (double) Math.max(1, ownRows));
    for (int i = 0; i < mult.length; i++) {
      long total = mult[i][0];
      System.out.printf("| multiplications per second per party, dealer, %d parties "
          + "(`SUM(x * y)` over %,d shared rows, whole Spark path) | %,.0f | |%n", i + 2, total,
          total * 1000.0 / Math.max(1, mult[i][1]));
      System.out.printf("| bytes sent per multiplication per party, dealer, %d parties | %.1f | |%n",
          i + 2, mult[i][2] / (double) Math.max(1, total));
    }
    System.out.println();
    System.out.println("Secure timings are bank1's (the others ran concurrently on the same cores);"
        + " medians of 3 runs (end to end), 5 runs (over shares) and 7 runs (plaintext), all in"
        + " warm JVMs.");
  }

  /** {@code parties} parties and a dealer process; returns rows, median ms, bytes sent (party 1). */
  static long[] multiplications(Path work, int parties, long rowsPerParty) throws Exception {
    Path dir = work.resolve("mult-" + parties);
    List<String> members = new ArrayList<>();
    for (int i = 1; i <= parties; i++) {
      members.add("party" + i);
    }
    members.add("dealer");
    Path keys = LocalParties.keys(dir.resolve("keys"), members);
    String spec = LocalParties.partiesSpec(members, LocalParties.freePorts(members.size()));
    Path dealerDir = dir.resolve("dealer");
    Files.createDirectories(dealerDir);
    Properties dc = LocalParties.baseConfig("dealer", spec, keys, Duration.ofMinutes(5));
    Path dealerConf = dealerDir.resolve("dealer.properties");
    try (var out = Files.newOutputStream(dealerConf)) {
      dc.store(out, "dealer");
    }
    Process dealer = LocalParties.start(dealerDir, "-Xmx1g", dealerConf,
        "org.sparkmpc.correlation.DealerMain", List.of());
    Map<String, Properties> confs = new LinkedHashMap<>();
    for (int i = 0; i < parties; i++) {
      Properties p = LocalParties.baseConfig(members.get(i), spec, keys, Duration.ofMinutes(5));
      p.setProperty("spark.mpc.dealer", "dealer");
      p.setProperty("mode", "mult");
      p.setProperty("rows", Long.toString(rowsPerParty));
      p.setProperty("out", dir.resolve(members.get(i) + "-mult.txt").toString());
      confs.put(members.get(i), p);
    }
    List<LocalParties.Outcome> outs = LocalParties.run(dir, confs, "-Xmx2g",
        Duration.ofMinutes(15), BenchParty.class.getName(), List.of());
    dealer.waitFor(2, java.util.concurrent.TimeUnit.MINUTES);
    dealer.destroyForcibly();
    for (LocalParties.Outcome o : outs) {
      if (!o.ok()) {
        throw new IllegalStateException(o.toString());
      }
    }
    Properties r = new Properties();
    try (var in = Files.newInputStream(dir.resolve("party1-mult.txt"))) {
      r.load(in);
    }
    return new long[] {Long.parseLong(r.getProperty("mult_rows")),
        Long.parseLong(r.getProperty("mult_ms")), Long.parseLong(r.getProperty("mult_bytes_sent"))};
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
