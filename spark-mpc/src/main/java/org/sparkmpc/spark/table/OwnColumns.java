package org.sparkmpc.spark.table;

import java.util.Arrays;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.sparkmpc.ring.FixedPoint;

/**
 * The owner's rows of one partition, read for sharing: the secret columns in their ring encoding
 * (integral types exactly, others in fixed point) and the public columns dictionary-coded. Spark's
 * columnar batches are read column by column in typed loops; rows, where the input gives no
 * batches, field by field with typed getters. Nothing is boxed per row.
 */
final class OwnColumns {
  private final int[] secretOrd;
  private final DataType[] secretTypes;
  private final String[] names;
  private final int[] publicOrd;
  private final PublicEncoder[] enc;
  private final FixedPoint fp;
  private final String self;
  private long[][] secret;
  private int n;

  OwnColumns(HorizontalShare.Layout layout, String self) {
    int k = layout.secretOrdinals.size();
    this.secretOrd = layout.secretOrdinals.stream().mapToInt(Integer::intValue).toArray();
    this.secretTypes = layout.secretTypes.toArray(new DataType[0]);
    this.names = layout.secretNames.toArray(new String[0]);
    this.publicOrd = layout.publicOrdinals.stream().mapToInt(Integer::intValue).toArray();
    this.enc = new PublicEncoder[publicOrd.length];
    for (int c = 0; c < enc.length; c++) {
      enc[c] = new PublicEncoder(layout.publicTypes.get(c));
    }
    this.fp = new FixedPoint(layout.scaleBits);
    this.self = self;
    this.secret = new long[k][1024];
  }

  /**
   * The input as Spark's columnar batches, where it is a single scan that produces them (a cached
   * table's scan, a vectorised Parquet or ORC scan) and every column can be read from vectors; else
   * {@code null}, and the input is read as rows. The scan is taken from the physical plan before
   * Spark's preparations (adaptive execution would wrap it for row output); a leaf without
   * subqueries needs none of them.
   */
  static RDD<ColumnarBatch> batches(Dataset<?> input, HorizontalShare.Layout layout) {
    for (DataType t : layout.publicTypes) {
      if (!PublicEncoder.readsVectors(t)) {
        return null;
      }
    }
    SparkPlan p = input.queryExecution().sparkPlan();
    if (!p.children().isEmpty() || !p.subqueries().isEmpty() || !p.supportsColumnar()
        || !p.schema().equals(input.schema())) {
      return null;
    }
    return p.executeColumnar();
  }

  /** Append every row of a batch, one typed loop per column. */
  void add(ColumnarBatch b) {
    int rows = b.numRows();
    ensure(rows);
    for (int c = 0; c < secret.length; c++) {
      readSecret(b.column(secretOrd[c]), rows, c);
    }
    for (int c = 0; c < enc.length; c++) {
      enc[c].add(b.column(publicOrd[c]), rows);
    }
    n += rows;
  }

  private void readSecret(ColumnVector v, int rows, int c) {
    if (v.hasNull()) {
      for (int i = 0; i < rows; i++) {
        if (v.isNullAt(i)) {
          throw HorizontalShare.nullIn(names[c], self);
        }
      }
    }
    long[] dst = secret[c];
    int o = n;
    DataType t = secretTypes[c];
    String name = names[c];
    if (t instanceof IntegerType) {
      for (int i = 0; i < rows; i++) {
        dst[o + i] = v.getInt(i);
      }
    } else if (t instanceof LongType) {
      for (int i = 0; i < rows; i++) {
        dst[o + i] = v.getLong(i);
      }
    } else if (t instanceof ShortType) {
      for (int i = 0; i < rows; i++) {
        dst[o + i] = v.getShort(i);
      }
    } else if (t instanceof ByteType) {
      for (int i = 0; i < rows; i++) {
        dst[o + i] = v.getByte(i);
      }
    } else if (t instanceof FloatType) {
      for (int i = 0; i < rows; i++) {
        dst[o + i] = fp.encode((double) v.getFloat(i), name);
      }
    } else if (t instanceof DecimalType d) {
      for (int i = 0; i < rows; i++) {
        dst[o + i] = fp.encode(v.getDecimal(i, d.precision(), d.scale()).toDouble(), name);
      }
    } else if (t instanceof DoubleType) {
      for (int i = 0; i < rows; i++) {
        dst[o + i] = fp.encode(v.getDouble(i), name);
      }
    } else {
      throw new IllegalStateException("secret column type " + t.simpleString());
    }
  }

  /** Append one row, field by field. */
  void add(InternalRow r) {
    ensure(1);
    for (int c = 0; c < secret.length; c++) {
      int ord = secretOrd[c];
      if (r.isNullAt(ord)) {
        throw HorizontalShare.nullIn(names[c], self);
      }
      secret[c][n] = HorizontalShare.OwnerTask.encode(r, ord, secretTypes[c], fp, names[c]);
    }
    for (int c = 0; c < enc.length; c++) {
      enc[c].add(r, publicOrd[c]);
    }
    n++;
  }

  private void ensure(int more) {
    if (secret.length > 0 && n + more > secret[0].length) {
      int cap = Math.max(secret[0].length * 2, n + more);
      for (int c = 0; c < secret.length; c++) {
        secret[c] = Arrays.copyOf(secret[c], cap);
      }
    }
  }

  int rows() {
    return n;
  }

  /** The ring encoding of secret column {@code c}, exactly {@link #rows()} long. */
  long[] secret(int c) {
    return Arrays.copyOf(secret[c], n);
  }

  int[][] codes() {
    int[][] codes = new int[enc.length][];
    for (int c = 0; c < enc.length; c++) {
      codes[c] = enc[c].codes();
    }
    return codes;
  }

  Object[][] dictionaries() {
    Object[][] dicts = new Object[enc.length][];
    for (int c = 0; c < enc.length; c++) {
      dicts[c] = enc[c].dictionary();
    }
    return dicts;
  }
}
