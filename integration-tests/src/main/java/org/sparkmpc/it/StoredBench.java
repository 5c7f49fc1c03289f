package org.sparkmpc.it;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.sum;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.spark.SparkMpc;

/**
 * The stored share table rows of the benchmark: two parties on this machine, each with {@code n}
 * rows of its own in a Parquet file of its storage. Time to the first result of the same
 * aggregate query (SUM, COUNT, AVG of a secure column per public region, revealed) two ways:
 * reading the rows and sharing them again, against loading the parties' stored shares of the same
 * table ({@code SparkMpc.load}); median of three each, after a warm-up of both. Also the time to
 * save and the bytes stored per row at a party.
 */
final class StoredBench {
  private StoredBench() {}

  /** One party (BenchParty mode {@code stored}). */
  static void party(SparkSession spark, SparkMpc mpc, Properties conf, StringBuilder out)
      throws Exception {
    long n = Long.parseLong(conf.getProperty("rows"));
    int party = mpc.parties().indexOf(mpc.party());
    Path dir = Path.of(conf.getProperty("storage"));
    String input = dir.resolve("rows.parquet").toString();
    spark.range(party * n, party * n + n).selectExpr("concat('r', CAST(id % 8 AS STRING)) AS region",
        "CAST(id % 1000 AS DOUBLE) * 1.25 AS amount").repartition(4).write().mode("overwrite")
        .parquet(input);
    // warm-up of both paths, on a small table
    Dataset<Row> warm = mpc.share(spark.read().parquet(input).limit(20_000), "amount");
    mpc.save(warm, dir.resolve("warm").toString());
    mpc.drop(warm);
    query(mpc, mpc.load(dir.resolve("warm").toString()));

    long[] share = new long[3];
    long[] save = new long[3];
    long[] load = new long[3];
    String answer = null;
    for (int r = 0; r < 3; r++) {
      long t0 = System.nanoTime();
      Dataset<Row> tx = mpc.share(spark.read().parquet(input), "amount");
      String shared = query(mpc, tx);
      share[r] = System.nanoTime() - t0;
      String to = dir.resolve("stored-" + r).toString();
      long t1 = System.nanoTime();
      mpc.save(tx, to);
      save[r] = System.nanoTime() - t1;
      mpc.drop(tx);
      long t2 = System.nanoTime();
      Dataset<Row> loaded = mpc.load(to);
      String fromStore = query(mpc, loaded);
      load[r] = System.nanoTime() - t2;
      mpc.drop(loaded);
      if (!fromStore.equals(shared)) {
        throw new IllegalStateException("the stored table answered otherwise than the shared one");
      }
      answer = shared;
    }
    out.append("stored_rows=").append(n).append('\n');
    out.append("stored_share_first_ms=").append(median(share)).append('\n');
    out.append("stored_save_ms=").append(median(save)).append('\n');
    out.append("stored_load_first_ms=").append(median(load)).append('\n');
    out.append("stored_bytes=").append(size(dir.resolve("stored-0"))).append('\n');
    out.append("stored_groups=").append(answer.split("\n").length).append('\n');
  }

  private static String query(SparkMpc mpc, Dataset<Row> tx) {
    List<Row> rows = mpc.reveal(tx.groupBy("region").agg(sum("amount"), count("amount"),
        avg("amount"))).collectAsList();
    return String.join("\n", rows.stream().map(Row::toString).sorted().toList());
  }

  /** The median of {@code ns} nanoseconds, in milliseconds. */
  static long median(long[] ns) {
    long[] s = ns.clone();
    Arrays.sort(s);
    return s[s.length / 2] / 1_000_000;
  }

  private static long size(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      long n = 0;
      for (Path f : files.toList()) {
        n += Files.size(f);
      }
      return n;
    }
  }

  /** Run the two parties with {@code n} rows each; add the rows to {@code table}. */
  static void rows(Path work, long n, List<String> table) throws Exception {
    Path dir = work.resolve("stored-" + n);
    Properties r = Benchmark.runParties(dir, 2, false, BenchParty.class.getName(), "-Xmx3g",
        (i, p) -> {
          p.setProperty("mode", "stored");
          p.setProperty("rows", Long.toString(n));
          p.setProperty("storage", dir.resolve("party" + (i + 1) + "-storage").toString());
        });
    long share = Long.parseLong(r.getProperty("stored_share_first_ms"));
    long load = Long.parseLong(r.getProperty("stored_load_first_ms"));
    table.add(String.format("| persisted share table, 2 parties x %,d rows: ms to the first result "
        + "of a revealed SUM/COUNT/AVG by region, loading the stored shares (load + query) | %,d "
        + "| %.2fx of sharing again |", n, load, load / (double) share));
    table.add(String.format("| the same, reading the rows and sharing them again (read + share + "
        + "query) | %,d | |", share));
    table.add(String.format("| the same: ms to save a party's shares; bytes stored per row (of %,d "
        + "rows in all) at a party | %,d; %.1f | |", 2 * n,
        Long.parseLong(r.getProperty("stored_save_ms")),
        Long.parseLong(r.getProperty("stored_bytes")) / (2.0 * n)));
  }
}
