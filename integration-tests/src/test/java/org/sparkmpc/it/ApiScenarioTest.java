package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DataFrame API walkthrough with three banks, each its own JVM: every revealed result is
 * compared with plaintext Spark on the pooled rows, and each plan must hold the secure operator.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiScenarioTest {
  static final List<String> BANKS = List.of("bank1", "bank2", "bank3");

  Path work;
  Dataset<Row> pooled;

  @BeforeAll
  void runParties(@TempDir Path dir) {
    work = dir;
    List<String> files = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      files.add(SampleData.transactions(work.resolve("data/bank" + (i + 1) + ".csv"), i,
          12_000 + 3_000 * i).toString());
    }
    List<LocalParties.Outcome> outs = Scenarios.run(work, BANKS, Duration.ofSeconds(60), (i, p) -> {
      p.setProperty("steps", "api");
      p.setProperty("step.api.kind", "api");
      p.setProperty("input", files.get(i));
    });
    for (LocalParties.Outcome o : outs) {
      assertEquals(0, o.exitCode(), o.toString());
    }
    pooled = PlaintextSpark.get().read().option("header", "true")
        .schema("region STRING, amount DOUBLE, items INT").csv(files.toArray(new String[0]));
  }

  private List<String[]> rows(String party, String sub, String file) throws Exception {
    Path dir = Scenarios.step(work, party, "api").resolve(sub);
    assertNull(Scenarios.error(work, party, "api"), "step failed at " + party);
    List<String> lines = Files.readAllLines(dir.resolve(file));
    List<String[]> out = new ArrayList<>();
    for (String l : lines.subList(1, lines.size())) {
      out.add(l.split(",", -1));
    }
    return out;
  }

  private String plan(String party, String sub) throws Exception {
    return Files.readString(Scenarios.step(work, party, "api").resolve(sub).resolve("plan.txt"));
  }

  @Test
  void groupedSumCountAverageMatchPlaintextAtEveryBank() throws Exception {
    Map<String, Row> expected = new HashMap<>();
    for (Row r : pooled.groupBy("region").agg(functions.sum("amount"), functions.count("amount"),
        functions.avg("amount"), functions.sum("items")).collectAsList()) {
      expected.put(r.getString(0), r);
    }
    for (String b : BANKS) {
      assertTrue(plan(b, "all").contains("SecureHashAggregate"), plan(b, "all"));
      List<String[]> got = rows(b, "all", "result.csv");
      assertEquals(expected.size(), got.size());
      for (String[] r : got) {
        Row e = expected.get(r[0]);
        assertEquals(e.getDouble(1), Double.parseDouble(r[1]), e.getLong(2) * 1e-5, b);
        assertEquals(e.getLong(2), Long.parseLong(r[2]), b);
        assertEquals(e.getDouble(3), Double.parseDouble(r[3]), 1e-4, b);
        assertEquals(e.getLong(4), Long.parseLong(r[4]), b);
      }
      String metrics = Files.readString(Scenarios.step(work, b, "api").resolve("all/metrics.txt"));
      assertTrue(metrics.contains("SecureHashAggregate.rounds=2"), metrics);
      assertFalse(metrics.contains("SecureHashAggregate.bytesSent=0\n"), metrics);
      assertTrue(metrics.contains("SecureHashAggregate.rows=45000"), metrics);
    }
  }

  @Test
  void everyQueryReleasesItsMessagesAndTheSharingKeepsItsOwn() throws Exception {
    for (String b : BANKS) {
      for (String sub : List.of("all", "to_bank1", "sql_shares_then_reveal", "rows_islands",
          "global")) {
        List<String> counts = Files.readAllLines(Scenarios.step(work, b, "api").resolve(sub)
            .resolve("released.txt"));
        // What the query's operators received (the plan agreement at least) is dropped from the
        // gateway once the query has finished; the sharing's messages are not released.
        String received = counts.get(0).substring("received=".length());
        assertTrue(Long.parseLong(received) > 0, b + " " + sub);
        assertEquals(received, counts.get(1).substring("released=".length()), b + " " + sub);
      }
    }
  }

  @Test
  void revealToOneBankGivesRowsThereAndNowhereElse() throws Exception {
    Map<String, Double> expected = new HashMap<>();
    for (Row r : pooled.groupBy("region").agg(functions.sum("amount")).collectAsList()) {
      expected.put(r.getString(0), r.getDouble(1));
    }
    List<String[]> got = rows("bank1", "to_bank1", "result.csv");
    assertEquals(expected.size(), got.size());
    for (String[] r : got) {
      assertEquals(expected.get(r[0]), Double.parseDouble(r[1]), 1.0);
    }
    for (String b : List.of("bank2", "bank3")) {
      assertEquals(0, rows(b, "to_bank1", "not-recipient.csv").size(), b);
    }
  }

  @Test
  void sqlOverTheViewAndRowRevealAndGlobalAggregateMatchPlaintext() throws Exception {
    Map<String, Long> items = new HashMap<>();
    for (Row r : pooled.groupBy("region").agg(functions.sum("items")).collectAsList()) {
      items.put(r.getString(0), r.getLong(1));
    }
    Row global = pooled.agg(functions.sum("amount"), functions.count("*")).first();
    List<Double> islands = new ArrayList<>();
    for (Row r : pooled.filter("region = 'islands'").collectAsList()) {
      islands.add(r.getDouble(1));
    }
    for (String b : BANKS) {
      for (String[] r : rows(b, "sql_shares_then_reveal", "result.csv")) {
        assertEquals(items.get(r[0]), Long.parseLong(r[1]), b);
      }
      assertTrue(plan(b, "rows_islands").contains("SecureReveal"), plan(b, "rows_islands"));
      List<String[]> rs = rows(b, "rows_islands", "result.csv");
      assertEquals(islands.size(), rs.size(), b);
      List<Double> got = new ArrayList<>();
      rs.forEach(r -> got.add(Double.parseDouble(r[1])));
      got.sort(null);
      islands.sort(null);
      for (int i = 0; i < rs.size(); i++) {
        assertEquals(islands.get(i), got.get(i), 1e-4, b);
      }
      String[] g = rows(b, "global", "result.csv").get(0);
      assertEquals(global.getDouble(0), Double.parseDouble(g[0]), global.getLong(1) * 1e-5, b);
      assertEquals(global.getLong(1), Long.parseLong(g[1]), b);
    }
  }
}
