package org.sparkmpc.spark.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.execution.vectorized.OnHeapColumnVector;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.Test;
import org.sparkmpc.MpcInputException;

/**
 * The owner's ingest: columnar batches and rows give the same ring encodings, codes and
 * dictionaries, and the dictionaries are those of a map of Spark internal values in order of first
 * occurrence (what the peers have always received).
 */
class OwnColumnsTest {
  private static final int ROWS = 5000;

  /** region STRING (public), amount DOUBLE (secret), items INT (secret), day LONG (public). */
  private static HorizontalShare.Layout layout() {
    HorizontalShare.Layout l = new HorizontalShare.Layout();
    l.publicOrdinals.add(0);
    l.publicTypes.add(DataTypes.StringType);
    l.secretOrdinals.add(1);
    l.secretTypes.add(DataTypes.DoubleType);
    l.secretNames.add("amount");
    l.wide.add(true);
    l.secretOrdinals.add(2);
    l.secretTypes.add(DataTypes.IntegerType);
    l.secretNames.add("items");
    l.wide.add(false);
    l.publicOrdinals.add(3);
    l.publicTypes.add(DataTypes.LongType);
    l.scaleBits = 16;
    return l;
  }

  private static Object[][] data(long seed) {
    Random r = new Random(seed);
    Object[][] rows = new Object[ROWS][];
    for (int i = 0; i < ROWS; i++) {
      // 700 regions: codes need two bytes and the open-addressing tables must grow several times
      UTF8String region = r.nextInt(50) == 0 ? null : UTF8String.fromString("r" + r.nextInt(700));
      Long day = r.nextInt(30) == 0 ? null : (long) r.nextInt(40) - 20;
      rows[i] = new Object[] {region, r.nextGaussian() * 1e4, r.nextInt(2000) - 1000, day};
    }
    return rows;
  }

  private static ColumnarBatch batch(Object[][] rows, int from, int to) {
    DataType[] types = {DataTypes.StringType, DataTypes.DoubleType, DataTypes.IntegerType,
        DataTypes.LongType};
    OnHeapColumnVector[] v = new OnHeapColumnVector[types.length];
    for (int c = 0; c < types.length; c++) {
      v[c] = new OnHeapColumnVector(to - from, types[c]);
    }
    for (int i = from; i < to; i++) {
      Object[] row = rows[i];
      int j = i - from;
      if (row[0] == null) {
        v[0].putNull(j);
      } else {
        byte[] b = ((UTF8String) row[0]).getBytes();
        v[0].putByteArray(j, b);
      }
      v[1].putDouble(j, (Double) row[1]);
      v[2].putInt(j, (Integer) row[2]);
      if (row[3] == null) {
        v[3].putNull(j);
      } else {
        v[3].putLong(j, (Long) row[3]);
      }
    }
    return new ColumnarBatch(v, to - from);
  }

  @Test
  void batchesAndRowsGiveTheSameEncodingAndDictionaries() {
    Object[][] rows = data(7);
    OwnColumns byRows = new OwnColumns(layout(), "bank1");
    for (Object[] r : rows) {
      byRows.add((InternalRow) new GenericInternalRow(r));
    }
    OwnColumns byBatches = new OwnColumns(layout(), "bank1");
    for (int from = 0; from < ROWS; from += 1024) {
      try (ColumnarBatch b = batch(rows, from, Math.min(ROWS, from + 1024))) {
        byBatches.add(b);
      }
    }
    assertEquals(ROWS, byRows.rows());
    assertEquals(ROWS, byBatches.rows());
    for (int c = 0; c < 2; c++) {
      assertArrayEquals(byRows.secret(c), byBatches.secret(c));
    }
    assertEquals(Math.round((Double) rows[17][1] * 65536), byBatches.secret(0)[17]);
    assertEquals((long) (Integer) rows[17][2], byBatches.secret(1)[17]);
    for (int p = 0; p < 2; p++) {
      assertArrayEquals(byRows.codes()[p], byBatches.codes()[p]);
      assertArrayEquals(byRows.dictionaries()[p], byBatches.dictionaries()[p]);
      // The reference: a map of Spark internal values, codes in order of first occurrence.
      Map<Object, Integer> index = new HashMap<>();
      List<Object> dict = new ArrayList<>();
      int[] codes = new int[ROWS];
      for (int i = 0; i < ROWS; i++) {
        Object v = rows[i][p == 0 ? 0 : 3];
        codes[i] = index.computeIfAbsent(v, k -> {
          dict.add(k);
          return dict.size() - 1;
        });
      }
      assertArrayEquals(codes, byBatches.codes()[p]);
      assertArrayEquals(dict.toArray(), byBatches.dictionaries()[p]);
    }
    assertTrue(byBatches.dictionaries()[0].length > 256);
  }

