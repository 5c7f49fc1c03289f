package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.it.PublicDatasets.Table;

/**
 * Secure linear regression on raw columns as data usually arrives, never standardised by the user:
 * incomes from ten thousand to a million, years around 2000, amounts around a hundred, and the
 * public diabetes data. Split vertically between two parties, the model (standardised inside MPC,
 * the default) equals Spark ML's {@code LinearRegression} on the pooled rows within 1e-3 relative
 * per coefficient and in R², with the dealer and with the OT source; the predictions opened to one
 * party equal Spark ML's. A value beyond what the fixed point holds is refused naming its column,
 * by both estimators, and so is the raw Gram without standardization; (nearly) collinear features
 * are refused too: never a silently wrong model.
 */
class RawDataRegressionTest {
  static final String[] CUSTOMERS = {"income", "year", "amount"};
  static final List<String> PARTIES = List.of("hospitalA", "hospitalB");

  /** Rows of {@code income, year, amount} and the label {@code spend}, raw. */
  static Table customers(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    double[][] x = new double[n][];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      double year = 1990 + r.nextInt(21);
      double income = Math.min(1e6, Math.max(1e4, Math.exp(11.3 + 0.02 * (year - 2000)
          + 0.8 * r.nextGaussian())));
      double amount = 100 * Math.exp(0.5 * r.nextGaussian());
      income = Math.round(income * 100) / 100.0;
      amount = Math.round(amount * 100) / 100.0;
      x[i] = new double[] {income, year, amount};
      y[i] = Math.round((0.03 * income + 180 * (year - 2000) + 2.5 * amount + 4000
          + 600 * r.nextGaussian()) * 100) / 100.0;
    }
    return new Table(CUSTOMERS, x, y);
  }

  @Test
  void rawCustomerColumnsWithTheDealerEqualSparkMlAndSoDoThePredictions(@TempDir Path work)
      throws Exception {
    fitAndCompare(work, customers(3, 2000), 2, "spend", false, true, false);
  }

  @Test
  void rawCustomerColumnsWithTheOtSourceEqualSparkMl(@TempDir Path work) throws Exception {
    fitAndCompare(work, customers(4, 1500), 2, "spend", true, false, false);
  }

  /** The raw diabetes data, also with the revealed Gram (its sums fit the ring here). */
  @Test
  void diabetesDataLeftRawSplitBetweenTwoHospitalsEqualsSparkMl(@TempDir Path work)
      throws Exception {
    fitAndCompare(work, PublicDatasets.diabetesRaw(), 5, "progression", false, true, true);
  }

  /**
   * Fit on {@code data}, its first {@code split} features at hospital A, the rest and the label
   * (named {@code label}) at hospital B; compare the model opened to hospital A with Spark ML, with
   * {@code predict} the predictions opened to hospital B, and with {@code revealGram} also the
   * model of that solver.
   */
  private static void fitAndCompare(Path work, Table data, int split, String label, boolean ot,
      boolean predict, boolean revealGram) throws Exception {
    String[] f = data.columns();
    String[] a = Arrays.copyOf(f, split);
    String[] b = Arrays.copyOfRange(f, split, f.length);
    Path[] files = write(work, data, a, b, label);
    BiConsumer<Integer, Properties> configure = (i, p) -> {
      p.setProperty("steps", revealGram ? "fit,gram" : "fit");
      if (ot) {
        p.setProperty("spark.mpc.correlations", "ot");
      }
      regressionStep(p, "fit", i, files, a, b, label);
      p.setProperty("step.fit.features", String.join(",", f));
      p.setProperty("step.fit.label", label);
      p.setProperty("step.fit.recipients", "hospitalA");
      if (predict) {
        p.setProperty("step.fit.predictTo", "hospitalB");
      }
      regressionStep(p, "gram", i, files, a, b, label);
      p.setProperty("step.gram.features", String.join(",", f));
      p.setProperty("step.gram.label", label);
      p.setProperty("step.gram.recipients", "hospitalA");
      p.setProperty("step.gram.solver", "revealGram");
    };
    List<LocalParties.Outcome> outcomes = ot
        ? Scenarios.run(work, PARTIES, java.time.Duration.ofSeconds(180), configure)
        : Scenarios.runWithDealer(work, PARTIES, configure).parties();
    for (LocalParties.Outcome o : outcomes) {
      assertEquals(0, o.exitCode(), o.toString());
      assertNull(Scenarios.error(work, o.party(), "fit"), o.party());
    }
    double[] model = Arrays.stream(Files.readString(Scenarios.step(work, "hospitalA", "fit")
        .resolve("model.txt")).split(",")).mapToDouble(Double::parseDouble).toArray();
    SparkMlReference.Fit ml = SparkMlReference.fit(PublicDatasets.toDataFrame(
        PlaintextSpark.get(), data), f, PublicDatasets.LABEL);
    assertMatches(data, ml, model);
    if (revealGram) {
      assertNull(Scenarios.error(work, "hospitalA", "gram"));
      assertMatches(data, ml, Arrays.stream(Files.readString(Scenarios.step(work, "hospitalA",
          "gram").resolve("model.txt")).split(",")).mapToDouble(Double::parseDouble).toArray());
    }
    if (predict) {
      List<String> lines = Files.readAllLines(Scenarios.step(work, "hospitalB", "fit")
          .resolve("predictions/result.csv"));
      assertEquals("id,prediction", lines.get(0));
      assertEquals(data.rowCount() + 1, lines.size());
      double sdY = sd(data.label());
      double worst = 0;
      double[][] x = data.rows();
      for (String line : lines.subList(1, lines.size())) {
        String[] v = line.split(",");
        double[] row = x[Integer.parseInt(v[0].substring(1))];
        double expected = ml.intercept();
        for (int j = 0; j < row.length; j++) {
          expected += ml.coefficients()[j] * row[j];
        }
        worst = Math.max(worst, Math.abs(Double.parseDouble(v[1]) - expected) / sdY);
      }
      System.out.println("predictions: worst difference from Spark ML's " + worst
          + " of the label's standard deviation");
      assertTrue(worst < 1e-3, "predictions differ from Spark ML's by " + worst + " sd");
    }
  }

  /**
   * The secure model {@code [w_1..w_d, b, R²]} against Spark ML's: each coefficient within 1e-3 of
   * the larger of its magnitude and 1% of the coefficient that moves the label by one standard
   * deviation per standard deviation of the feature ({@code sd_y / sd_j}); the intercept within
   * 1e-3 of the larger of its magnitude and 1% of {@code sd_y}; R² within 1e-3.
   */
  static void assertMatches(Table data, SparkMlReference.Fit ml, double[] model) {
    int d = data.columns().length;
    double sdY = sd(data.label());
    String msg = "secure " + Arrays.toString(model) + "; Spark ML "
        + Arrays.toString(ml.coefficients()) + " + " + ml.intercept() + ", R² " + ml.r2();
    System.out.println(msg);
    double worst = 0;
    for (int j = 0; j < d; j++) {
      double w = ml.coefficients()[j];
      double scale = Math.max(Math.abs(w), 0.01 * sdY / sd(data.column(data.columns()[j])));
      double rel = Math.abs(model[j] - w) / scale;
      worst = Math.max(worst, rel);
      assertTrue(rel <= 1e-3, data.columns()[j] + ": relative error " + rel + "; " + msg);
    }
    double b = ml.intercept();
    double rel = Math.abs(model[d] - b) / Math.max(Math.abs(b), 0.01 * sdY);
    worst = Math.max(worst, rel);
    assertTrue(rel <= 1e-3, "intercept: relative error " + rel + "; " + msg);
    System.out.println("worst relative error " + worst + ", R² " + model[d + 1] + " vs "
        + ml.r2());
    assertEquals(ml.r2(), model[d + 1], 1e-3, "R²; " + msg);
  }

  static double sd(double[] v) {
    double m = Arrays.stream(v).average().orElse(0);
    double s = 0;
    for (double x : v) {
      s += (x - m) * (x - m);
    }
    return Math.sqrt(s / (v.length - 1));
  }

  /** Hospital A's file ({@code id}, columns {@code a}) and B's ({@code id}, {@code b}, label). */
  static Path[] write(Path work, Table data, String[] a, String[] b, String label)
      throws Exception {
    double[][] x = data.rows();
    double[] y = data.label();
    List<String> la = new ArrayList<>();
    List<String> lb = new ArrayList<>();
    for (int i = 0; i < x.length; i++) {
      StringBuilder ra = new StringBuilder("p" + i);
      StringBuilder rb = new StringBuilder("p" + i);
      for (int j = 0; j < x[i].length; j++) {
        (j < a.length ? ra : rb).append(',').append(x[i][j]);
      }
      rb.append(',').append(y[i]);
      la.add(ra.toString());
      lb.add(rb.toString());
    }
    return new Path[] {
        BadInputTest.csv(work.resolve("d/a.csv"), "id," + String.join(",", a),
            la.toArray(new String[0])),
        BadInputTest.csv(work.resolve("d/b.csv"), "id," + String.join(",", b) + "," + label,
            lb.toArray(new String[0]))};
  }

  /** A regression step over the two files: party {@code i}'s input, schema and shared columns. */
  static void regressionStep(Properties p, String step, int i, Path[] files, String[] a,
      String[] b, String label) {
    String s = "step." + step + ".";
    String[] mine = i == 0 ? a : Arrays.copyOf(b, b.length + 1);
    if (i != 0) {
      mine[b.length] = label;
    }
    StringBuilder schema = new StringBuilder("id STRING");
    for (String c : mine) {
      schema.append(", ").append(c).append(" DOUBLE");
    }
    p.setProperty(s + "kind", "regression");
    p.setProperty(s + "id", "id");
    p.setProperty(s + "input", files[i].toString());
    p.setProperty(s + "schema", schema.toString());
    p.setProperty(s + "share", String.join(",", mine));
  }

  @Test
  void valuesBeyondTheFixedPointRangeAndCollinearFeaturesAreRefusedNamingTheCause(
      @TempDir Path work) throws Exception {
    Table good = customers(5, 300);
    double[][] x = good.rows();
    x[17][0] = 1e12; // one income typed in the wrong unit
    double[] y = good.label();
    Table bad = new Table(CUSTOMERS, x, y);
    String[] a = {"income", "year"};
    String[] b = {"amount"};
    Path[] badFiles = write(work.resolve("bad"), bad, a, b, "spend");
    Path[] goodFiles = write(work.resolve("good"), good, a, b, "spend");
    List<String> flags = new ArrayList<>();
    for (int i = 0; i < y.length; i++) {
      flags.add("p" + i + "," + (y[i] > 4000 ? 1 : 0));
    }
    Path flagFile = BadInputTest.csv(work.resolve("bad/flags.csv"), "id,flag",
        flags.toArray(new String[0]));
    // income in thousands at hospital B: the same column to within rounding
    double[][] xk = good.rows();
    for (int i = 0; i < xk.length; i++) {
      xk[i] = new double[] {xk[i][0], xk[i][1], xk[i][2], Math.round(xk[i][0] / 10) / 100.0};
    }
    String[] withK = {"income", "year", "amount", "income_k"};
    String[] bk = {"amount", "income_k"};
    Path[] collinearFiles = write(work.resolve("collinear"), new Table(withK, xk, y), a, bk,
        "spend");
    var run = Scenarios.runWithDealer(work, PARTIES, (i, p) -> {
      p.setProperty("steps", "linear,logistic,rawGram,collinear");
      regressionStep(p, "linear", i, badFiles, a, b, "spend");
      p.setProperty("step.linear.features", String.join(",", CUSTOMERS));
      p.setProperty("step.linear.label", "spend");
      p.setProperty("step.linear.recipients", "hospitalA");
      // logistic regression on the same features and a 0/1 label at hospital B
      String s = "step.logistic.";
      p.setProperty(s + "kind", "logistic");
      p.setProperty(s + "id", "id");
      p.setProperty(s + "input", (i == 0 ? badFiles[0] : flagFile).toString());
      p.setProperty(s + "schema", i == 0 ? "id STRING, income DOUBLE, year DOUBLE"
          : "id STRING, flag INT");
      p.setProperty(s + "share", i == 0 ? "income,year" : "flag");
      p.setProperty(s + "features", "income,year");
      p.setProperty(s + "label", "flag");
      // raw data without standardization: its Gram sums could wrap, so it is refused
      regressionStep(p, "rawGram", i, goodFiles, a, b, "spend");
      p.setProperty("step.rawGram.features", String.join(",", CUSTOMERS));
      p.setProperty("step.rawGram.label", "spend");
      p.setProperty("step.rawGram.recipients", "hospitalA");
      p.setProperty("step.rawGram.standardization", "false");
      regressionStep(p, "collinear", i, collinearFiles, a, bk, "spend");
      p.setProperty("step.collinear.features", String.join(",", withK));
      p.setProperty("step.collinear.label", "spend");
      p.setProperty("step.collinear.recipients", "hospitalA");
    });
    for (LocalParties.Outcome o : run.parties()) {
      assertEquals(0, o.exitCode(), o.toString());
    }
    for (String party : PARTIES) {
      refused(work, party, "linear", "'income'", "2^63");
      refused(work, party, "logistic", "'income'", "2^63");
      refused(work, party, "rawGram", "'income'", "2^63");
      refused(work, party, "collinear", "collinear", "income_k", "maxCondition");
      for (String step : List.of("linear", "collinear")) {
        assertTrue(Files.notExists(Scenarios.step(work, party, step).resolve("model.txt")));
      }
    }
  }

  static void refused(Path work, String party, String step, String... mustContain)
      throws Exception {
    String err = Scenarios.error(work, party, step);
    assertNotNull(err, step + " must be refused at " + party);
    for (String m : mustContain) {
      assertTrue(err.contains(m), step + " at " + party + ": '" + m + "' not in " + err);
    }
  }
}
