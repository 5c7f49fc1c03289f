package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.it.PublicDatasets.Table;
import org.sparkmpc.spark.ml.BinaryMetrics;

/**
 * The public data sets as {@link PublicDatasets} reads them (files from {@code
 * datasets/fetch.sh}): row and column counts, labels, and values known from the original sources.
 * One check in Spark: the DataFrame, and {@link BinaryMetrics#auc} beside Spark ML's evaluator.
 */
class PublicDatasetsTest {

  @Test
  void breastCancer() {
    Table t = PublicDatasets.breastCancer();
    assertShape(t, 569, 30);
    String[] c = t.columns();
    assertEquals("mean_radius", c[0]);
    assertEquals("mean_concave_points", c[7]);
    assertEquals("radius_error", c[10]);
    assertEquals("worst_radius", c[20]);
    assertEquals("worst_fractal_dimension", c[29]);
    assertEquals(17.99, t.rows()[0][0]);
    assertEquals(17.99, t.column("mean_radius")[0]);
    assertEquals(0.1189, t.column("worst_fractal_dimension")[0]);
    assertEquals(0.0, t.label()[0], "the first tumour is malignant");
    assertEquals(357, positives(t), "benign");
  }

  @Test
  void wineClass0() {
    Table t = PublicDatasets.wineClass0();
    assertShape(t, 178, 13);
    assertEquals("alcohol", t.columns()[0]);
    assertEquals("od280_od315_of_diluted_wines", t.columns()[11]);
    assertEquals(14.23, t.column("alcohol")[0]);
    assertEquals(1065.0, t.column("proline")[0]);
    assertEquals(59, positives(t), "wines of cultivar 0");
    // The file lists the classes in order: cultivar 0 first.
    for (int i = 0; i < 178; i++) {
      assertEquals(i < 59 ? 1.0 : 0.0, t.label()[i], "row " + i);
    }
  }

  @Test
  void irisVersicolorVsVirginica() {
    Table t = PublicDatasets.irisVersicolorVsVirginica();
    assertShape(t, 100, 4);
    assertArrayEquals(new String[] {"sepal_length", "sepal_width", "petal_length", "petal_width"},
        t.columns());
    assertArrayEquals(new double[] {7.0, 3.2, 4.7, 1.4}, t.rows()[0], "the first versicolor");
    assertEquals(0.0, t.label()[0]);
    assertArrayEquals(new double[] {6.3, 3.3, 6.0, 2.5}, t.rows()[50], "the first virginica");
    assertEquals(1.0, t.label()[50]);
    assertEquals(50, positives(t));
  }

  @Test
  void diabetesRaw() {
    Table t = PublicDatasets.diabetesRaw();
    assertShape(t, 442, 10);
    assertArrayEquals(new String[] {"age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"},
        t.columns());
    assertArrayEquals(new double[] {59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87}, t.rows()[0]);
    assertEquals(151.0, t.label()[0]);
    double[] y = t.label();
    assertEquals(25.0, Arrays.stream(y).min().orElseThrow());
    assertEquals(346.0, Arrays.stream(y).max().orElseThrow());
  }

  @Test
  void bostonRaw() {
    Table t = PublicDatasets.bostonRaw();
    assertShape(t, 506, 13);
    assertArrayEquals(new String[] {"CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD",
        "TAX", "PTRATIO", "B", "LSTAT"}, t.columns());
    assertEquals(0.00632, t.column("CRIM")[0]);
    assertEquals(4.98, t.column("LSTAT")[0]);
    assertEquals(24.0, t.label()[0], "MEDV of the first tract");
    assertEquals(11.9, t.label()[505], "MEDV of the last tract");
  }

  @Test
  void tablesCannotBeChangedByTheirCallers() {
    Table t = PublicDatasets.irisVersicolorVsVirginica();
    t.rows()[0][0] = -1;
    t.label()[0] = -1;
    t.columns()[0] = "changed";
    assertEquals(7.0, t.rows()[0][0]);
    assertEquals(0.0, t.label()[0]);
    assertEquals("sepal_length", t.columns()[0]);
  }

  @Test
  void aMissingFileSaysToRunTheFetchScript(@TempDir Path empty) {
    String before = System.getProperty(PublicDatasets.DIR_PROPERTY);
    System.setProperty(PublicDatasets.DIR_PROPERTY, empty.toString());
    try {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          PublicDatasets::breastCancer);
      assertTrue(e.getMessage().contains("datasets/fetch.sh"), e.getMessage());
      assertTrue(e.getMessage().contains("breast_cancer.csv"), e.getMessage());
    } finally {
      if (before == null) {
        System.clearProperty(PublicDatasets.DIR_PROPERTY);
      } else {
        System.setProperty(PublicDatasets.DIR_PROPERTY, before);
      }
    }
  }

  /**
   * The DataFrame has the table's columns and rows; single features as scores (one with many tied
   * zeros) give the same area under the ROC curve in {@link BinaryMetrics} and in Spark ML.
   */
  @Test
  void dataFrameAndAreaUnderRocAgreeWithSparkMl() {
    Table t = PublicDatasets.breastCancer();
    Dataset<Row> df = PublicDatasets.toDataFrame(PlaintextSpark.get(), t);
    List<String> expected = new java.util.ArrayList<>(List.of(t.columns()));
    expected.add(PublicDatasets.LABEL);
    assertEquals(expected, List.of(df.columns()));
    assertEquals(569, df.count());
    assertEquals(357, df.filter(functions.col(PublicDatasets.LABEL).equalTo(1.0)).count());

    for (String feature : List.of("worst_area", "mean_concavity", "mean_texture")) {
      // Larger tumours are malignant (label 0): the negated feature scores "benign".
      double[] score = Arrays.stream(t.column(feature)).map(v -> -v).toArray();
      double ours = BinaryMetrics.auc(score, t.label());
      double spark = new BinaryClassificationEvaluator().setMetricName("areaUnderROC")
          .setRawPredictionCol("score").setLabelCol(PublicDatasets.LABEL)
          .evaluate(df.withColumn("score", functions.negate(functions.col(feature))));
      assertEquals(spark, ours, 1e-12, feature);
      assertTrue(ours > 0.7, feature + ": " + ours);
    }
    long zeros = Arrays.stream(t.column("mean_concavity")).filter(v -> v == 0).count();
    assertTrue(zeros > 1, "mean_concavity has ties at 0 (" + zeros + ")");
  }

  private static void assertShape(Table t, int rows, int columns) {
    assertEquals(rows, t.rowCount(), "rows");
    assertEquals(rows, t.rows().length, "rows");
    assertEquals(rows, t.label().length, "labels");
    assertEquals(columns, t.columns().length, "columns");
    for (double[] row : t.rows()) {
      assertEquals(columns, row.length);
    }
    assertEquals(columns, Arrays.stream(t.columns()).distinct().count(), "distinct names");
  }

  private static long positives(Table t) {
    return Arrays.stream(t.label()).filter(v -> v == 1.0).count();
  }
}
