package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secure logistic regression against Spark ML's {@link LogisticRegression} (same regularisation,
 * standardisation on) on the pooled rows: accuracy within 0.5 points, AUC within 0.005, and the
 * predictions of the saved-and-reloaded model, opened to one party, equal to the plaintext model's
 * within the sigmoid's documented error.
 */
class SecureLogisticRegressionTest {
  static final String[] BANK_FEATURES = {"income", "age", "amount", "foreign"};

  /** Two banks' raw, badly scaled transactions (income in the tens of thousands to millions). */
  static List<double[]> bankRows(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    List<double[]> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double income = Math.exp(10.5 + r.nextGaussian());
      double age = 18 + r.nextInt(70);
      double amount = -300 * Math.log(1 - r.nextDouble());
      double foreign = r.nextInt(4) == 0 ? 1 : 0;
      double z = -2.5 - 1.5e-5 * income + 0.02 * (age - 45) + 0.004 * amount + 1.2 * foreign;
      double y = r.nextDouble() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
      rows.add(new double[] {Math.round(income * 100) / 100.0, age, Math.round(amount * 100)
          / 100.0, foreign, y});
    }
    return rows;
  }

  static Path csv(Path file, List<double[]> rows, int from, int to) throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = from; i < to; i++) {
      double[] v = rows.get(i);
      lines.add("t" + i + "," + v[0] + "," + (int) v[1] + "," + v[2] + "," + (int) v[3] + ","
          + (int) v[4]);
    }
    return BadInputTest.csv(file, "id,income,age,amount,foreign,fraud",
        lines.toArray(new String[0]));
  }

  /** One real data set, and the step that fits it. */
  record Case(String step, PublicDatasets.Table table, double reg) {}

  static List<Case> realCases(String... names) {
    List<Case> out = new ArrayList<>();
    for (String n : names) {
      out.add(switch (n) {
        case "bc" -> new Case("bc", PublicDatasets.breastCancer(), 0.01);
        case "wine" -> new Case("wine", PublicDatasets.wineClass0(), 0.01);
        default -> new Case("iris", PublicDatasets.irisVersicolorVsVirginica(), 0.01);
      });
    }
    return out;
  }

  /**
   * Party {@code i} of {@code parties} holds a contiguous block of the data set's columns (the
   * last party also the label), for the same patients: its CSV and its step settings.
   */
  static void verticalStep(Path work, Case c, int i, int parties, java.util.Properties p)
      throws Exception {
    PublicDatasets.Table t = c.table();
    String[] cols = t.columns();
    int d = cols.length;
    int from = i * d / parties;
    int to = (i + 1) * d / parties;
    boolean label = i == parties - 1;
    StringBuilder header = new StringBuilder("id");
    StringBuilder schema = new StringBuilder("id STRING");
    List<String> share = new ArrayList<>();
    for (int j = from; j < to; j++) {
      header.append(',').append(cols[j]);
      schema.append(", ").append(cols[j]).append(" DOUBLE");
      share.add(cols[j]);
    }
    if (label) {
      header.append(",label");
      schema.append(", label INT");
      share.add("label");
    }
    List<String> lines = new ArrayList<>();
    double[][] rows = t.rows();
    for (int r = 0; r < rows.length; r++) {
      StringBuilder sb = new StringBuilder("p" + r);
      for (int j = from; j < to; j++) {
        sb.append(',').append(rows[r][j]);
      }
      if (label) {
        sb.append(',').append((int) t.label()[r]);
      }
      lines.add(sb.toString());
    }
    Path f = BadInputTest.csv(work.resolve("d/" + c.step() + "-" + i + ".csv"), header.toString(),
        lines.toArray(new String[0]));
    String s = "step." + c.step() + ".";
    p.setProperty(s + "kind", "logistic");
    p.setProperty(s + "id", "id");
    p.setProperty(s + "input", f.toString());
    p.setProperty(s + "schema", schema.toString());
    p.setProperty(s + "share", String.join(",", share));
    p.setProperty(s + "features", String.join(",", cols));
    p.setProperty(s + "label", "label");
    p.setProperty(s + "regParam", Double.toString(c.reg()));
  }

  /** The fitted model of a step, read at a recipient. */
  static double[] model(Path work, String party, String step) throws Exception {
    return Arrays.stream(Files.readString(Scenarios.step(work, party, step)
        .resolve("model.txt")).split(",")).mapToDouble(Double::parseDouble).toArray();
  }

  static List<double[]> rowsOf(PublicDatasets.Table t) {
    List<double[]> out = new ArrayList<>();
    for (int r = 0; r < t.rows().length; r++) {
      double[] v = Arrays.copyOf(t.rows()[r], t.columns().length + 1);
      v[t.columns().length] = t.label()[r];
      out.add(v);
    }
    return out;
  }

  /**
   * Fit every case vertically split over {@code parties} (and the banks' rows horizontally with
   * {@code bankSolver} unless it is null), with the dealer or the OT source, and compare each with Spark ML; the first
   * case's predictions are opened to the first party and checked against the plaintext model.
   */
  static void realData(Path work, int parties, boolean ot, String bankSolver, String... names)
      throws Exception {
    boolean banks = bankSolver != null;
    int bankRows = 2400;
    List<Case> cases = realCases(names);
    List<String> who = new ArrayList<>();
    for (int i = 0; i < parties; i++) {
      who.add("party" + (i + 1));
    }
    List<double[]> bank = bankRows(23, bankRows);
    Path[] bankFiles = new Path[parties];
    for (int i = 0; i < parties; i++) {
      bankFiles[i] = csv(work.resolve("d/bank" + i + ".csv"), bank, i * bankRows / parties,
          (i + 1) * bankRows / parties);
    }
    java.util.function.BiConsumer<Integer, java.util.Properties> configure = (i, p) -> {
      List<String> steps = new ArrayList<>();
      try {
        for (Case c : cases) {
          verticalStep(work, c, i, parties, p);
          steps.add(c.step());
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      p.setProperty("step." + cases.get(0).step() + ".predictTo", "party1");
      if (banks) {
        String s = "step.banks.";
        p.setProperty(s + "kind", "logistic");
        p.setProperty(s + "split", "rows");
        p.setProperty(s + "input", bankFiles[i].toString());
        p.setProperty(s + "schema", "id STRING, income DOUBLE, age INT, amount DOUBLE, "
            + "foreign INT, fraud INT");
        p.setProperty(s + "share", "income,age,amount,foreign,fraud");
        p.setProperty(s + "features", String.join(",", BANK_FEATURES));
        p.setProperty(s + "label", "fraud");
        p.setProperty(s + "regParam", "0.01");
        p.setProperty(s + "solver", bankSolver);
        steps.add("banks");
      }
      if (parties == 3) {
        refusals(work, i, p, steps);
      }
      p.setProperty("steps", String.join(",", steps));
      if (ot) {
        p.setProperty("spark.mpc.correlations", "ot");
      }
    };
    List<LocalParties.Outcome> outcomes = ot
        ? Scenarios.run(work, who, java.time.Duration.ofSeconds(600), configure)
        : Scenarios.runWithDealer(work, who, configure).parties();
    for (LocalParties.Outcome o : outcomes) {
      assertEquals(0, o.exitCode(), o.toString());
      for (Case c : cases) {
        assertNull(Scenarios.error(work, o.party(), c.step()), o.party() + " " + c.step());
      }
    }
    String tag = parties + " parties, " + (ot ? "OT" : "dealer");
    for (Case c : cases) {
      compareWithSparkMl(rowsOf(c.table()), c.table().columns(), model(work, "party1", c.step()),
          c.reg(), c.step() + ", " + tag);
    }
    if (banks) {
      compareWithSparkMl(bank, BANK_FEATURES, model(work, "party1", "banks"), 0.01,
          "banks, " + bankSolver + ", " + tag);
    }
    checkPredictions(work, cases.get(0), parties);
    if (parties == 3) {
      for (String party : who) {
        String huge = Scenarios.error(work, party, "huge");
        assertTrue(huge != null && huge.contains("'income'") && huge.contains("wrap"),
            party + ": " + huge);
        String flat = Scenarios.error(work, party, "flat");
        assertTrue(flat != null && flat.contains("'branch'") && flat.contains("spread"),
            party + ": " + flat);
      }
    }
  }

  /**
   * Two fits that must be refused, naming the column: incomes in the hundreds of trillions (their
   * sums could pass the fixed-point range) and a constant column (no spread to standardise).
   */
  static void refusals(Path work, int i, java.util.Properties p, List<String> steps) {
    try {
      List<String> huge = new ArrayList<>();
      List<String> flat = new ArrayList<>();
      SplittableRandom r = new SplittableRandom(40 + i);
      for (int k = 0; k < 200; k++) {
        double income = Math.exp(10 + r.nextGaussian());
        int y = r.nextInt(2);
        huge.add(income * 1e7 + "," + (20 + r.nextInt(50)) + "," + y);
        flat.add(income + ",7," + y);
      }
      Path fh = BadInputTest.csv(work.resolve("d/huge" + i + ".csv"), "income,branch,label",
          huge.toArray(new String[0]));
      Path ff = BadInputTest.csv(work.resolve("d/flat" + i + ".csv"), "income,branch,label",
          flat.toArray(new String[0]));
      for (String step : List.of("huge", "flat")) {
        String s = "step." + step + ".";
        p.setProperty(s + "kind", "logistic");
        p.setProperty(s + "split", "rows");
        p.setProperty(s + "input", (step.equals("huge") ? fh : ff).toString());
        p.setProperty(s + "schema", "income DOUBLE, branch INT, label INT");
        p.setProperty(s + "share", "income,branch,label");
        p.setProperty(s + "features", "income,branch");
        p.setProperty(s + "label", "label");
        steps.add(step);
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The reloaded model's predictions, opened to party1 only, against the plaintext model. */
  static void checkPredictions(Path work, Case c, int parties) throws Exception {
    double[] m = model(work, "party1", c.step());
    int d = c.table().columns().length;
    Path pred = Scenarios.step(work, "party1", c.step()).resolve("predictions");
    for (int i = 2; i <= parties; i++) {
      assertTrue(Files.exists(Scenarios.step(work, "party" + i, c.step())
          .resolve("predictions/not-recipient.csv")), "party" + i + " got no predictions");
    }
    List<String> lines = Files.readAllLines(pred.resolve("result.csv"));
    assertEquals("id,probability,prediction", lines.get(0));
    assertEquals(c.table().rows().length + 1, lines.size());
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      double[] v = c.table().rows()[Integer.parseInt(f[0].substring(1))];
      double logit = m[d];
      for (int j = 0; j < d; j++) {
        logit += m[j] * v[j];
      }
      double expected = org.sparkmpc.protocol.Sigmoid.approximate(logit);
      assertEquals(expected, Double.parseDouble(f[1]),
          org.sparkmpc.protocol.Sigmoid.MAX_ERROR + 2e-3, "probability of " + f[0]);
      if (Math.abs(logit) > 1e-3) {
        assertEquals(logit >= 0 ? 1 : 0, Integer.parseInt(f[2]), "label of " + f[0]);
      }
    }
  }

  @Test
  void realDataTwoPartiesDealer(@TempDir Path work) throws Exception {
    realData(work, 2, false, "minibatch", "bc", "wine", "iris");
  }

  @Test
  void realDataThreePartiesDealer(@TempDir Path work) throws Exception {
    realData(work, 3, false, "newton", "bc");
  }

  @Test
  void realDataTwoPartiesOt(@TempDir Path work) throws Exception {
    // the OT source's truncation material (64 daBits per truncated value) is slow to make (about
    // 10,000 values a second here): the small real data set
    realData(work, 2, true, null, "iris");
  }

  /** Accuracy and AUC of the secure model against Spark ML's on the same rows. */
  static void compareWithSparkMl(List<double[]> rows, String[] features, double[] model,
      double reg, String what) {
    int d = features.length;
    var spark = PlaintextSpark.get();
    List<Row> data = new ArrayList<>();
    for (double[] v : rows) {
      Object[] vals = new Object[d + 1];
      for (int j = 0; j <= d; j++) {
        vals[j] = v[j];
      }
      data.add(org.apache.spark.sql.RowFactory.create(vals));
    }
    var schema = new org.apache.spark.sql.types.StructType();
    for (String f : features) {
      schema = schema.add(f, "double");
    }
    schema = schema.add("label", "double");
    Dataset<Row> df = new VectorAssembler().setInputCols(features).setOutputCol("fv")
        .transform(spark.createDataFrame(data, schema));
    LogisticRegressionModel ml = new LogisticRegression().setRegParam(reg)
        .setElasticNetParam(0).setStandardization(true).setFeaturesCol("fv").setLabelCol("label")
        .setMaxIter(200).setTol(1e-9).fit(df);
    double[] w = ml.coefficients().toArray();
    double[] ours = new double[rows.size()];
    double[] theirs = new double[rows.size()];
    double[] labels = new double[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      double[] v = rows.get(i);
      double a = model[d];
      double b = ml.intercept();
      for (int j = 0; j < d; j++) {
        a += model[j] * v[j];
        b += w[j] * v[j];
      }
      ours[i] = 1 / (1 + Math.exp(-a));
      theirs[i] = 1 / (1 + Math.exp(-b));
      labels[i] = v[d];
    }
    double accOurs = accuracy(ours, labels);
    double accMl = accuracy(theirs, labels);
    double aucOurs = auc(ours, labels);
    double aucMl = auc(theirs, labels);
    String msg = what + ": secure " + Arrays.toString(model) + " acc " + accOurs + " auc "
        + aucOurs + "; Spark ML " + Arrays.toString(w) + " + " + ml.intercept() + " acc " + accMl
        + " auc " + aucMl;
    System.out.println(msg);
    assertEquals(accMl, accOurs, 0.005, msg);
    assertEquals(aucMl, aucOurs, 0.005, msg);
  }

  static double accuracy(double[] p, double[] y) {
    int ok = 0;
    for (int i = 0; i < p.length; i++) {
      ok += (p[i] >= 0.5 ? 1 : 0) == (int) y[i] ? 1 : 0;
    }
    return ok / (double) p.length;
  }

  /** AUC by counting ordered pairs (ties count half). */
  static double auc(double[] p, double[] y) {
    double num = 0;
    long pairs = 0;
    for (int i = 0; i < p.length; i++) {
      if (y[i] != 1) {
        continue;
      }
      for (int j = 0; j < p.length; j++) {
        if (y[j] != 0) {
          continue;
        }
        pairs++;
        num += p[i] > p[j] ? 1 : p[i] == p[j] ? 0.5 : 0;
      }
    }
    return num / pairs;
  }

  static void assertTrueMsg(boolean b, String m) {
    assertTrue(b, m);
  }
}
