package org.sparkmpc.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.it.PublicDatasets;
import org.sparkmpc.it.SparkMlReference;
import org.sparkmpc.spark.ml.BinaryMetrics;
import org.sparkmpc.spark.ml.SecureLogisticRegressionModel;

/**
 * What the hospital notebooks' tests check of a secure logistic model: the model a notebook wrote
 * (its result JSON) scored beside Spark ML's fitted here on the same rows, and a party runner's
 * copy of it.
 *
 * @param coefficients the notebook's, in the order of the features
 * @param message      both models' scores and the notebook's JSON, for assertion messages
 */
record NotebookModels(double[] coefficients, double intercept, double refAccuracy, double refAuc,
    double secureAccuracy, double secureAuc, String message) {

  /** Score the model of {@code result} and Spark ML's (L2 {@code regParam}, standardised). */
  static NotebookModels score(JsonNode result, String[] features, double[][] x, double[] labels,
      double regParam) {
    double[] coefficients = new double[features.length];
    for (int j = 0; j < features.length; j++) {
      JsonNode c = result.get("coefficients").get(features[j]);
      assertNotNull(c, "no coefficient of " + features[j]);
      coefficients[j] = c.asDouble();
    }
    double intercept = result.get("intercept").asDouble();
    SparkSession spark = SparkSession.builder().master("local[1]").appName("notebook-reference")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .getOrCreate();
    SparkMlReference.Fit ml;
    try {
      ml = SparkMlReference.logistic(PublicDatasets.toDataFrame(spark,
          new PublicDatasets.Table(features, x, labels)), features, PublicDatasets.LABEL,
          regParam, true);
    } finally {
      spark.stop();
    }
    double[] reference = SparkMlReference.probabilities(x, ml.coefficients(), ml.intercept());
    double[] secure = SparkMlReference.probabilities(x, coefficients, intercept);
    double refAccuracy = BinaryMetrics.accuracy(reference, labels, 0.5);
    double refAuc = BinaryMetrics.auc(reference, labels);
    double secureAccuracy = BinaryMetrics.accuracy(secure, labels, 0.5);
    double secureAuc = BinaryMetrics.auc(secure, labels);
    String msg = String.format("Spark ML here: accuracy %.4f, AUC %.5f; secure coefficients: "
        + "accuracy %.4f, AUC %.5f; the notebook's %s", refAccuracy, refAuc, secureAccuracy,
        secureAuc, result);
    return new NotebookModels(coefficients, intercept, refAccuracy, refAuc, secureAccuracy,
        secureAuc, msg);
  }

  /**
   * A party runner's {@code model/} folder: its {@code model.csv} holds these coefficients and
   * intercept (within {@code tolerance}, relative), it kept its part of the model and received no
   * predictions.
   */
  void assertRunnerModel(Path model, String[] features, double tolerance, String party)
      throws Exception {
    List<String> lines = Files.readAllLines(model.resolve("model.csv"));
    assertEquals("term,value", lines.get(0), party + "'s model.csv");
    assertEquals(features.length + 2, lines.size(), party + "'s model.csv");
    for (int j = 0; j <= features.length; j++) {
      String[] f = lines.get(j + 1).split(",");
      double expected = j < features.length ? coefficients[j] : intercept;
      assertEquals(j < features.length ? features[j] : "(intercept)", f[0], party);
      assertEquals(expected, Double.parseDouble(f[1]),
          tolerance * Math.max(1, Math.abs(expected)), party + "'s " + f[0]);
    }
    assertTrue(SecureLogisticRegressionModel.load(model.resolve("model.properties").toString())
        .isRecipient(), party + " kept its part of the model");
    assertFalse(Files.exists(model.resolve("predictions")), party + " received predictions");
  }
}
