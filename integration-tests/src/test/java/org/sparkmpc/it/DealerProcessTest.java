package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two banks and a dealer, each a process of its own with its own certificate: the dealer joins the
 * session, is asked for every operator's material in order, and ends with the session.
 */
class DealerProcessTest {

  @Test
  void aDealerProcessServesASessionOfTwoBanks(@TempDir Path work) throws Exception {
    Path d1 = BadInputTest.csv(work.resolve("d/1.csv"), "region,amount", "north,1.5", "south,2.5");
    Path d2 = BadInputTest.csv(work.resolve("d/2.csv"), "region,amount", "north,10", "east,4.25");
    Scenarios.DealerRun run = Scenarios.runWithDealer(work, List.of("bank1", "bank2"), (i, p) -> {
      p.setProperty("steps", "agg,products");
      Path gen = SampleData.transactions(work.resolve("d/gen" + i + ".csv"), i, 4_000 + 1_000 * i);
      p.setProperty("step.products.input", gen.toString());
      p.setProperty("step.products.schema", "region STRING, amount DOUBLE, items INT");
      p.setProperty("step.products.share", "amount,items");
      p.setProperty("step.products.query", "SELECT region, reveal(SUM(amount * items)) AS revenue, "
          + "reveal(SUM(amount * 2.5)) AS scaled, reveal(SUM(items * items)) AS sq, "
          + "reveal(AVG(amount * items)) AS mean FROM tx GROUP BY region");
      p.setProperty("step.agg.input", (i == 0 ? d1 : d2).toString());
      p.setProperty("step.agg.schema", "region STRING, amount DOUBLE");
      p.setProperty("step.agg.share", "amount");
      p.setProperty("step.agg.query",
          "SELECT region, reveal(SUM(amount)) AS t FROM tx GROUP BY region");
    });
    for (LocalParties.Outcome o : run.parties()) {
      assertEquals(0, o.exitCode(), o.toString());
      assertNull(Scenarios.error(work, o.party(), "agg"), o.party());
      String result = Files.readString(Scenarios.step(work, o.party(), "agg").resolve("result.csv"));
      assertTrue(result.contains("north,11.5") && result.contains("east,4.25")
          && result.contains("south,2.5"), result);
    }
    assertEquals(0, run.dealerExit(), run.dealerOutput());
    assertTrue(run.dealerOutput().contains("served 4 operators"), run.dealerOutput());

    // Products against plaintext Spark on the pooled rows.
    org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> pooled = PlaintextSpark.get().read()
        .option("header", "true").schema("region STRING, amount DOUBLE, items INT")
        .csv(work.resolve("d/gen0.csv").toString(), work.resolve("d/gen1.csv").toString());
    pooled.createOrReplaceTempView("pooled");
    Map<String, org.apache.spark.sql.Row> expected = new java.util.HashMap<>();
    for (org.apache.spark.sql.Row r : PlaintextSpark.get().sql("SELECT region, SUM(amount * items),"
        + " SUM(amount * 2.5), SUM(items * items), AVG(amount * items), COUNT(*) FROM pooled "
        + "GROUP BY region").collectAsList()) {
      expected.put(r.getString(0), r);
    }
    for (String b : List.of("bank1", "bank2")) {
      assertNull(Scenarios.error(work, b, "products"), b);
      String plan = Files.readString(Scenarios.step(work, b, "products").resolve("plan.txt"));
      assertTrue(plan.contains("SecureHashAggregate"), plan);
      List<String> lines = Files.readAllLines(Scenarios.step(work, b, "products")
          .resolve("result.csv"));
      assertEquals(expected.size(), lines.size() - 1, b);
      for (String line : lines.subList(1, lines.size())) {
        String[] f = line.split(",");
        org.apache.spark.sql.Row e = expected.get(f[0]);
        long n = e.getLong(5);
        double tol = n * 20 * Math.scalb(1.0, -16) + 1e-6; // |items| < 20, 2^-17 per amount
        assertEquals(e.getDouble(1), Double.parseDouble(f[1]), tol, "revenue " + f[0]);
        assertEquals(((Number) e.get(2)).doubleValue(), Double.parseDouble(f[2]), n * 1e-5,
            "scaled " + f[0]);
        assertEquals(((Number) e.get(3)).longValue(), Long.parseLong(f[3]), "squares " + f[0]);
        assertEquals(e.getDouble(4), Double.parseDouble(f[4]), 1e-3, "mean " + f[0]);
      }
      String metrics = Files.readString(Scenarios.step(work, b, "products")
          .resolve("metrics.txt"));
      assertTrue(metrics.contains("SecureHashAggregate.rounds=3"), metrics);
    }
  }
}
