package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.spark.ml.BinaryMetrics;
import org.sparkmpc.spark.ml.SecureLogisticRegressionModel;

/**
 * The party runner's {@code job=logistic}, three banks each a JVM of its own (and a dealer
 * process), on horizontally split transactions ({@link SampleData#fraudTransactions}): the model
 * the recipients write equals Spark ML's {@code LogisticRegression} on the pooled rows (same
 * regParam, standardisation) in accuracy (within 0.5 points) and AUC (within 0.005), computed with
 * {@link BinaryMetrics} from the written coefficients; every party saved its part of the model and
 * only the recipients hold the opened one; the predictions were opened to {@code predictTo} only,
 * and equal the written model's.
 */
class LogisticJobTest {
  static final List<String> BANKS = List.of("bank1", "bank2", "bank3");
  static final int[] ROWS = {1200, 1000, 800};
  static final double REG = 0.01;
  static final String SCHEMA = "id STRING, income DOUBLE, age INT, amount DOUBLE, foreign INT, "
      + "fraud INT";

  @Test
  void threeBanksFitAFraudModelThatMatchesSparkMl(@TempDir Path work) throws Exception {
    long t0 = System.nanoTime();
    List<String> members = new ArrayList<>(BANKS);
    members.add("dealer");
    Path keys = LocalParties.keys(work.resolve("keys"), members);
    String spec = LocalParties.partiesSpec(members, LocalParties.freePorts(members.size()));
    Process dealer = Scenarios.startDealer(work, spec, keys);
    Map<String, Properties> confs = new LinkedHashMap<>();
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < BANKS.size(); i++) {
      String bank = BANKS.get(i);
      files.add(SampleData.fraudTransactions(work.resolve("data").resolve(bank + ".csv"), i,
          ROWS[i]));
      Properties p = LocalParties.baseConfig(bank, spec, keys, Duration.ofSeconds(60));
      p.setProperty("spark.mpc.dealer", "dealer");
      p.setProperty("job", "logistic");
      p.setProperty("input.tx.path", files.get(i).toString());
      p.setProperty("input.tx.schema", SCHEMA);
      p.setProperty("input.tx.share", "income,age,amount,foreign,fraud");
      p.setProperty("regression.table", "tx");
      p.setProperty("regression.features", String.join(",", SampleData.FRAUD_FEATURES));
      p.setProperty("regression.label", "fraud");
      p.setProperty("regression.regParam", Double.toString(REG));
      p.setProperty("regression.standardization", "true");
      p.setProperty("regression.recipients", "bank1,bank2");
      p.setProperty("regression.predictTo", "bank3");
      p.setProperty("regression.predictKeep", "id");
      p.setProperty("output", work.resolve(bank).resolve("model").toString());
      confs.put(bank, p);
    }
    List<LocalParties.Outcome> outs = LocalParties.run(work, confs, "-Xmx768m",
        Duration.ofMinutes(5), "org.sparkmpc.spark.runner.PartyRunner", Scenarios.TEST_JVM);
    boolean dealerEnded = dealer.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
    dealer.destroyForcibly();
    for (LocalParties.Outcome o : outs) {
      assertEquals(0, o.exitCode(), o.toString());
    }
    assertTrue(dealerEnded, "the dealer ended with the session");
    long secureMs = (System.nanoTime() - t0) / 1_000_000;

    // model.csv at the recipients only: each feature, then the intercept; no R² line.
    Map<String, double[]> written = new HashMap<>();
    for (String bank : BANKS) {
      Path model = work.resolve(bank).resolve("model");
      Path csv = model.resolve("model.csv");
      boolean recipient = !bank.equals("bank3");
      assertEquals(recipient, Files.exists(csv), bank + " model.csv");
      SecureLogisticRegressionModel saved = SecureLogisticRegressionModel.load(
          model.resolve("model.properties").toString());
      assertEquals(recipient, saved.isRecipient(), bank + " model.properties holds the model");
      if (!recipient) {
        continue;
      }
      List<String> lines = Files.readAllLines(csv);
      List<String> terms = new ArrayList<>(List.of(SampleData.FRAUD_FEATURES));
      terms.add("(intercept)");
      assertEquals("term,value", lines.get(0), bank);
      assertEquals(terms, lines.subList(1, lines.size()).stream()
          .map(l -> l.split(",")[0]).toList(), bank + " terms of model.csv");
      double[] v = lines.subList(1, lines.size()).stream()
          .mapToDouble(l -> Double.parseDouble(l.split(",")[1])).toArray();
      double[] fromSave = Arrays.copyOf(saved.coefficients(), v.length);
      fromSave[v.length - 1] = saved.intercept();
      assertTrue(Arrays.equals(v, fromSave), bank + ": model.csv " + Arrays.toString(v)
          + " and model.properties " + Arrays.toString(fromSave));
      written.put(bank, v);
    }
    assertTrue(Arrays.equals(written.get("bank1"), written.get("bank2")), "the same model");
    double[] model = written.get("bank1");
    int d = SampleData.FRAUD_FEATURES.length;
    double[] coef = Arrays.copyOf(model, d);
    double intercept = model[d];

