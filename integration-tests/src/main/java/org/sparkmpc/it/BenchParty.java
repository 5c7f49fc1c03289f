package org.sparkmpc.it;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.sum;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.runner.PartyRunner;

/**
 * One party of the benchmark: loads and caches its own rows, runs a small warm-up share and query
 * (which also lines the parties up), then times sharing its rows plus the first query on the new
 * secure table (end to end; median of three, the JVMs warm as plaintext Spark's are) and repeated
 * queries over the already-shared table (median of five). Writes {@code key=value}
 * lines to the file named by {@code out}. Other parts pick a {@code mode}: {@code mult}
 * ({@code SUM(x * y)}), {@code deep} ({@link DeepChain}), {@code regression} and {@code pred}
 * (the secret-predicate queries of {@link PredicateBench}), {@code psi} ({@link PsiBench}),
 * {@code jdbc} ({@link JdbcBench}), {@code stored} ({@link StoredBench}) and {@code fed} (an
 * aggregation party of {@link FederatedBench}).
 */
public final class BenchParty {
  private BenchParty() {}

  /** One benchmark mode's work at a party, its results appended to {@code out} as properties. */
  interface Mode {
    void run(SparkSession spark, SparkMpc mpc, Properties conf, StringBuilder out) throws Exception;
  }

  public static void main(String[] args) throws Exception {
    Properties conf = PartyRunner.load(Path.of(args[0]));
    SparkSession spark = PartyRunner.session(conf);
    StringBuilder out = new StringBuilder();
    String mode = conf.getProperty("mode", "agg");
    Mode body = switch (mode) {
      case "psi" -> PsiBench::party;
      case "jdbc" -> JdbcBench::party;
      case "stored" -> StoredBench::party;
      case "fed" -> FederatedBench::party;
      case "dp" -> DpBench::party;
      case "logit" -> LogisticBench::party;
      case "regression" -> BenchParty::regression;
      case "pred" -> PredicateBench::party;
      case "deep" -> (s, mpc, c, o) -> deep(s, mpc, Long.parseLong(c.getProperty("rows")),
          Integer.parseInt(c.getProperty("rounds")), o);
      case "mult" -> (s, mpc, c, o) -> multiplications(s, mpc,
          Long.parseLong(c.getProperty("rows")), o);
      default -> null;
    };
    if (body != null) {
      try (SparkMpc mpc = SparkMpc.of(spark)) {
        body.run(spark, mpc, conf, out);
      } finally {
        spark.stop();
      }
      Files.writeString(Path.of(conf.getProperty("out")), out.toString());
      System.exit(0);
    }
    try (SparkMpc mpc = SparkMpc.of(spark)) {
      Dataset<Row> own = spark.read().option("header", "true")
          .schema("region STRING, amount DOUBLE, items INT").csv(conf.getProperty("input"))
          .repartition(Integer.parseInt(conf.getProperty("partitions", "4")))
          .persist(StorageLevel.MEMORY_ONLY());
      long ownRows = own.count();

      Dataset<Row> warm = mpc.share(own.limit(20_000), "amount");
      for (int i = 0; i < 3; i++) {
        mpc.reveal(warm.groupBy("region").agg(sum("amount"), count("amount"), avg("amount")))
            .collectAsList();
      }

      // End to end, warm: share the own rows and run the query, three times; the median counts.
      long[] shares = new long[3];
      long[] firsts = new long[3];
      long sentBytes = 0;
      Dataset<Row> tx = null;
      for (int r = 0; r < shares.length; r++) {
        if (tx != null) {
          mpc.drop(tx);
        }
        long sent0 = MpcRuntime.current().gateway().stats().bytesSent();
        long t0 = System.nanoTime();
        tx = mpc.share(own, "amount");
        long t1 = System.nanoTime();
        sentBytes = MpcRuntime.current().gateway().stats().bytesSent() - sent0;
        mpc.reveal(tx.groupBy("region").agg(sum("amount"), count("amount"), avg("amount")))
            .collectAsList();
        shares[r] = t1 - t0;
        firsts[r] = System.nanoTime() - t1;
      }
      long[] e2e = new long[shares.length];
      for (int r = 0; r < e2e.length; r++) {
        e2e[r] = shares[r] + firsts[r];
      }
      int mid = medianIndex(e2e);
      long[] runs = new long[5];
      for (int i = 0; i < runs.length; i++) {
        long s = System.nanoTime();
        mpc.reveal(tx.groupBy("region").agg(sum("amount"), count("amount"), avg("amount")))
            .collectAsList();
        runs[i] = System.nanoTime() - s;
      }
      Arrays.sort(runs);
      out.append("own_rows=").append(ownRows).append('\n');
      out.append("total_rows=").append(tx.count()).append('\n');
      out.append("share_ms=").append(shares[mid] / 1_000_000).append('\n');
      out.append("first_query_ms=").append(firsts[mid] / 1_000_000).append('\n');
      out.append("query_ms=").append(runs[runs.length / 2] / 1_000_000).append('\n');
      out.append("share_bytes_sent=").append(sentBytes).append('\n');
      out.append("peak_heap_bytes=").append(peakHeap()).append('\n');
      out.append("peak_offheap_bytes=").append(peakOffHeap()).append('\n');
    } finally {
      spark.stop();
    }
    Files.writeString(Path.of(conf.getProperty("out")), out.toString());
    System.exit(0);
  }

