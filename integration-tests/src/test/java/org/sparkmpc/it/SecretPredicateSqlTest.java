package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secret predicates, CASE WHEN and MIN/MAX through SQL: two banks and a dealer, each a process,
 * every result compared with plaintext Spark on the pooled rows; and the bad inputs of secret
 * predicates, each refused with an error that names what is wrong.
 */
class SecretPredicateSqlTest {
  private static final String SCHEMA = "region STRING, amount DOUBLE, items INT";
  private static final String PAIRS = "region STRING, paid DOUBLE, owed DOUBLE";

  /** The queries, by step; each also runs on the pooled rows in plaintext Spark. */
  private static final Map<String, String> QUERIES = Map.of(
      "where", "SELECT region, reveal(SUM(amount)) AS total, reveal(COUNT(*)) AS n, "
          + "reveal(AVG(amount)) AS mean FROM tx WHERE amount > 5000 GROUP BY region",
      "minmax", "SELECT region, reveal(MIN(amount)) AS lo, reveal(MAX(amount)) AS hi, "
          + "reveal(MIN(items)) AS few FROM tx GROUP BY region",
      "casewhen", "SELECT region, reveal(SUM(CASE WHEN amount > 1000 THEN amount ELSE 0 END)) "
          + "AS big, reveal(SUM(IF(items >= 10, items, 0))) AS many FROM tx GROUP BY region",
      "logic", "SELECT region, reveal(COUNT(*)) AS n, reveal(MAX(amount)) AS hi FROM tx "
          + "WHERE (items < 3 OR NOT amount <= 9000) AND items <> 1 GROUP BY region",
      "global", "SELECT reveal(SUM(items)) AS s, reveal(COUNT(*)) AS n FROM tx "
          + "WHERE items = 7 AND region = 'north'",
      "none", "SELECT region, reveal(SUM(amount)) AS total, reveal(COUNT(*)) AS n, "
          + "reveal(MIN(amount)) AS lo FROM tx WHERE amount > 1000000 GROUP BY region",
      "having", "SELECT region, reveal(SUM(amount)) AS total, reveal(COUNT(*)) AS n FROM tx "
          + "GROUP BY region HAVING SUM(amount) > 1500000.5 AND COUNT(*) < 2500",
      "havingwhere", "SELECT region, reveal(MAX(amount)) AS hi FROM tx WHERE items > 10 "
          + "GROUP BY region HAVING MIN(amount) < 30 OR NOT COUNT(*) <= 600");

