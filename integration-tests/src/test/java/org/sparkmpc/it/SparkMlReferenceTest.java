package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.sparkmpc.spark.ml.NormalEquations;

class SparkMlReferenceTest {
  private static final int ROWS = 2_000;

  @Test
  void matchesTheNormalEquationsOnPooledData() {
    SplittableRandom random = new SplittableRandom(20_260_521L);
    double[][] x = new double[ROWS][3];
    double[] y = new double[ROWS];
    List<Row> rows = new ArrayList<>(ROWS);
    for (int i = 0; i < ROWS; i++) {
      for (int j = 0; j < 3; j++) {
        x[i][j] = random.nextGaussian();
      }
      y[i] = 1.5 * x[i][0] - 2.0 * x[i][1] + 0.5 * x[i][2] + 3.0 + 0.1 * random.nextGaussian();
      rows.add(RowFactory.create(x[i][0], x[i][1], x[i][2], y[i]));
    }
    StructType schema = new StructType()
        .add("x1", DataTypes.DoubleType, false).add("x2", DataTypes.DoubleType, false)
        .add("x3", DataTypes.DoubleType, false).add("y", DataTypes.DoubleType, false);
    Dataset<Row> joined = PlaintextSpark.get().createDataFrame(rows, schema);

    SparkMlReference.Fit fit =
        SparkMlReference.fit(joined, new String[] {"x1", "x2", "x3"}, "y");

    // XᵀX and Xᵀy with a leading intercept column of ones.
    double[][] g = new double[4][4];
    double[] b = new double[4];
    for (int i = 0; i < ROWS; i++) {
      double[] row = {1.0, x[i][0], x[i][1], x[i][2]};
      for (int r = 0; r < 4; r++) {
        b[r] += row[r] * y[i];
        for (int c = 0; c < 4; c++) {
          g[r][c] += row[r] * row[c];
        }
      }
    }
    double[] w = NormalEquations.solve(g, b);

    assertEquals(3, fit.coefficients().length);
    assertEquals(w[0], fit.intercept(), 1e-6, "intercept");
    for (int j = 0; j < 3; j++) {
      assertEquals(w[j + 1], fit.coefficients()[j], 1e-6, "coefficient of x" + (j + 1));
    }
    assertTrue(fit.r2() > 0.99, "r2 = " + fit.r2());
    assertTrue(fit.millis() >= 0);
  }
}
