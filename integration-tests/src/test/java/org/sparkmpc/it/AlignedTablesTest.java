package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two hospitals hold other columns of the same patients (aligned by a public id) and a dealer hands
 * out triples: sums of products of columns that sit at different parties equal plaintext Spark on
 * the joined data; tables that disagree on row counts or on ids are refused, naming the party.
 */
class AlignedTablesTest {

  @Test
  void productsAcrossPartiesAndMisalignedTablesAreRefused(@TempDir Path work) throws Exception {
    int n = 3_000;
    SplittableRandom r = new SplittableRandom(77);
    List<String> a = new ArrayList<>();
    List<String> b = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      // Rows in different orders at the two hospitals: alignment sorts by id.
      a.add("p" + (100_000 + i) + "," + r.nextInt(18, 90) + "," + (15 + r.nextInt(2500) / 100.0));
      b.add("p" + (100_000 + n - 1 - i) + "," + (r.nextInt(1, 500_000) / 100.0));
    }
    Path fa = BadInputTest.csv(work.resolve("d/a.csv"), "id,age,bmi", a.toArray(new String[0]));
    Path fb = BadInputTest.csv(work.resolve("d/b.csv"), "id,cost", b.toArray(new String[0]));
    Path fewer = BadInputTest.csv(work.resolve("d/b-fewer.csv"), "id,cost",
        b.subList(1, n).toArray(new String[0]));
    List<String> other = new ArrayList<>(b);
    other.set(n / 2, "q999999,1.0");
    Path otherIds = BadInputTest.csv(work.resolve("d/b-other.csv"), "id,cost",
        other.toArray(new String[0]));

    String query = "SELECT reveal(SUM(age * cost)) AS agecost, reveal(SUM(bmi * cost)) AS bmicost,"
        + " reveal(SUM(age)) AS ages, COUNT(*) AS n";
    // Costs reach 2^29 at scale 2^16: SUM(cost * cost) could pass 2^63 at scale 2^32 (58 bits a
    // product, 3,000 rows), so each product is truncated first, in a round of its own. The other
    // sums fit (bmi * cost: 22 + 29 bits) and are opened exactly, without that round.
    String truncated = query + ", reveal(SUM(cost * cost)) AS costcost FROM tx";
    Scenarios.DealerRun run = Scenarios.runWithDealer(work, List.of("hospitalA", "hospitalB"),
        (i, p) -> {
          p.setProperty("steps", "joined,fewer,otherids,again");
          for (String step : List.of("joined", "fewer", "otherids", "again")) {
            String pre = "step." + step + ".";
            p.setProperty(pre + "kind", "aligned");
            p.setProperty(pre + "id", "id");
            Path in = i == 0 ? fa : step.equals("fewer") ? fewer
                : step.equals("otherids") ? otherIds : fb;
            p.setProperty(pre + "input", in.toString());
            p.setProperty(pre + "schema", i == 0 ? "id STRING, age INT, bmi DOUBLE"
                : "id STRING, cost DOUBLE");
            p.setProperty(pre + "share", i == 0 ? "age,bmi" : "cost");
            p.setProperty(pre + "query", step.equals("joined") ? truncated : query + " FROM tx");
          }
        });
    for (LocalParties.Outcome o : run.parties()) {
      assertEquals(0, o.exitCode(), o.toString());
    }

    var spark = PlaintextSpark.get();
    spark.read().option("header", "true").schema("id STRING, age INT, bmi DOUBLE")
        .csv(fa.toString()).createOrReplaceTempView("ha");
    spark.read().option("header", "true").schema("id STRING, cost DOUBLE").csv(fb.toString())
        .createOrReplaceTempView("hb");
    Row e = spark.sql("SELECT SUM(age * cost), SUM(bmi * cost), SUM(age), COUNT(*), "
        + "SUM(cost * cost) FROM ha JOIN hb USING (id)").first();
    for (String h : List.of("hospitalA", "hospitalB")) {
      for (String step : List.of("joined", "again")) {
        assertNull(Scenarios.error(work, h, step), h + " " + step);
        List<String> lines = Files.readAllLines(Scenarios.step(work, h, step)
            .resolve("result.csv"));
        String[] f = lines.get(1).split(",");
        assertEquals(e.getDouble(0), Double.parseDouble(f[0]), n * 90 * Math.scalb(1.0, -16),
            h + " age*cost");
        assertEquals(e.getDouble(1), Double.parseDouble(f[1]), n * 5000 * Math.scalb(1.0, -15),
            h + " bmi*cost");
        assertEquals(e.getLong(2), Long.parseLong(f[2]), h + " ages");
        assertEquals(e.getLong(3), Long.parseLong(f[3]), h + " count");
        // Rounds: the agreement, the products' Beaver round, the truncation (joined only), the reveal.
        String metrics = Files.readString(Scenarios.step(work, h, step).resolve("metrics.txt"));
        assertTrue(metrics.contains("SecureHashAggregate.rounds=" + (step.equals("joined") ? 4 : 3)),
            h + " " + step + ": " + metrics);
      }
      String[] joined = Files.readAllLines(Scenarios.step(work, h, "joined")
          .resolve("result.csv")).get(1).split(",");
      assertEquals(e.getDouble(4), Double.parseDouble(joined[4]), n * 5000 * Math.scalb(1.0, -15),
          h + " cost*cost");
      String fewerErr = Scenarios.error(work, h, "fewer");
      assertNotNull(fewerErr, h);
      assertTrue(fewerErr.contains("rows") && fewerErr.contains(
          h.equals("hospitalA") ? "'hospitalB'" : "'hospitalA'"), fewerErr);
      String idErr = Scenarios.error(work, h, "otherids");
      assertNotNull(idErr, h);
      assertTrue(idErr.contains("other ids"), idErr);
    }
  }
}