  @Test
  void secretPredicatesCaseWhenAndMinMaxEqualPlaintextSparkOnThePooledRows(@TempDir Path work)
      throws Exception {
    Path[] data = new Path[2];
    Path[] pairs = new Path[2];
    Scenarios.DealerRun run = Scenarios.runWithDealer(work, List.of("bank1", "bank2"), (i, p) -> {
      data[i] = SampleData.transactions(work.resolve("d/tx" + i + ".csv"), i, 3_000 + 700 * i);
      pairs[i] = pairs(work.resolve("d/pairs" + i + ".csv"), i, 1_500);
      StringBuilder steps = new StringBuilder();
      for (String step : QUERIES.keySet()) {
        step(p, step, data[i], SCHEMA, "amount,items", QUERIES.get(step));
        steps.append(step).append(',');
      }
      step(p, "columns", pairs[i], PAIRS, "paid,owed", "SELECT region, reveal(COUNT(*)) AS n, "
          + "reveal(SUM(owed - paid)) AS due FROM tx WHERE paid < owed GROUP BY region");
      step(p, "mingroup", data[i], SCHEMA, "amount,items", "SELECT region, reveal(COUNT(*)) AS n, "
          + "reveal(SUM(amount)) AS total FROM tx WHERE amount > 9900 GROUP BY region");
      p.setProperty("step.mingroup.conf.spark.mpc.reveal.minGroupSize", "40");
      step(p, "havingmin", data[i], SCHEMA, "amount,items", "SELECT region, reveal(COUNT(*)) "
          + "AS n FROM tx WHERE amount > 9900 GROUP BY region HAVING COUNT(*) >= 20");
      p.setProperty("step.havingmin.conf.spark.mpc.reveal.minGroupSize", "40");
      step(p, "scales", data[i], SCHEMA, "amount,items",
          "SELECT reveal(COUNT(*)) FROM tx WHERE amount < items");
      step(p, "range", data[i], SCHEMA, "amount,items",
          "SELECT reveal(COUNT(*)) FROM tx WHERE amount > 1e15");
      step(p, "rows", data[i], SCHEMA, "amount,items",
          "SELECT reveal(amount) FROM tx WHERE amount > 10");
      step(p, "havingavg", data[i], SCHEMA, "amount,items", "SELECT region, "
          + "reveal(SUM(amount)) FROM tx GROUP BY region HAVING AVG(amount) > 10");
      step(p, "dataframe", data[i], SCHEMA, "amount,items", null);
      p.setProperty("step.dataframe.kind", "dataframe");
      p.setProperty("steps", steps
          + "columns,mingroup,scales,range,rows,havingavg,dataframe,havingmin");
    });
    for (LocalParties.Outcome o : run.parties()) {
      assertEquals(0, o.exitCode(), o.toString());
    }
    PlaintextSpark.get().read().option("header", "true").schema(SCHEMA)
        .csv(data[0].toString(), data[1].toString()).createOrReplaceTempView("tx");
    for (String step : QUERIES.keySet()) {
      String plain = withoutReveal(QUERIES.get(step));
      for (String b : List.of("bank1", "bank2")) {
        assertNull(Scenarios.error(work, b, step), b + " " + step);
        compare(step, plain, Files.readAllLines(Scenarios.step(work, b, step)
            .resolve("result.csv")));
      }
    }
    PlaintextSpark.get().read().option("header", "true").schema(PAIRS)
        .csv(pairs[0].toString(), pairs[1].toString()).createOrReplaceTempView("tx");
    compare("columns", "SELECT region, COUNT(*) AS n, SUM(owed - paid) AS due FROM tx "
        + "WHERE paid < owed GROUP BY region", Files.readAllLines(Scenarios.step(work, "bank1",
            "columns").resolve("result.csv")));

    // Groups under the minimum: nothing opened but the bit that they are under it.
    PlaintextSpark.get().read().option("header", "true").schema(SCHEMA)
        .csv(data[0].toString(), data[1].toString()).createOrReplaceTempView("tx");
    // The README's DataFrame example (filter on secure columns, SUM, COUNT, MAX).
    for (String b : List.of("bank1", "bank2")) {
      assertNull(Scenarios.error(work, b, "dataframe"), b + " dataframe");
      compare("dataframe", "SELECT region, SUM(amount), COUNT(*), MAX(amount) FROM tx "
          + "WHERE amount > 9000 AND NOT items < 3 GROUP BY region",
          Files.readAllLines(Scenarios.step(work, b, "dataframe").resolve("result.csv")));
    }
    Map<String, Long> counts = new HashMap<>();
    for (Row r : PlaintextSpark.get().sql("SELECT region, COUNT(*) FROM tx WHERE amount > 9900 "
        + "GROUP BY region").collectAsList()) {
      counts.put(r.getString(0), r.getLong(1));
    }
    List<String> lines = Files.readAllLines(Scenarios.step(work, "bank1", "mingroup")
        .resolve("result.csv"));
    boolean small = false;
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",", -1);
      long n = counts.getOrDefault(f[0], 0L);
      if (n >= 40) {
        assertEquals(Long.toString(n), f[1], line);
      } else {
        small = true;
        assertEquals("", f[1], "a small group's count stays closed: " + line);
        assertEquals("", f[2], "a small group's sum stays closed: " + line);
      }
    }
    assertTrue(small, "the data has a region under the minimum: " + counts);

    // HAVING is not decided for a group under the minimum size: its bit would tell something of
    // its few rows. Every small group is shown, closed, whether or not it meets the condition.
    assertNull(Scenarios.error(work, "bank1", "havingmin"), "havingmin");
    Map<String, String> shown = new HashMap<>();
    List<String> having = Files.readAllLines(Scenarios.step(work, "bank1", "havingmin")
        .resolve("result.csv"));
    for (String line : having.subList(1, having.size())) {
      String[] f = line.split(",", -1);
      shown.put(f[0], f[1]);
    }
    boolean failsHaving = false;
    for (Map.Entry<String, Long> c : counts.entrySet()) {
      long n = c.getValue();
      failsHaving |= n < 20;
      assertEquals(n >= 40 ? Long.toString(n) : "", shown.get(c.getKey()),
          "havingmin " + c.getKey() + " (" + n + " rows): " + shown);
    }
    assertTrue(failsHaving, "the data has a small group that fails HAVING: " + counts);

    assertTrue(error(work, "scales").contains("different fixed-point scales"),
        error(work, "scales"));
    assertTrue(error(work, "range").contains("outside the fixed-point range"),
        error(work, "range"));
    assertTrue(error(work, "rows").contains("secret predicate"), error(work, "rows"));
    assertTrue(error(work, "havingavg").contains("AVG in a HAVING condition"),
        error(work, "havingavg"));
    // HAVING left groups out (the comparison above checks they are the same as Spark's).
    for (String step : List.of("having", "havingwhere")) {
      long all = PlaintextSpark.get().sql("SELECT DISTINCT region FROM tx").count();
      long kept = PlaintextSpark.get().sql(withoutReveal(QUERIES.get(step))).count();
      assertTrue(kept > 0 && kept < all, step + ": " + kept + " of " + all + " groups");
    }
    assertEquals(0, run.dealerExit(), run.dealerOutput());
  }

  /** The query with every {@code reveal(x)} replaced by {@code x}: what plaintext Spark runs. */
  static String withoutReveal(String sql) {
    StringBuilder out = new StringBuilder();
    java.util.ArrayDeque<Boolean> open = new java.util.ArrayDeque<>();
    for (int i = 0; i < sql.length(); i++) {
      if (sql.startsWith("reveal(", i)) {
        open.push(true);
        i += "reveal".length();
        continue;
      }
      char c = sql.charAt(i);
      if (c == '(') {
        open.push(false);
      } else if (c == ')' && open.pop()) {
        continue;
      }
      out.append(c);
    }
    return out.toString();
  }

  private static String error(Path work, String step) throws Exception {
    String e = Scenarios.error(work, "bank1", step);
    assertNotNull(e, step + " must fail");
    return e;
  }

  private static void step(java.util.Properties p, String step, Path input, String schema,
      String share, String query) {
    p.setProperty("step." + step + ".input", input.toString());
    p.setProperty("step." + step + ".schema", schema);
    p.setProperty("step." + step + ".share", share);
    if (query != null) {
      p.setProperty("step." + step + ".query", query);
    }
  }

  /** Compare a revealed CSV (header first) with the plaintext query's rows, by first column. */
  private static void compare(String step, String plainSql, List<String> got) {
    Map<String, Row> expected = new HashMap<>();
    List<Row> rows = PlaintextSpark.get().sql(plainSql).collectAsList();
    for (Row r : rows) {
      expected.put(String.valueOf(r.get(0)), r);
    }
    boolean global = !plainSql.contains("GROUP BY");
    for (String line : got.subList(1, got.size())) {
      String[] f = line.split(",", -1);
      Row e = global ? rows.get(0) : expected.remove(f[0]);
      int off = global ? 0 : 1;
      if (e == null) { // a group no row of which meets the predicate: count 0, nothing else
        assertEquals("0", f[1 + (step.equals("none") ? 1 : 0)], step + ": " + line);
        continue;
      }
      for (int c = off; c < e.size(); c++) {
        Object want = e.get(c);
        String have = f[c];
        if (want == null) {
          assertEquals("", have, step + " column " + c + ": " + line);
        } else {
          assertEquals(((Number) want).doubleValue(), Double.parseDouble(have),
              1e-3 + Math.abs(((Number) want).doubleValue()) * 1e-9,
              step + " column " + c + ": " + line);
        }
      }
    }
    assertTrue(global || expected.isEmpty(), step + ": groups missing " + expected.keySet());
  }

  /** Rows of (region, paid, owed) in cents, about half with paid < owed. */
  static Path pairs(Path file, int party, int rows) {
    SplittableRandom r = new SplittableRandom(77 + party);
    StringBuilder sb = new StringBuilder("region,paid,owed\n");
    String[] regions = {"north", "south", "east"};
    for (int i = 0; i < rows; i++) {
      sb.append(regions[r.nextInt(3)]).append(',').append(r.nextInt(0, 100_000) / 100.0)
          .append(',').append(r.nextInt(0, 100_000) / 100.0).append('\n');
    }
    try {
      Files.createDirectories(file.getParent());
      return Files.writeString(file, sb);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
