package org.sparkmpc.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.sparkmpc.it.PublicDatasets;

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
    Path executed = NotebookRun.executeChecked("hospital-logistic.ipynb", work, out,
        Map.of("HOSPITAL_LOGISTIC_OUT", out.toString()), 8);

    Path resultFile = out.resolve("result/hospital-logistic.json");
    assertTrue(Files.isRegularFile(resultFile), "the notebook wrote no " + resultFile);
    JsonNode result = JSON.readTree(resultFile.toFile());
    assertEquals(REG_PARAM, result.get("regParam").asDouble(), "regParam");

    PublicDatasets.Table cancer = PublicDatasets.breastCancer();
    String[] features = cancer.columns();
    double[][] x = cancer.rows();
    double[] malignant = Arrays.stream(cancer.label()).map(l -> 1 - l).toArray();
    assertEquals(x.length, result.get("predictions").asInt(), "probabilities opened to hospital3");
    NotebookModels m = NotebookModels.score(result, features, x, malignant, REG_PARAM);
    String msg = m.message();
    assertEquals(m.refAccuracy(), m.secureAccuracy(), 0.005, msg);
    assertEquals(m.refAuc(), m.secureAuc(), 0.005, msg);
    assertEquals(m.refAccuracy(), result.get("secure").get("accuracy").asDouble(), 0.005, msg);
    assertEquals(m.refAuc(), result.get("secure").get("auc").asDouble(), 0.005, msg);
    assertEquals(m.refAccuracy(), result.get("sparkMl").get("accuracy").asDouble(), 1e-9, msg);
    assertEquals(m.refAuc(), result.get("sparkMl").get("auc").asDouble(), 1e-6, msg);

    for (String hospital : List.of("hospital1", "hospital2")) {
      m.assertRunnerModel(out.resolve(hospital).resolve("model"), features, 0, hospital);
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
