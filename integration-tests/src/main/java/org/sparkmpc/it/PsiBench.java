package org.sparkmpc.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.SparkMpc;

/**
 * The private set intersection rows of the benchmark: two parties on this machine, each with
 * {@code n} string identifiers of which half are the other's too, no dealer. End to end: from each
 * party's DataFrame to its member rows materialised (both parties learn their members), against a
 * plaintext Spark join of the same two sets in one JVM, in the same run. Also the bytes each party
 * sent and its peak resident memory.
 */
final class PsiBench {
  private PsiBench() {}

  /** Party {@code party}'s identifiers: {@code n} of them from {@code party * n / 2}. */
  static Dataset<Row> ids(SparkSession spark, long n, int party) {
    return spark.range(party * (n / 2), party * (n / 2) + n)
        .selectExpr("concat('customer-', lpad(CAST(id AS STRING), 10, '0')) AS id");
  }

  /** One party (BenchParty mode {@code psi}): a warm-up on 20,000, then the timed run. */
  static void party(SparkSession spark, SparkMpc mpc, Properties conf, StringBuilder out) {
    long n = Long.parseLong(conf.getProperty("rows"));
    int party = mpc.parties().indexOf(mpc.party());
    mpc.intersect(ids(spark, 20_000, party), "id").unpersist();
    org.sparkmpc.net.ChannelStats stats = MpcRuntime.current().gateway().stats();
    long sent = stats.bytesSent();
    long t0 = System.nanoTime();
    Dataset<Row> members = mpc.intersect(ids(spark, n, party), "id");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    out.append("psi_ms=").append(ms).append('\n');
    out.append("psi_size=").append(members.count()).append('\n');
    out.append("psi_sent=").append(stats.bytesSent() - sent).append('\n');
    out.append("psi_peak_rss_mb=").append(peakRssMb()).append('\n');
    out.append("psi_heap_mb=").append(Runtime.getRuntime().maxMemory() >> 20).append('\n');
  }

  /** This JVM's peak resident set (VmHWM), MiB; -1 where /proc is missing. */
  static long peakRssMb() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (l.startsWith("VmHWM:")) {
          return Long.parseLong(l.replaceAll("[^0-9]", "")) >> 10;
        }
      }
    } catch (java.io.IOException e) {
      return -1;
    }
    return -1;
  }

  /** Run the parties for {@code n} and the plaintext join; add the rows to {@code table}. */
  static void rows(Path work, long n, String heap, List<String> table) throws Exception {
    Properties[] party = new Properties[2];
    // About 160 s per million identifiers a party on two cores: 10M takes about half an hour.
    java.time.Duration limit = java.time.Duration.ofMinutes(Math.max(20, n / 200_000));
    Benchmark.runParties(work.resolve("psi-" + n), 2, false, BenchParty.class.getName(), heap,
        List.of(), limit, (i, p) -> {
          p.setProperty("mode", "psi");
          p.setProperty("rows", Long.toString(n));
          // both parties' outputs, not only the first's
          p.setProperty("out", work.resolve("psi-" + n).resolve("party" + (i + 1) + "-out.txt")
              .toString());
          // a gateway keeps an operator's messages until it ends: 48 bytes per peer identifier
          p.setProperty("spark.mpc.gateway.maxBufferedBytes", "2g");
        });
    for (int i = 0; i < 2; i++) {
      party[i] = new Properties();
      try (var in = Files.newInputStream(work.resolve("psi-" + n).resolve("party" + (i + 1)
          + "-out.txt"))) {
        party[i].load(in);
      }
    }
    long size = Long.parseLong(party[0].getProperty("psi_size"));
    if (size != n / 2 || Long.parseLong(party[1].getProperty("psi_size")) != n / 2) {
      throw new IllegalStateException("PSI found " + size + " and "
          + party[1].getProperty("psi_size") + " members; expected " + n / 2);
    }
    long ms = Long.parseLong(party[0].getProperty("psi_ms"));
    long plain = plaintextJoinMs(n);
    table.add(String.format("| private set intersection, %,d x %,d string ids, half in common, "
        + "ECDH (X25519), 2 parties, both learn their members: ms end to end vs a plaintext Spark "
        + "join of the same sets (target <= 60,000 at 1M) | %,d | %.1fx |", n, n, ms,
        ms / (double) plain));
    table.add(String.format("| the same: intersected elements per second per core (2 parties on "
        + "2 cores; SecretFlow ECDH PSI: about 7,400) | %,.0f | |", size * 1000.0 / ms / 2));
    table.add(String.format("| the same: bytes sent per identifier per party; peak resident "
        + "memory per party, MiB (heap limit %s) | %.1f; %s / %s | |", heap,
        Long.parseLong(party[0].getProperty("psi_sent")) / (double) n,
        party[0].getProperty("psi_peak_rss_mb"), party[1].getProperty("psi_peak_rss_mb")));
  }

  /** The same two sets joined by plaintext Spark (normalised alike): median ms of 3. */
  static long plaintextJoinMs(long n) {
    SparkSession spark = Benchmark.plaintextSpark();
    long[] ms = new long[3];
    for (int r = 0; r < 3; r++) {
      long t0 = System.nanoTime();
      long c = ids(spark, n, 0).selectExpr("lower(trim(id)) AS id")
          .join(ids(spark, n, 1).selectExpr("lower(trim(id)) AS id"), "id").count();
      ms[r] = (System.nanoTime() - t0) / 1_000_000;
      if (c != n / 2) {
        throw new IllegalStateException("plaintext join found " + c);
      }
    }
    Arrays.sort(ms);
    return ms[1];
  }
}
