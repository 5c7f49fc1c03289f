package org.sparkmpc.it;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.sum;

import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.dp.Noise;

/**
 * The differential privacy rows of the benchmark: two parties (the OT source), {@code n} rows each,
 * {@code amount} clipped and shared; the same SUM, COUNT and AVG of it by 8 public regions opened
 * exactly and with discrete Laplace noise drawn inside MPC, median of three each after a warm-up
 * of both. The difference is the noise: one operator of 7 rounds per noisy quantity on the
 * driver's channel, its correlated material from the OT source, and the ledger's charge.
 */
final class DpBench {
  private DpBench() {}

  /** One party (BenchParty mode {@code dp}). */
  static void party(SparkSession spark, SparkMpc mpc, Properties conf, StringBuilder out) {
    long n = Long.parseLong(conf.getProperty("rows"));
    int party = mpc.parties().indexOf(mpc.party());
    Dataset<Row> own = mpc.clip(spark.range(party * n, party * n + n).selectExpr(
        "concat('r', CAST(id % 8 AS STRING)) AS region",
        "CAST(id % 1000 AS DOUBLE) * 1.25 AS amount").repartition(4), "amount", 0, 1250);
    Dataset<Row> tx = mpc.share(own, "amount");
    Dataset<Row> agg = tx.groupBy("region").agg(sum("amount"), count("amount"), avg("amount"));
    mpc.reveal(agg).collectAsList(); // warm-up of both
    mpc.reveal(agg, Noise.laplace(0.1).dataset("warm")).collectAsList();
    long[] exact = new long[3];
    long[] noisy = new long[3];
    for (int r = 0; r < 3; r++) {
      long t0 = System.nanoTime();
      List<Row> e = mpc.reveal(agg).collectAsList();
      exact[r] = System.nanoTime() - t0;
      long t1 = System.nanoTime();
      List<Row> d = mpc.reveal(agg, Noise.laplace(0.1).dataset("run-" + r)).collectAsList();
      noisy[r] = System.nanoTime() - t1;
      if (e.size() != 8 || d.size() != 8) {
        throw new IllegalStateException("expected 8 groups, got " + e.size() + " and " + d.size());
      }
    }
    out.append("dp_rows=").append(n).append('\n');
    out.append("dp_exact_ms=").append(StoredBench.median(exact)).append('\n');
    out.append("dp_noisy_ms=").append(StoredBench.median(noisy)).append('\n');
  }

  /** Run the two parties with {@code n} rows each; add the rows to {@code table}. */
  static void rows(Path work, long n, List<String> table) throws Exception {
    Path dir = work.resolve("dp-" + n);
    Properties r = Benchmark.runParties(dir, 2, false, BenchParty.class.getName(), "-Xmx3g",
        (i, p) -> {
          p.setProperty("mode", "dp");
          p.setProperty("rows", Long.toString(n));
          p.setProperty("spark.mpc.correlations", "ot");
          p.setProperty("spark.mpc.dp.ledger", dir.resolve("party" + (i + 1) + "-ledger.json")
              .toString());
          p.setProperty("spark.mpc.dp.budget", "100");
        });
    long exact = Long.parseLong(r.getProperty("dp_exact_ms"));
    long noisy = Long.parseLong(r.getProperty("dp_noisy_ms"));
    table.add(String.format("| revealed SUM/COUNT/AVG of a secure column by 8 public regions, 2 "
        + "parties x %,d rows, with discrete Laplace noise drawn inside MPC (epsilon 0.1; 2 noisy "
        + "quantities x 8 groups; the OT source), end to end | %,d ms | %.2fx of the exact reveal |",
        n, noisy, noisy / (double) exact));
    table.add(String.format("| the same query revealed exactly (no noise) | %,d ms | |", exact));
  }
}