  @Test
  void aNullInASecretColumnFailsNamingTheColumnFromBatches() {
    OnHeapColumnVector[] v = {new OnHeapColumnVector(2, DataTypes.StringType),
        new OnHeapColumnVector(2, DataTypes.DoubleType),
        new OnHeapColumnVector(2, DataTypes.IntegerType),
        new OnHeapColumnVector(2, DataTypes.LongType)};
    v[0].putByteArray(0, "a".getBytes());
    v[0].putByteArray(1, "b".getBytes());
    v[1].putDouble(0, 1.5);
    v[1].putDouble(1, 2.5);
    v[2].putInt(0, 1);
    v[2].putNull(1);
    v[3].putLong(0, 1);
    v[3].putLong(1, 2);
    OwnColumns own = new OwnColumns(layout(), "bank2");
    try (ColumnarBatch b = new ColumnarBatch((ColumnVector[]) v, 2)) {
      MpcInputException e = assertThrows(MpcInputException.class, () -> own.add(b));
      assertTrue(e.getMessage().contains("'items'") && e.getMessage().contains("bank2"),
          e.getMessage());
    }
  }

  @Test
  void integerKeysInAndOutOfTheDirectRangeGetOneCodeEach() {
    PublicEncoder enc = new PublicEncoder(DataTypes.LongType);
    long[] keys = {5, -1, 1023, 1024, Long.MIN_VALUE, 5, 0, 1024, -1, 1023, 0, Long.MAX_VALUE};
    OnHeapColumnVector v = new OnHeapColumnVector(keys.length, DataTypes.LongType);
    for (int i = 0; i < keys.length; i++) {
      v.putLong(i, keys[i]);
    }
    enc.add(v, keys.length);
    org.junit.jupiter.api.Assertions.assertArrayEquals(
        new int[] {0, 1, 2, 3, 4, 0, 5, 3, 1, 2, 5, 6}, enc.codes());
    org.junit.jupiter.api.Assertions.assertArrayEquals(
        new Object[] {5L, -1L, 1023L, 1024L, Long.MIN_VALUE, 0L, Long.MAX_VALUE},
        enc.dictionary());
  }

  @Test
  void floatingKeysUseTheEqualityOfBoxedValues() {
    PublicEncoder enc = new PublicEncoder(DataTypes.DoubleType);
    OnHeapColumnVector v = new OnHeapColumnVector(5, DataTypes.DoubleType);
    double[] xs = {0.0, -0.0, Double.NaN, 0.0, Double.longBitsToDouble(0x7ff8000000000001L)};
    for (int i = 0; i < xs.length; i++) {
      v.putDouble(i, xs[i]);
    }
    enc.add(v, xs.length);
    v.close();
    // Double.equals: 0.0 and -0.0 differ; every NaN is the same key whatever its bits.
    assertArrayEquals(new int[] {0, 1, 2, 0, 2}, enc.codes());
    assertEquals(3, enc.dictionary().length);
  }
}
