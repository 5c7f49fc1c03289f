package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sums of legal values whose totals are far beyond 2^63 at the fixed-point scale: each party's own
 * values fit the ring, their total does not. A revealed SUM and AVG are exact (wide shares); a
 * BIGINT SUM that does not fit a BIGINT is refused, as Spark's own would be; a sum of products, a
 * secret-shared SUM and a regression that could wrap are refused before any share moves, naming
 * the columns. Never a wrapped number.
 */
class WideSumsTest {
  static final List<String> BANKS = List.of("bank1", "bank2");
  static final int ROWS = 300;

  @Test
  void sumsBeyondTheRingAreExactOrRefusedNamingTheColumns(@TempDir Path work) throws Exception {
    Map<String, BigDecimal> amount = new HashMap<>();
    Map<String, BigInteger> big = new HashMap<>();
    Map<String, Long> count = new HashMap<>();
    List<Path> files = new ArrayList<>();
    for (int b = 0; b < 2; b++) {
      List<String> rows = new ArrayList<>();
      for (int i = 0; i < ROWS; i++) {
        String region = i % 3 == 0 ? "north" : "south";
        // 6.5e13 encodes to about 2^62 at scale 2^16: legal, but 300 of them are ~2^70.
        BigDecimal a = new BigDecimal("65000000000000.25").add(BigDecimal.valueOf(i * 7L + b));
        long g = 4_000_000_000_000_000_000L + i; // ~2^61.8; 2 of them pass 2^63
        rows.add(region + "," + a.toPlainString() + "," + g + "," + (i % 5 + 1) + ",0.5");
        amount.merge(region, a, BigDecimal::add);
        big.merge(region, BigInteger.valueOf(g), BigInteger::add);
        count.merge(region, 1L, Long::sum);
      }
      files.add(BadInputTest.csv(work.resolve("d/bank" + b + ".csv"),
          "region,amount,big,items,small", rows.toArray(new String[0])));
    }
    String schema = "region STRING, amount DOUBLE, big BIGINT, items INT, small DOUBLE";
    Map<String, String> queries = new java.util.LinkedHashMap<>();
    queries.put("exact", "SELECT region, reveal(SUM(amount)) AS s, reveal(AVG(amount)) AS a, "
        + "reveal(AVG(big)) AS ab, COUNT(*) AS n FROM tx GROUP BY region");
    queries.put("filtered", "SELECT region, reveal(SUM(amount)) AS s FROM tx "
        + "WHERE region = 'north' GROUP BY region");
    queries.put("bigint", "SELECT region, reveal(SUM(big)) AS s FROM tx GROUP BY region");
    queries.put("product", "SELECT region, reveal(SUM(amount * items)) AS s FROM tx "
        + "GROUP BY region");
    queries.put("smallproduct", "SELECT region, reveal(SUM(small * items)) AS s FROM tx "
        + "GROUP BY region");
    // The inner SUM is kept secret-shared, so it would have to fit 64 bits: refused. (The same
    // query under SparkMpc.reveal is fused into an exact revealed one.)
    queries.put("secret", "SELECT reveal(SUM(s)) AS t FROM (SELECT region, SUM(amount) AS s "
        + "FROM tx GROUP BY region)");
    List<Path> reg = List.of(regressionInput(work, 0), regressionInput(work, 1));
    Scenarios.DealerRun run = Scenarios.runWithDealer(work, BANKS, (i, p) -> {
      p.setProperty("steps", String.join(",", queries.keySet()) + ",fit");
      for (Map.Entry<String, String> q : queries.entrySet()) {
        String s = "step." + q.getKey() + ".";
        p.setProperty(s + "input", files.get(i).toString());
        p.setProperty(s + "schema", schema);
        p.setProperty(s + "share", "amount,big,items,small");
        p.setProperty(s + "query", q.getValue());
      }
      String s = "step.fit.";
      p.setProperty(s + "kind", "regression");
      p.setProperty(s + "id", "id");
      p.setProperty(s + "input", reg.get(i).toString());
      p.setProperty(s + "schema", i == 0 ? "id STRING, x DOUBLE" : "id STRING, y DOUBLE");
      p.setProperty(s + "share", i == 0 ? "x" : "y");
      p.setProperty(s + "features", "x");
      p.setProperty(s + "label", "y");
      p.setProperty(s + "recipients", "bank1");
    });
    for (LocalParties.Outcome o : run.parties()) {
      assertEquals(0, o.exitCode(), o.toString());
    }
    for (String bank : BANKS) {
      assertNull(Scenarios.error(work, bank, "exact"), bank);
      Map<String, String[]> rows = rows(work, bank, "exact");
      for (String region : List.of("north", "south")) {
        String[] r = rows.get(region);
        BigDecimal total = amount.get(region);
        assertTrue(total.multiply(BigDecimal.valueOf(65536)).toBigInteger().bitLength() > 64,
            "the test's totals must be beyond the 64-bit ring");
        assertEquals(total.doubleValue(), Double.parseDouble(r[1]), 0.0, region + " SUM");
        double avg = total.divide(BigDecimal.valueOf(count.get(region)),
            java.math.MathContext.DECIMAL64).doubleValue();
        assertEquals(avg, Double.parseDouble(r[2]), Math.ulp(avg), region + " AVG");
        double avgBig = new BigDecimal(big.get(region)).divide(
            BigDecimal.valueOf(count.get(region)), java.math.MathContext.DECIMAL64).doubleValue();
        assertEquals(avgBig, Double.parseDouble(r[3]), Math.ulp(avgBig), region + " AVG(big)");
        assertEquals(count.get(region), Long.parseLong(r[4]));
      }
      assertNull(Scenarios.error(work, bank, "filtered"), bank);
      assertNull(Scenarios.error(work, bank, "smallproduct"), bank);
      assertEquals(amount.get("north").doubleValue(),
          Double.parseDouble(rows(work, bank, "filtered").get("north")[1]), 0.0, "filtered SUM");
      assertEquals(1, rows(work, bank, "filtered").size(), "the filter keeps north only");
      refused(work, bank, "bigint", "'s'", "BIGINT");
      refused(work, bank, "product", "'amount'", "'items'", "2^63");
      refused(work, bank, "secret", "'amount'", "reveal it in the same query");
      refused(work, bank, "fit", "'x'", "2^63");
      Map<String, String[]> small = rows(work, bank, "smallproduct");
      assertEquals(0.5 * (1 + 2 + 3 + 4 + 5) * ROWS * 2 / 5, Double.parseDouble(
          small.get("north")[1]) + Double.parseDouble(small.get("south")[1]), 1e-6);
    }
  }

