package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The party runner reading each party's input table from its own database on a real PostgreSQL
 * ({@link Postgres}), each party a JVM of its own: two banks read their own table with a
 * partitioned read (one with its password from a file and the bounds found, the other from an
 * environment variable, a query and bounds given), share it and run a secure SUM and COUNT by region, which equals plain Spark
 * on the pooled rows; no password is in any file a party wrote (output, error output, Spark's log
 * at INFO, the plan). Each bad input (a database that cannot be reached, a wrong password, a
 * missing table, a password in the config) stops the party before it joins the session, at once,
 * with an error that names the table, the key and the source, and never the password.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JdbcJobTest {
  static final String[] REGIONS = {"north", "south", "east"};
  static final List<String> BANKS = List.of("bank1", "bank2");
  static final int[] ROWS = {4000, 3000};
  Postgres pg;

  @BeforeAll
  void startDatabase() {
    pg = Postgres.start();
    for (int b = 0; b < BANKS.size(); b++) {
      String bank = BANKS.get(b);
      pg.createUserAndDatabase(bank);
      pg.execute(bank, "CREATE TABLE tx (id BIGINT PRIMARY KEY, region TEXT NOT NULL, "
          + "amount DOUBLE PRECISION NOT NULL); GRANT SELECT ON tx TO " + bank);
      int salt = b;
      pg.copy(bank, "tx", "id, region, amount", ROWS[b], (i, line) -> line.append(i * 7 + 3)
          .append(',').append(REGIONS[(int) ((i + salt) % REGIONS.length)]).append(',')
          .append((i * 37 + salt * 11) % 10_000).append('.').append(i % 4 * 25));
    }
  }

  @AfterAll
  void stopDatabase() {
    if (pg != null) {
      pg.close();
    }
  }

  /** Bank {@code bank}'s table keys; the password from its file. */
  Properties source(String bank, Properties p) {
    p.setProperty("input.tx.url", pg.url(bank));
    p.setProperty("input.tx.dbtable", "tx");
    p.setProperty("input.tx.user", bank);
    p.setProperty("input.tx.passwordFile", pg.passwordFile(bank).toString());
    p.setProperty("input.tx.share", "amount");
    p.setProperty("query", "SELECT region, reveal(SUM(amount)) AS total, COUNT(*) AS n FROM tx "
        + "GROUP BY region");
    return p;
  }

  @Test
  void twoBanksReadTheirTablesInPartitionsAndSumByRegion(@TempDir Path work) throws Exception {
    Path keys = LocalParties.keys(work.resolve("keys"), BANKS);
    String spec = LocalParties.partiesSpec(BANKS, LocalParties.freePorts(BANKS.size()));
    Map<String, Properties> confs = new LinkedHashMap<>();
    for (String bank : BANKS) {
      Properties p = source(bank, LocalParties.baseConfig(bank, spec, keys,
          Duration.ofSeconds(60)));
      if (bank.equals("bank1")) {
        p.setProperty("input.tx.partitionColumn", "id");
        p.setProperty("input.tx.numPartitions", "3");
      } else {
        // bank2's password from an environment variable of its driver, its rows from a query
        p.remove("input.tx.passwordFile");
        p.setProperty("input.tx.passwordEnv", "BANK2_DB_PASSWORD");
        p.remove("input.tx.dbtable");
        p.setProperty("input.tx.query", "SELECT id, region, amount FROM tx");
        p.setProperty("input.tx.partitionColumn", "id");
        p.setProperty("input.tx.lowerBound", "0");
        p.setProperty("input.tx.upperBound", "21000");
        p.setProperty("input.tx.numPartitions", "2");
      }
      p.setProperty("explain", work.resolve(bank).resolve("plan.txt").toString());
      p.setProperty("output", work.resolve(bank).resolve("result").toString());
      confs.put(bank, p);
    }
    List<LocalParties.Outcome> outs;
    String before = System.getProperty("sparkmpc.partyRootLogLevel");
    System.setProperty("sparkmpc.partyRootLogLevel", "info"); // Spark's own INFO lines too
    try {
      outs = LocalParties.run(work, confs, "-Xmx768m", Duration.ofMinutes(4),
          "org.sparkmpc.spark.runner.PartyRunner", Scenarios.TEST_JVM,
          Map.of("bank2", Map.of("BANK2_DB_PASSWORD", pg.password("bank2"))));
    } finally {
      if (before == null) {
        System.clearProperty("sparkmpc.partyRootLogLevel");
      } else {
        System.setProperty("sparkmpc.partyRootLogLevel", before);
      }
    }
    for (LocalParties.Outcome o : outs) {
      assertEquals(0, o.exitCode(), o.toString());
    }
    String log1 = Files.readString(work.resolve("bank1/party.log"));
    assertTrue(log1.contains("input tx: table tx from " + pg.url("bank1")
        + " as user 'bank1', 3 partitions on id in [3, 27996]"), log1);
    String log2 = Files.readString(work.resolve("bank2/party.log"));
    assertTrue(log2.contains("2 partitions on id in [0, 21000]"), log2);

    // The plain answer: Spark's JDBC read of both tables, pooled.
    SparkSession spark = PlaintextSpark.get();
    Dataset<Row> pooled = null;
    for (String bank : BANKS) {
      Dataset<Row> own = spark.read().format("jdbc").option("url", pg.url(bank))
          .option("dbtable", "tx").option("user", bank).option("password", pg.password(bank))
          .load();
      pooled = pooled == null ? own : pooled.union(own);
    }
    Map<String, double[]> plain = new HashMap<>();
    for (Row r : pooled.groupBy("region").agg(org.apache.spark.sql.functions.sum("amount"),
        org.apache.spark.sql.functions.count("amount")).collectAsList()) {
      plain.put(r.getString(0), new double[] {r.getDouble(1), r.getLong(2)});
    }
    assertEquals(REGIONS.length, plain.size());
    for (String bank : BANKS) {
      List<Row> secure = spark.read().option("header", "true")
          .schema("region STRING, total DOUBLE, n LONG")
          .csv(work.resolve(bank).resolve("result").toString()).collectAsList();
      assertEquals(plain.size(), secure.size(), bank);
      for (Row r : secure) {
        double[] expected = plain.get(r.getString(0));
        assertEquals(expected[0], r.getDouble(1), 1e-3 * ROWS[0], bank + " " + r);
        assertEquals((long) expected[1], r.getLong(2), bank + " " + r);
      }
    }
    assertNoPasswordIn(work);
  }

  /** One party whose config {@code change} spoils, alone: it must fail before the session. */
  LocalParties.Outcome runAlone(Path work, java.util.function.Consumer<Properties> change)
      throws Exception {
    Path keys = LocalParties.keys(work.resolve("keys"), BANKS);
    String spec = LocalParties.partiesSpec(BANKS, LocalParties.freePorts(BANKS.size()));
    Properties p = source("bank1", LocalParties.baseConfig("bank1", spec, keys,
        Duration.ofSeconds(120)));
    p.setProperty("input.tx.partitionColumn", "id");
    p.setProperty("output", work.resolve("bank1").resolve("result").toString());
    change.accept(p);
    long t0 = System.nanoTime();
    LocalParties.Outcome o = LocalParties.run(work, Map.of("bank1", p), "-Xmx512m",
        Duration.ofMinutes(2), "org.sparkmpc.spark.runner.PartyRunner", Scenarios.TEST_JVM)
        .get(0);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(1, o.exitCode(), o.toString());
    // Before the session: well within the party's 120 s wait for its peer, which never starts.
    assertTrue(ms < 60_000, "failed after " + ms + " ms");
    assertFalse(Files.exists(work.resolve("bank1").resolve("result")));
    assertNoPasswordIn(work);
    return o;
  }

  static void assertFails(LocalParties.Outcome o, String... parts) {
    String line = o.stderr().lines().filter(l -> l.startsWith("spark-mpc: party bank1 failed: "))
        .findFirst().orElse("");
    for (String part : parts) {
      assertTrue(line.contains(part), "'" + part + "' not in: " + line + "\n" + o);
    }
  }

  @Test
  void aDatabaseThatCannotBeReachedIsNamed(@TempDir Path work) throws Exception {
    int closed = LocalParties.freePorts(1)[0];
    String url = "jdbc:postgresql://127.0.0.1:" + closed + "/bank1";
    assertFails(runAlone(work.resolve("refused"), p -> p.setProperty("input.tx.url", url)),
        "input.tx: cannot connect (input.tx.url) for table 'tx' from " + url
            + " as user 'bank1': ", "refused");
    String unknown = "jdbc:postgresql://db.bank1.invalid:5432/bank1";
    assertFails(runAlone(work.resolve("unknown"), p -> p.setProperty("input.tx.url", unknown)),
        "input.tx: cannot connect (input.tx.url) for table 'tx' from " + unknown
            + " as user 'bank1': ", "unknown host db.bank1.invalid");
  }

  @Test
  void aWrongPasswordIsNamedWithoutThePassword(@TempDir Path work) throws Exception {
    Path wrong = work.resolve("wrong.pw");
    Files.createFile(wrong, PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rw-------")));
    Files.writeString(wrong, "pw-wrong-4242\n");
    LocalParties.Outcome o = runAlone(work, p -> p.setProperty("input.tx.passwordFile",
        wrong.toString()));
    assertFails(o, "input.tx: the database refused the login (input.tx.user, "
        + "input.tx.passwordFile) for table 'tx' from " + pg.url("bank1") + " as user 'bank1'",
        "password authentication failed");
    assertFalse(o.stdout().contains("pw-wrong-4242") || o.stderr().contains("pw-wrong-4242"));
  }

  @Test
  void aMissingTableIsNamed(@TempDir Path work) throws Exception {
    assertFails(runAlone(work, p -> p.setProperty("input.tx.dbtable", "no_such_table")),
        "input.tx: the database cannot read input.tx.dbtable for table 'tx' from "
            + pg.url("bank1") + " as user 'bank1'", "no_such_table");
  }

  @Test
  void aPasswordInTheConfigIsRefused(@TempDir Path work) throws Exception {
    LocalParties.Outcome o = runAlone(work, p -> p.setProperty("input.tx.password",
        "pw-in-config-777"));
    assertFails(o, "input.tx.password is refused", "input.tx.passwordFile",
        "input.tx.passwordEnv");
    assertFalse(o.stderr().contains("pw-in-config-777"), o.stderr());
  }

  /**
   * No file under {@code work} (the parties' output, error output, log, plan, result) holds a
   * password of the server's users; the configs are left out (the refused one holds its own).
   */
  void assertNoPasswordIn(Path work) throws IOException {
    List<String> passwords = List.of(pg.password("bank1"), pg.password("bank2"),
        pg.password(Postgres.ADMIN));
    try (Stream<Path> files = Files.walk(work)) {
      for (Path f : files.filter(Files::isRegularFile)
          .filter(f -> !f.getFileName().toString().equals("party.properties")).toList()) {
        String text = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
        for (String pw : passwords) {
          assertFalse(text.contains(pw), "a password in " + f);
        }
      }
    }
  }
}