    // Against Spark ML on the pooled rows.
    var spark = PlaintextSpark.get();
    Dataset<Row> pooled = spark.read().option("header", "true").schema(SCHEMA)
        .csv(files.stream().map(Path::toString).toArray(String[]::new))
        .selectExpr("id", "CAST(income AS DOUBLE) income", "CAST(age AS DOUBLE) age",
            "CAST(amount AS DOUBLE) amount", "CAST(`foreign` AS DOUBLE) `foreign`",
            "CAST(fraud AS DOUBLE) fraud").cache();
    SparkMlReference.Fit ml = SparkMlReference.logistic(pooled, SampleData.FRAUD_FEATURES,
        "fraud", REG, true);
    List<Row> rows = pooled.collectAsList();
    double[][] x = new double[rows.size()][d];
    double[] labels = new double[rows.size()];
    Map<String, double[]> byId = new HashMap<>();
    for (int i = 0; i < rows.size(); i++) {
      for (int j = 0; j < d; j++) {
        x[i][j] = rows.get(i).getDouble(j + 1);
      }
      labels[i] = rows.get(i).getDouble(d + 1);
      byId.put(rows.get(i).getString(0), x[i]);
    }
    double[] ours = SparkMlReference.probabilities(x, coef, intercept);
    double[] theirs = SparkMlReference.probabilities(x, ml.coefficients(), ml.intercept());
    double accOurs = BinaryMetrics.accuracy(ours, labels, 0.5);
    double accMl = BinaryMetrics.accuracy(theirs, labels, 0.5);
    double aucOurs = BinaryMetrics.auc(ours, labels);
    double aucMl = BinaryMetrics.auc(theirs, labels);
    String msg = String.format("secure %s + %s: accuracy %.4f, AUC %.4f; Spark ML %s + %s: "
        + "accuracy %.4f, AUC %.4f (%d rows, %.0f fraud)", Arrays.toString(coef), intercept,
        accOurs, aucOurs, Arrays.toString(ml.coefficients()), ml.intercept(), accMl, aucMl,
        labels.length, Arrays.stream(labels).sum());
    System.out.println(msg + "; secure job " + secureMs + " ms");
    assertEquals(accMl, accOurs, 0.005, msg);
    assertEquals(aucMl, aucOurs, 0.005, msg);

    // The predictions: at bank3 only, one per row of the three banks, equal to the written model's
    // (the secure sigmoid is within 7e-4 of the true one; fixed point adds a little).
    for (String bank : List.of("bank1", "bank2")) {
      assertFalse(Files.exists(work.resolve(bank).resolve("model/predictions")),
          bank + " wrote predictions");
    }
    List<String> predicted = new ArrayList<>();
    try (Stream<Path> parts = Files.list(work.resolve("bank3/model/predictions"))) {
      for (Path f : parts.filter(f -> f.toString().endsWith(".csv")).toList()) {
        List<String> lines = Files.readAllLines(f);
        assertEquals("id,probability,prediction", lines.get(0), "header of " + f);
        predicted.addAll(lines.subList(1, lines.size()));
      }
    }
    assertEquals(rows.size(), predicted.size(), "predictions at bank3");
    double worst = 0;
    for (String line : predicted) {
      String[] f = line.split(",");
      double[] row = byId.remove(f[0]);
      assertTrue(row != null, "prediction for an unknown or repeated id " + f[0]);
      double p = SparkMlReference.probabilities(new double[][] {row}, coef, intercept)[0];
      double got = Double.parseDouble(f[1]);
      worst = Math.max(worst, Math.abs(got - p));
      assertEquals(p, got, 2e-3, "probability of " + f[0]);
      if (Math.abs(p - 0.5) > 2e-3) {
        assertEquals(p > 0.5 ? 1 : 0, Integer.parseInt(f[2]), "prediction of " + f[0]);
      }
    }
    assertTrue(byId.isEmpty(), "rows without a prediction: " + byId.size());
    System.out.println("bank3's " + predicted.size() + " predictions within " + worst
        + " of the written model");
    assertNull(outs.stream().filter(o -> o.stdout().contains("predictions to")
        && !o.party().equals("bank3")).findAny().orElse(null), "predictions only at bank3");
  }
}
