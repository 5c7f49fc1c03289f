package org.sparkmpc.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.sparkmpc.it.PublicDatasets;
import org.sparkmpc.it.SparkMlReference;
import org.sparkmpc.spark.ml.BinaryMetrics;
import org.sparkmpc.spark.ml.SecureLogisticRegressionModel;

/**
 * Executes {@code notebooks/hospital-logistic.ipynb} headless ({@link NotebookRun}) and checks what
 * it left against a reference computed here: Spark ML's logistic regression (regParam 0.01,
 * standardised) fitted by this test on the Breast Cancer Wisconsin rows. The secure model the
 * notebook received, scored here from its coefficients, and the accuracy and AUC the notebook
 * measured on the probabilities opened to it, are within 0.5 points and 0.005 of the reference's.
 * hospital1 and hospital2 (the party runners) received the same model and kept their shares of
 * it, and received no probability. The ROC chart was saved as a PNG of the size {@link
 * Charts#roc} draws.
 */
@Tag("cluster")
class HospitalLogisticNotebookTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final double REG_PARAM = 0.01;

  @Test
  void hospitalLogisticNotebookRunsAndItsModelIsAsGoodAsSparkMl() throws Exception {
    Path work = NotebookRun.notebooks().resolve("target/notebook-test");
    Path out = work.resolve("hospital-logistic");
    NotebookRun.Execution run = NotebookRun.execute("hospital-logistic.ipynb", work, out,
        Map.of("HOSPITAL_LOGISTIC_OUT", out.toString()));
    System.out.printf("hospital-logistic.ipynb executed in %,d ms%n", run.millis());
    assertEquals(0, run.exitCode(), "jupyter nbconvert failed:\n" + NotebookRun.tail(run.log()));
    Path executed = work.resolve("hospital-logistic.ipynb");
    assertTrue(Files.isRegularFile(executed), "nbconvert wrote no " + executed);
    NotebookRun.checkCells(JSON.readTree(executed.toFile()), 8);

    Path resultFile = out.resolve("result/hospital-logistic.json");
    assertTrue(Files.isRegularFile(resultFile), "the notebook wrote no " + resultFile);
    JsonNode result = JSON.readTree(resultFile.toFile());
    assertEquals(REG_PARAM, result.get("regParam").asDouble(), "regParam");

    PublicDatasets.Table cancer = PublicDatasets.breastCancer();
    String[] features = cancer.columns();
    double[][] x = cancer.rows();
    double[] malignant = Arrays.stream(cancer.label()).map(l -> 1 - l).toArray();
    assertEquals(x.length, result.get("predictions").asInt(), "probabilities opened to hospital3");
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
          new PublicDatasets.Table(features, x, malignant)), features, PublicDatasets.LABEL,
          REG_PARAM, true);
    } finally {
      spark.stop();
    }
    double[] reference = SparkMlReference.probabilities(x, ml.coefficients(), ml.intercept());
    double[] secure = SparkMlReference.probabilities(x, coefficients, intercept);
    double refAccuracy = BinaryMetrics.accuracy(reference, malignant, 0.5);
    double refAuc = BinaryMetrics.auc(reference, malignant);
    String msg = String.format("Spark ML here: accuracy %.4f, AUC %.5f; secure coefficients: "
        + "accuracy %.4f, AUC %.5f; the notebook's %s", refAccuracy, refAuc,
        BinaryMetrics.accuracy(secure, malignant, 0.5), BinaryMetrics.auc(secure, malignant),
        result);
    assertEquals(refAccuracy, BinaryMetrics.accuracy(secure, malignant, 0.5), 0.005, msg);
    assertEquals(refAuc, BinaryMetrics.auc(secure, malignant), 0.005, msg);
    assertEquals(refAccuracy, result.get("secure").get("accuracy").asDouble(), 0.005, msg);
    assertEquals(refAuc, result.get("secure").get("auc").asDouble(), 0.005, msg);
    assertEquals(refAccuracy, result.get("sparkMl").get("accuracy").asDouble(), 1e-9, msg);
    assertEquals(refAuc, result.get("sparkMl").get("auc").asDouble(), 1e-6, msg);

    for (String hospital : List.of("hospital1", "hospital2")) {
      Path model = out.resolve(hospital).resolve("model");
      List<String> lines = Files.readAllLines(model.resolve("model.csv"));
      assertEquals("term,value", lines.get(0), hospital);
      assertEquals(features.length + 2, lines.size(), hospital + "'s model.csv");
      for (int j = 0; j <= features.length; j++) {
        String[] f = lines.get(j + 1).split(",");
        assertEquals(j < features.length ? features[j] : "(intercept)", f[0], hospital);
        assertEquals(j < features.length ? coefficients[j] : intercept,
            Double.parseDouble(f[1]), hospital + " " + f[0]);
      }
      assertTrue(SecureLogisticRegressionModel.load(model.resolve("model.properties").toString())
          .isRecipient(), hospital + " kept its part of the model");
      assertFalse(Files.exists(model.resolve("predictions")), hospital + " received predictions");
    }
    assertTrue(Files.isRegularFile(out.resolve("hospital3/model.properties")),
        "hospital3 kept its part of the model");

    Path png = out.resolve("hospital-logistic-roc.png");
    assertTrue(Files.isRegularFile(png) && Files.size(png) > 1000, "the chart was not written");
    java.awt.image.BufferedImage chart = javax.imageio.ImageIO.read(png.toFile());
    assertNotNull(chart, png + " is not a PNG image");
    assertEquals(Charts.ROC_WIDTH + "x" + Charts.ROC_HEIGHT,
        chart.getWidth() + "x" + chart.getHeight(), "size of the chart (drawn by Charts)");
  }
}
