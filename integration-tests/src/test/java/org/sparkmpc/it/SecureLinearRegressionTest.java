package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * Hospital A holds two standardised features, hospital B a third and the outcome, for the same
 * patients; a dealer hands out triples; only hospital A receives the model. The coefficients match
 * the normal equations solved in plaintext on the joined rows, and the generating model.
 */
class SecureLinearRegressionTest {

  @Test
  void featuresAtTwoPartiesFitTheSameModelAsPlaintext(@TempDir Path work) throws Exception {
    int n = 4_000;
    SplittableRandom r = new SplittableRandom(5);
    List<String> a = new ArrayList<>();
    List<String> b = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double x1 = r.nextGaussian();
      double x2 = r.nextGaussian();
      double x3 = r.nextGaussian();
      double y = 1.5 * x1 - 2.0 * x2 + 0.5 * x3 + 3.0 + 0.1 * r.nextGaussian();
      a.add("id" + i + "," + x1 + "," + x2);
      b.add("id" + i + "," + x3 + "," + y);
    }
    Path fa = BadInputTest.csv(work.resolve("d/a.csv"), "id,x1,x2", a.toArray(new String[0]));
    Path fb = BadInputTest.csv(work.resolve("d/b.csv"), "id,x3,y", b.toArray(new String[0]));
    Scenarios.DealerRun run = Scenarios.runWithDealer(work, List.of("hospitalA", "hospitalB"),
        (i, p) -> {
          p.setProperty("steps", "fit");
          p.setProperty("step.fit.kind", "regression");
          p.setProperty("step.fit.id", "id");
          p.setProperty("step.fit.input", (i == 0 ? fa : fb).toString());
          p.setProperty("step.fit.schema", i == 0 ? "id STRING, x1 DOUBLE, x2 DOUBLE"
              : "id STRING, x3 DOUBLE, y DOUBLE");
          p.setProperty("step.fit.share", i == 0 ? "x1,x2" : "x3,y");
          p.setProperty("step.fit.features", "x1,x2,x3");
          p.setProperty("step.fit.label", "y");
          p.setProperty("step.fit.recipients", "hospitalA");
        });
    for (LocalParties.Outcome o : run.parties()) {
      assertEquals(0, o.exitCode(), o.toString());
      assertNull(Scenarios.error(work, o.party(), "fit"), o.party());
    }
    assertTrue(Files.exists(Scenarios.step(work, "hospitalB", "fit").resolve("not-recipient.txt")));
    String[] m = Files.readString(Scenarios.step(work, "hospitalA", "fit").resolve("model.txt"))
        .split(",");

    // Plaintext: the normal equations of the joined rows, from Spark SQL aggregates.
    var spark = PlaintextSpark.get();
    spark.read().option("header", "true").schema("id STRING, x1 DOUBLE, x2 DOUBLE")
        .csv(fa.toString()).createOrReplaceTempView("ra");
    spark.read().option("header", "true").schema("id STRING, x3 DOUBLE, y DOUBLE")
        .csv(fb.toString()).createOrReplaceTempView("rb");
    String[] x = {"x1", "x2", "x3", "1"};
    StringBuilder q = new StringBuilder("SELECT ");
    for (String u : x) {
      for (String v : x) {
        q.append("SUM(").append(u).append('*').append(v).append("), ");
      }
      q.append("SUM(").append(u).append("*y), ");
    }
    q.append("SUM(y*y), SUM(y), COUNT(*) FROM ra JOIN rb USING (id)");
    Row g = spark.sql(q.toString()).first();
    double[][] gram = new double[4][4];
    double[] xy = new double[4];
    int k = 0;
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 4; j++) {
        gram[i][j] = ((Number) g.get(k++)).doubleValue();
      }
      xy[i] = ((Number) g.get(k++)).doubleValue();
    }
    double[] w = org.sparkmpc.spark.ml.NormalEquations.solve(gram, xy);
    for (int i = 0; i < 4; i++) {
      assertEquals(w[i], Double.parseDouble(m[i]), 1e-3, "coefficient " + i);
    }
    assertEquals(1.5, Double.parseDouble(m[0]), 0.02);
    assertEquals(-2.0, Double.parseDouble(m[1]), 0.02);
    assertEquals(0.5, Double.parseDouble(m[2]), 0.02);
    assertEquals(3.0, Double.parseDouble(m[3]), 0.02);
    double r2 = Double.parseDouble(m[4]);
    assertTrue(r2 > 0.99 && r2 < 1.0, "R² " + r2);
  }
}
