package org.sparkmpc.spark.dp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.sparkmpc.MpcInputException;

/** Clipping at the owner: values clamped, type kept, null and NaN left for share() to refuse. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClipBoundsTest {
  SparkSession spark;

  @BeforeAll
  void start() {
    spark = SparkSession.builder().master("local[1]").appName("clip-bounds")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .getOrCreate();
  }

  @AfterAll
  void stop() {
    spark.stop();
  }

  @Test
  void valuesAreClampedNullAndNanStayAndTheBoundsRideOnTheColumn() {
    Dataset<Row> rows = spark.sql("SELECT * FROM VALUES (1, -5.0, 3), (2, 7.5, 900), "
        + "(3, CAST('NaN' AS DOUBLE), -2), (4, NULL, NULL), (5, 1.0E300, 50) AS t(id, x, n)");
    Dataset<Row> clipped = ClipBounds.clip(ClipBounds.clip(rows, "x", 0, 5), "n", 0, 100);
    assertEquals(DataTypes.DoubleType, clipped.schema().apply("x").dataType());
    assertEquals(DataTypes.IntegerType, clipped.schema().apply("n").dataType());
    assertArrayEquals(new double[] {0, 5}, ClipBounds.declared(clipped.schema(), "x"));
    assertNull(ClipBounds.declared(clipped.schema(), "id"));
    List<Row> got = clipped.orderBy("id").collectAsList();
    assertEquals(0.0, got.get(0).getDouble(1));
    assertEquals(5.0, got.get(1).getDouble(1));
    assertTrue(Double.isNaN(got.get(2).getDouble(1)), "a NaN is not clamped into a number");
    assertTrue(got.get(3).isNullAt(1));
    assertEquals(5.0, got.get(4).getDouble(1));
    assertEquals(3, got.get(0).getInt(2));
    assertEquals(100, got.get(1).getInt(2));
    assertEquals(0, got.get(2).getInt(2));
    assertTrue(got.get(3).isNullAt(2));
  }

  @Test
  void badBoundsAndColumnsAreRefusedByName() {
    Dataset<Row> rows = spark.sql("SELECT 1 AS n, 'a' AS s, 2.5 AS x");
    assertTrue(assertThrows(MpcInputException.class, () -> ClipBounds.clip(rows, "s", 0, 1))
        .getMessage().contains("'s'"));
    assertTrue(assertThrows(MpcInputException.class, () -> ClipBounds.clip(rows, "n", 0.5, 3))
        .getMessage().contains("whole numbers"));
    assertTrue(assertThrows(MpcInputException.class, () -> ClipBounds.clip(rows, "x", 3, 3))
        .getMessage().contains("lo < hi"));
    assertTrue(assertThrows(MpcInputException.class,
        () -> ClipBounds.clip(rows, "x", 0, Double.POSITIVE_INFINITY)).getMessage()
        .contains("finite"));
    assertTrue(assertThrows(MpcInputException.class, () -> ClipBounds.clip(rows, "y", 0, 1))
        .getMessage().contains("no column 'y'"));
  }
}