  /** Peak heap use of this JVM so far: the sum of the heap pools' peaks. */
  static long peakHeap() {
    long sum = 0;
    for (java.lang.management.MemoryPoolMXBean pool
        : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == java.lang.management.MemoryType.HEAP && pool.getPeakUsage() != null) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  /**
   * Off-heap memory in use at the end of the run, at its peak where the allocator tracks one: the
   * peak of Arrow's root allocator (Spark's, which the share batches draw on) plus the JVM's
   * direct and mapped buffer pools now (Netty, NIO).
   */
  static long peakOffHeap() {
    long sum = org.apache.spark.sql.util.ArrowUtils.rootAllocator().getPeakMemoryAllocation();
    for (java.lang.management.BufferPoolMXBean pool : java.lang.management.ManagementFactory
        .getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class)) {
      sum += pool.getMemoryUsed();
    }
    return sum;
  }

  /**
   * Multiplication throughput through the whole Spark path: {@code SUM(x * y)} over a shared table
   * of every party's rows, one Beaver multiplication per row (triples from the dealer).
   */
  private static void multiplications(SparkSession spark, SparkMpc mpc, long rows,
      StringBuilder out) {
    Dataset<Row> own = spark.range(rows).selectExpr("CAST(id % 97 AS DOUBLE) / 7 AS x",
        "CAST(id % 89 AS DOUBLE) / 5 AS y").repartition(4).persist(StorageLevel.MEMORY_ONLY());
    own.count();
    Dataset<Row> t = mpc.share(own, "x", "y");
    t.createOrReplaceTempView("m");
    Dataset<Row> q = spark.sql("SELECT reveal(SUM(x * y)) FROM m");
    q.collectAsList(); // warm-up
    long total = 0;
    long[] runs = new long[3];
    long sent = 0;
    for (int i = 0; i < runs.length; i++) {
      long b0 = MpcRuntime.current().gateway().stats().bytesSent();
      long s = System.nanoTime();
      spark.sql("SELECT reveal(SUM(x * y)) FROM m").collectAsList();
      runs[i] = System.nanoTime() - s;
      sent = MpcRuntime.current().gateway().stats().bytesSent() - b0;
    }
    for (String n : new String[] {"m"}) {
      total = spark.sql("SELECT COUNT(*) FROM " + n).first().getLong(0);
    }
    Arrays.sort(runs);
    out.append("mult_rows=").append(total).append('\n');
    out.append("mult_ms=").append(runs[1] / 1_000_000).append('\n');
    out.append("mult_bytes_sent=").append(sent).append('\n');
  }

  /**
   * A deep protocol through Spark: {@link DeepChain} ({@code rounds} sequential Beaver
   * multiplications per row, one task per partition) over a table of every party's rows, after a
   * warm-up on a small table; the median of three runs.
   */
  private static void deep(SparkSession spark, SparkMpc mpc, long rows, int rounds,
      StringBuilder out) {
    Dataset<Row> own = spark.range(rows).selectExpr("CAST(id % 97 AS INT) - 48 AS x")
        .repartition(4).persist(StorageLevel.MEMORY_ONLY());
    own.count();
    Dataset<Row> warm = mpc.share(own.limit(20_000), "x");
    DeepChain.run(mpc, warm, "x", rounds, null);
    mpc.drop(warm);
    Dataset<Row> t = mpc.share(own, "x");
    long[] runs = new long[3];
    for (int i = 0; i < runs.length; i++) {
      long s = System.nanoTime();
      DeepChain.run(mpc, t, "x", rounds, null);
      runs[i] = System.nanoTime() - s;
    }
    Arrays.sort(runs);
    out.append("deep_rows=").append(mpc.secureTable(t, "bench").rows()).append('\n');
    out.append("deep_partitions=").append(mpc.secureTable(t, "bench").partitions()
        .getNumPartitions()).append('\n');
    out.append("deep_ms=").append(runs[1] / 1_000_000).append('\n');
  }