  private static void refused(Path work, String bank, String step, String... mustContain)
      throws Exception {
    String err = Scenarios.error(work, bank, step);
    assertNotNull(err, step + " must be refused at " + bank);
    for (String m : mustContain) {
      assertTrue(err.contains(m), step + " at " + bank + ": '" + m + "' not in " + err);
    }
  }

  /** Region to row of a step's result. */
  private static Map<String, String[]> rows(Path work, String bank, String step)
      throws Exception {
    Map<String, String[]> out = new HashMap<>();
    List<String> lines = Files.readAllLines(Scenarios.step(work, bank, step).resolve("result.csv"));
    for (String line : lines.subList(1, lines.size())) {
      String[] r = line.split(",", -1);
      out.put(r[0], r);
    }
    return out;
  }

  /**
   * Aligned rows for the regression step: a feature so large that its sum over the rows could pass
   * 2^63 at the fixed-point scale (so could its Gram sums, without standardization).
   */
  private static Path regressionInput(Path work, int party) throws Exception {
    List<String> rows = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      rows.add("id" + i + "," + (party == 0 ? String.valueOf(3.0e12 + i) : String.valueOf(i)));
    }
    return BadInputTest.csv(work.resolve("d/reg" + party + ".csv"), party == 0 ? "id,x" : "id,y",
        rows.toArray(new String[0]));
  }
}
