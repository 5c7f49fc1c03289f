package org.sparkmpc.spark.catalyst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.Test;
import org.sparkmpc.spark.table.SharePartition;

/** The columnar scan of a secure table gives, row for row, what the row scan gives. */
class ColumnarScanTest {

  private static List<SharePartition> partitions() {
    List<SharePartition> parts = new ArrayList<>();
    for (int p = 0; p < 3; p++) {
      int n = p == 1 ? 0 : 4096 * 2 + 17 * (p + 1); // an empty partition, and partial batches
      long[] a = new long[n];
      long[] b = new long[n];
      int[] region = new int[n];
      int[] price = new int[n];
      for (int i = 0; i < n; i++) {
        a[i] = (i * 0x9E3779B97F4A7C15L) ^ p;
        b[i] = -i;
        region[i] = i % 3;
        price[i] = i % 2;
      }
      parts.add(new SharePartition(n, new long[][] {a, b}, new int[][] {region, price},
          new Object[][] {{UTF8String.fromString("north"), null, UTF8String.fromString("s")},
              {Decimal.apply("12.50"), null}}));
    }
    return parts;
  }

  @Test
  void columnarScanEqualsRowScan() {
    // Output order mixes secure and public columns: price, a, region, b.
    boolean[] secure = {false, true, false, true};
    int[] index = {1, 0, 0, 1};
    DataType[] types = {DataTypes.createDecimalType(10, 2), DataTypes.LongType,
        DataTypes.StringType, DataTypes.LongType};
    Iterator<InternalRow> rows = SecureTableScanExec.toRows(partitions().iterator(), secure, index,
        types, new SQLMetric("sum", 0L));
    Iterator<ColumnarBatch> batches = SecureTableScanExec.toBatches(partitions().iterator(), secure,
        index, types, new SQLMetric("sum", 0L));
    UnsafeProjection copy = UnsafeProjection.create(types);
    int seen = 0;
    int batchCount = 0;
    while (batches.hasNext()) {
      ColumnarBatch b = batches.next();
      batchCount++;
      Iterator<InternalRow> it = b.rowIterator();
      while (it.hasNext()) {
        InternalRow fromBatch = copy.apply(it.next());
        InternalRow fromRows = rows.next();
        assertEquals(fromRows, fromBatch, "row " + seen);
        seen++;
      }
    }
    assertFalse(rows.hasNext());
    assertEquals(2 * (4096 * 2) + 17 + 51, seen);
    assertEquals(2, batchCount); // one batch per non-empty partition
    assertEquals(DecimalType.class, types[0].getClass());
  }
}
