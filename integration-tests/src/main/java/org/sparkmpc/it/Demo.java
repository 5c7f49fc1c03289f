package org.sparkmpc.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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

/**
 * The README's first command: three banks on this machine, each a JVM of its own with its own local
 * Spark, compute per-region total, count and average of their pooled transactions over TLS on
 * loopback, without pooling them. Prints the secure answer beside plaintext Spark's answer on the
 * pooled rows, and the time each took.
 *
 * <p>Arguments: {@code [--rows N] [--work DIR]} (default 1,000,000 rows per bank, ./demo-output).
 */
public final class Demo {
  private Demo() {}

  static final List<String> BANKS = List.of("bank1", "bank2", "bank3");
  static final String QUERY = "SELECT region, reveal(SUM(amount)) AS total, COUNT(*) AS n, "
      + "reveal(AVG(amount)) AS average FROM tx GROUP BY region";

  public static void main(String[] args) throws Exception {
    long rows = 1_000_000;
    Path work = Path.of("demo-output");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rows" -> rows = Long.parseLong(args[++i]);
        case "--work" -> work = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + "; usage: Demo [--rows N] [--work DIR]");
      }
    }
    work = work.toAbsolutePath();
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

    SparkSession spark = SparkSession.builder().master("local[2]").appName("plaintext")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .getOrCreate();
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
    spark.stop();
    if (got.size() != expected.size()) {
      System.err.println("the secure result has " + got.size() + " regions, plaintext has "
          + expected.size());
      System.exit(1);
    }
  }

  private static String timings(String stdout) {
    Matcher m = Pattern.compile("timings: (.*)").matcher(stdout);
    return m.find() ? "bank1: " + m.group(1) : "no timings";
  }
}
