package org.sparkmpc.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.connectors.Sources;
import org.sparkmpc.spark.SparkMpc;

/**
 * The JDBC ingest rows of the benchmark: a throwaway PostgreSQL ({@link Postgres}) on this
 * machine holds two tables of {@code n / 2} rows each (id, region, amount), one per party, each
 * in the party's own database under its own user. Each party (a JVM of its own, {@code local[2]})
 * reads its table with the runner's JDBC source ({@link Sources#read}: partitioned on id,
 * {@link #PARTITIONS} partitions, bounds found by one min/max query) and shares {@code amount}
 * (region public): end to end, from the first query to the database to the shares materialised at
 * both parties, median of 3 after a whole untimed ingest. Against plaintext Spark in the benchmark's JVM
 * reading both tables with the same JDBC options and partitions and materialising every row and
 * column (the {@code noop} sink), median of 3. The database shares the two cores with both.
 */
final class JdbcBench {
  private JdbcBench() {}

  /** Partitions of each party's partitioned read (and of each table in plaintext). */
  static final int PARTITIONS = 4;
  static final String[] REGIONS = {"north", "south", "east", "west", "centre"};

  /**
   * One party (BenchParty mode {@code jdbc}): a whole untimed ingest to warm the JVM (a small one
   * left the first timed runs several times slower), then 3 timed runs.
   */
  static void party(SparkSession spark, SparkMpc mpc, Properties conf, StringBuilder out) {
    mpc.drop(mpc.share(Sources.read(spark, conf, "tx"), "amount"));
    long[] ms = new long[3];
    long rows = 0;
    for (int r = 0; r < ms.length; r++) {
      long t0 = System.nanoTime();
      Dataset<Row> secure = mpc.share(Sources.read(spark, conf, "tx"), "amount");
      ms[r] = (System.nanoTime() - t0) / 1_000_000;
      rows = secure.count();
      mpc.drop(secure);
    }
    Arrays.sort(ms);
    out.append("jdbc_ms=").append(ms[1]).append('\n');
    out.append("jdbc_rows=").append(rows).append('\n');
    out.append("jdbc_peak_heap_bytes=").append(BenchParty.peakHeap()).append('\n');
  }

  /** Load the tables, run the parties and plaintext Spark; add the rows to {@code table}. */
  static void rows(Path work, long n, List<String> table) throws Exception {
    long perParty = n / 2;
    Path dir = work.resolve("jdbc-" + n);
    Files.createDirectories(dir);
    try (Postgres pg = Postgres.start()) {
      long t0 = System.nanoTime();
      for (int party = 1; party <= 2; party++) {
        String user = "party" + party;
        pg.createUserAndDatabase(user);
        pg.execute(user, "CREATE TABLE tx (id BIGINT PRIMARY KEY, region TEXT NOT NULL, "
            + "amount DOUBLE PRECISION NOT NULL); GRANT SELECT ON tx TO " + user);
        long salt = party;
        pg.copy(user, "tx", "id, region, amount", perParty, (i, line) -> line.append(i)
            .append(',').append(REGIONS[(int) ((i * 7 + salt) % REGIONS.length)]).append(',')
            .append((i * 7919 + salt * 104_729) % 1_000_000 / 100.0));
      }
      long loadMs = (System.nanoTime() - t0) / 1_000_000;
      Properties first = Benchmark.runParties(dir, 2, false, BenchParty.class.getName(), "-Xmx3g",
          (i, p) -> {
            String user = "party" + (i + 1);
            p.setProperty("mode", "jdbc");
            source(pg, user, p);
          });
      long secureMs = Long.parseLong(first.getProperty("jdbc_ms"));
      long sharedRows = Long.parseLong(first.getProperty("jdbc_rows"));
      if (sharedRows != 2 * perParty) {
        throw new IllegalStateException("the shared table has " + sharedRows + " rows; expected "
            + 2 * perParty);
      }
      long plainMs = plaintextMs(pg);
      table.add(String.format("| plaintext Spark JDBC read of both parties' tables from "
          + "PostgreSQL, %,d rows (2 x %,d, %d partitions each on id), every row and column "
          + "materialised | %,d ms | 1.00 |", 2 * perParty, perParty, PARTITIONS, plainMs));
      table.add(String.format("| secure JDBC ingest end to end: each of 2 parties reads its own "
          + "%,d-row table (runner's JDBC source, %d partitions, bounds by one min/max query) "
          + "and shares `amount` (region public), until %,d rows are shared at both | %,d ms "
          + "| %.2fx |", perParty, PARTITIONS, 2 * perParty, secureMs,
          secureMs / (double) Math.max(1, plainMs)));
      table.add(String.format("| the same: rows ingested per second per party; loading the two "
          + "tables with COPY (not timed above) | %,.0f; %,d ms | |",
          perParty * 1000.0 / Math.max(1, secureMs), loadMs));
    }
  }

  /** Party {@code user}'s input keys: its own database, user and password file. */
  static Properties source(Postgres pg, String user, Properties p) {
    p.setProperty("input.tx.url", pg.url(user));
    p.setProperty("input.tx.dbtable", "tx");
    p.setProperty("input.tx.user", user);
    p.setProperty("input.tx.passwordFile", pg.passwordFile(user).toString());
    p.setProperty("input.tx.partitionColumn", "id");
    p.setProperty("input.tx.numPartitions", Integer.toString(PARTITIONS));
    return p;
  }

  /**
   * Both tables read by plaintext Spark with the same options, every row materialised: a warm-up,
   * then the median of 3.
   */
  static long plaintextMs(Postgres pg) {
    SparkSession spark = Benchmark.plaintextSpark();
    long[] ms = new long[4];
    for (int r = 0; r < ms.length; r++) {
      long t0 = System.nanoTime();
      Dataset<Row> both = null;
      for (int party = 1; party <= 2; party++) {
        Dataset<Row> own = Sources.read(spark, source(pg, "party" + party, new Properties()), "tx");
        both = both == null ? own : both.union(own);
      }
      both.write().format("noop").mode("overwrite").save();
      ms[r] = (System.nanoTime() - t0) / 1_000_000;
    }
    long[] timed = Arrays.copyOfRange(ms, 1, ms.length);
    Arrays.sort(timed);
    return timed[1];
  }
}