  /**
   * Synthetic regression data, the same at every party and in the plaintext reference: a long
   * {@code id}, features {@code x<from>..x<to-1>} uniform with variance 1 (hashes of id and
   * column), and with {@code label} the outcome {@code y = Σ c_j x_j + 1 + noise}.
   */
  static Dataset<Row> regressionData(SparkSession spark, long rows, int features, int from,
      int to, boolean label) {
    List<String> cols = new ArrayList<>();
    cols.add("id");
    for (int j = from; j < to; j++) {
      cols.add(uniform(j) + " AS x" + j);
    }
    if (label) {
      StringBuilder y = new StringBuilder("1.0 + 0.5 * " + uniform(99));
      for (int j = 0; j < features; j++) {
        y.append(" + ").append(coefficient(j)).append(" * ").append(uniform(j));
      }
      cols.add("CAST(" + y + " AS DOUBLE) AS y");
    }
    return spark.range(rows).selectExpr(cols.toArray(new String[0]));
  }

  static double coefficient(int j) {
    return 0.3 * (j + 1) * (j % 2 == 0 ? 1 : -1) / 3;
  }

  private static String uniform(int j) {
    return "CAST(((pmod(xxhash64(id, " + j + "), 2000003) / 2000003.0) - 0.5) * 3.4641016 AS DOUBLE)";
  }

  /**
   * The regression benchmark at one party: share its columns aligned by id, then fit
   * (warm-up on a slice first). Columns {@code from..to} of {@code features}; {@code label}: holds
   * the outcome.
   */
  private static void regression(SparkSession spark, SparkMpc mpc, Properties conf,
      StringBuilder out) {
    long rows = Long.parseLong(conf.getProperty("rows"));
    int features = Integer.parseInt(conf.getProperty("features"));
    int from = Integer.parseInt(conf.getProperty("from"));
    int to = Integer.parseInt(conf.getProperty("to"));
    boolean label = Boolean.parseBoolean(conf.getProperty("label"));
    Dataset<Row> own = regressionData(spark, rows, features, from, to, label).repartition(4)
        .persist(StorageLevel.MEMORY_ONLY());
    own.count();
    List<String> mine = new ArrayList<>();
    for (int j = from; j < to; j++) {
      mine.add("x" + j);
    }
    if (label) {
      mine.add("y");
    }
    String[] all = new String[features];
    for (int j = 0; j < features; j++) {
      all[j] = "x" + j;
    }
    org.sparkmpc.spark.ml.SecureLinearRegression lr =
        new org.sparkmpc.spark.ml.SecureLinearRegression(mpc).setFeatureCols(all).setLabelCol("y");
    Dataset<Row> warm = mpc.shareAligned(own.filter("id < 20000"), "id",
        mine.toArray(new String[0]));
    lr.fit(warm);
    mpc.drop(warm);
    long t0 = System.nanoTime();
    Dataset<Row> table = mpc.shareAligned(own, "id", mine.toArray(new String[0]));
    long t1 = System.nanoTime();
    long b0 = MpcRuntime.current().gateway().stats().bytesSent();
    org.sparkmpc.spark.ml.SecureLinearRegressionModel model = lr.fit(table);
    long t2 = System.nanoTime();
    out.append("reg_rows=").append(rows).append('\n');
    out.append("reg_share_ms=").append((t1 - t0) / 1_000_000).append('\n');
    out.append("reg_gram_ms=").append(model.gramMillis()).append('\n');
    out.append("reg_solve_ms=").append(model.solveMillis()).append('\n');
    out.append("reg_fit_ms=").append((t2 - t1) / 1_000_000).append('\n');
    out.append("reg_fit_bytes_sent=").append(
        MpcRuntime.current().gateway().stats().bytesSent() - b0).append('\n');
    StringBuilder coef = new StringBuilder();
    for (double c : model.coefficients()) {
      coef.append(c).append(' ');
    }
    out.append("reg_model=").append(coef).append(model.intercept()).append(' ')
        .append(model.r2()).append('\n');
  }

  private static int medianIndex(long[] v) {
    Integer[] idx = {0, 1, 2};
    Arrays.sort(idx, (a, b) -> Long.compare(v[a], v[b]));
    return idx[1];
  }
}
