package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hospital A holds two standardised features, hospital B a third and the outcome, for the same
 * patients; a dealer hands out the correlated randomness; only hospital A receives the model. The
 * coefficients and R² match Spark ML's LinearRegression on the joined rows, and the generating
 * model; the predictions, opened to hospital B only, match the plaintext model's. With
 * standardization inside MPC (the default), without it (the raw Gram solved as it is), and with the
 * revealed Gram. Raw, badly scaled columns: {@link RawDataRegressionTest}.
 */
class SecureLinearRegressionTest {

  @Test
  void solvedInsideMpcOnlyTheModelIsOpenedAndPredictionsMatch(@TempDir Path work)
      throws Exception {
    fitAndCheck(work, "mpc");
  }

  @Test
  void revealGramSolverGivesTheSameModel(@TempDir Path work) throws Exception {
    fitAndCheck(work, "revealGram");
  }

  @Test
  void otSourceWithoutDealerGivesTheSameModelAndProducts(@TempDir Path work) throws Exception {
    fitAndCheck(work, "ot");
  }

  @Test
  void withoutStandardizationTheGramOfTheColumnsAsSharedGivesTheSameModel(@TempDir Path work)
      throws Exception {
    fitAndCheck(work, "unstandardised");
  }

  /**
   * {@code mode}: the solver with the dealer, {@code ot} (solve in MPC, OT triples) or
   * {@code unstandardised} (solve in MPC, the dealer, standardization off).
   */
  private static void fitAndCheck(Path work, String mode) throws Exception {
    boolean ot = mode.equals("ot");
    String solver = ot || mode.equals("unstandardised") ? "mpc" : mode;
    int n = 4_000;
    SplittableRandom r = new SplittableRandom(5);
    List<String> a = new ArrayList<>();
    List<String> b = new ArrayList<>();
    double[][] xs = new double[n][];
    for (int i = 0; i < n; i++) {
      double x1 = r.nextGaussian();
      double x2 = r.nextGaussian();
      double x3 = r.nextGaussian();
      double y = 1.5 * x1 - 2.0 * x2 + 0.5 * x3 + 3.0 + 0.1 * r.nextGaussian();
      xs[i] = new double[] {x1, x2, x3};
      a.add("id" + i + "," + x1 + "," + x2);
      b.add("id" + i + "," + x3 + "," + y);
    }
    Path fa = BadInputTest.csv(work.resolve("d/a.csv"), "id,x1,x2", a.toArray(new String[0]));
    Path fb = BadInputTest.csv(work.resolve("d/b.csv"), "id,x3,y", b.toArray(new String[0]));
    java.util.function.BiConsumer<Integer, java.util.Properties> configure = (i, p) -> {
      p.setProperty("steps", ot ? "prod,fit" : "fit");
      if (ot) {
        p.setProperty("spark.mpc.correlations", "ot");
        hospitalInput(p, "prod", "aligned", i, fa, fb);
        p.setProperty("step.prod.query", "SELECT reveal(SUM(x1 * x3)) AS s, COUNT(*) AS n "
            + "FROM tx");
      }
      hospitalInput(p, "fit", "regression", i, fa, fb);
      p.setProperty("step.fit.features", "x1,x2,x3");
      p.setProperty("step.fit.label", "y");
      p.setProperty("step.fit.recipients", "hospitalA");
      p.setProperty("step.fit.solver", solver);
      p.setProperty("step.fit.standardization", Boolean.toString(!mode.equals("unstandardised")));
      if (solver.equals("mpc")) {
        p.setProperty("step.fit.predictTo", "hospitalB");
      }
    };
    List<String> hospitals = List.of("hospitalA", "hospitalB");
    List<LocalParties.Outcome> outcomes = ot
        ? Scenarios.run(work, hospitals, java.time.Duration.ofSeconds(120), configure)
        : Scenarios.runWithDealer(work, hospitals, configure).parties();
    for (LocalParties.Outcome o : outcomes) {
      assertEquals(0, o.exitCode(), o.toString());
      assertNull(Scenarios.error(work, o.party(), "fit"), o.party());
    }
    assertTrue(Files.exists(Scenarios.step(work, "hospitalB", "fit").resolve("not-recipient.txt")));
    String[] m = Files.readString(Scenarios.step(work, "hospitalA", "fit").resolve("model.txt"))
        .split(",");

    // Plaintext: Spark ML LinearRegression (normal solver, no regularisation) on the joined rows.
    var spark = PlaintextSpark.get();
    var ra = spark.read().option("header", "true").schema("id STRING, x1 DOUBLE, x2 DOUBLE")
        .csv(fa.toString());
    var rb = spark.read().option("header", "true").schema("id STRING, x3 DOUBLE, y DOUBLE")
        .csv(fb.toString());
    SparkMlReference.Fit ml = SparkMlReference.fit(ra.join(rb, "id"),
        new String[] {"x1", "x2", "x3"}, "y");
    double[] w = {ml.coefficients()[0], ml.coefficients()[1], ml.coefficients()[2],
        ml.intercept()};
    for (int i = 0; i < 4; i++) {
      assertEquals(w[i], Double.parseDouble(m[i]), 1e-3, "coefficient " + i);
    }
    assertEquals(ml.r2(), Double.parseDouble(m[4]), 5e-4, "R² to 3 decimals");
    assertEquals(1.5, Double.parseDouble(m[0]), 0.02);
    assertEquals(-2.0, Double.parseDouble(m[1]), 0.02);
    assertEquals(0.5, Double.parseDouble(m[2]), 0.02);
    assertEquals(3.0, Double.parseDouble(m[3]), 0.02);

    if (ot) {
      double sum = 0;
      for (double[] v : xs) {
        sum += v[0] * v[2];
      }
      for (String h : hospitals) {
        assertNull(Scenarios.error(work, h, "prod"), h);
        String[] row = Files.readAllLines(Scenarios.step(work, h, "prod").resolve("result.csv"))
            .get(1).split(",");
        assertEquals(sum, Double.parseDouble(row[0]), 1e-3 * n, "SUM(x1 * x3) at " + h);
        assertEquals(n, Long.parseLong(row[1]));
      }
    }
    if (solver.equals("mpc")) {
      // Predictions on the secure features, opened to hospitalB only.
      Path pred = Scenarios.step(work, "hospitalB", "fit").resolve("predictions");
      assertTrue(Files.exists(Scenarios.step(work, "hospitalA", "fit")
          .resolve("predictions/not-recipient.csv")));
      List<String> lines = Files.readAllLines(pred.resolve("result.csv"));
      assertEquals("id,prediction", lines.get(0));
      assertEquals(n + 1, lines.size());
      for (String line : lines.subList(1, lines.size())) {
        String[] f = line.split(",");
        double[] v = xs[Integer.parseInt(f[0].substring(2))];
        double expected = w[3] + w[0] * v[0] + w[1] * v[1] + w[2] * v[2];
        assertEquals(expected, Double.parseDouble(f[1]), 1e-3, "prediction of " + f[0]);
      }
      assertTrue(Files.readString(pred.resolve("plan.txt")).contains("SecureReveal"));
    }
  }

  /** Step {@code step} of kind {@code kind}: hospital {@code i}'s file, columns and id. */
  private static void hospitalInput(java.util.Properties p, String step, String kind, int i,
      Path fa, Path fb) {
    String s = "step." + step + ".";
    p.setProperty(s + "kind", kind);
    p.setProperty(s + "id", "id");
    p.setProperty(s + "input", (i == 0 ? fa : fb).toString());
    p.setProperty(s + "schema", i == 0 ? "id STRING, x1 DOUBLE, x2 DOUBLE"
        : "id STRING, x3 DOUBLE, y DOUBLE");
    p.setProperty(s + "share", i == 0 ? "x1,x2" : "x3,y");
  }
}
