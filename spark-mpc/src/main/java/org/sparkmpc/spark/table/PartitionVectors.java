package org.sparkmpc.spark.table;

import org.apache.arrow.vector.BigIntVector;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarArray;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.apache.spark.sql.vectorized.ColumnarMap;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * A {@link SharePartition} seen as a Spark {@link ColumnarBatch}, without copying its shares: a
 * secure column is an {@link ArrowColumnVector} over the partition's own share vector (closing it
 * frees nothing: the partition owns the vector), a public column a view of its codes that decodes
 * through the dictionary.
 */
public final class PartitionVectors {
  private PartitionVectors() {}

  /**
   * The whole of {@code p} as one batch of the given columns.
   *
   * @param secure per output column, whether it is a secure column
   * @param index  per output column, its index among the secure or the public columns
   * @param types  per output column, its Spark type
   */
  public static ColumnarBatch batch(SharePartition p, boolean[] secure, int[] index,
      DataType[] types) {
    ColumnVector[] vs = new ColumnVector[secure.length];
    for (int f = 0; f < vs.length; f++) {
      vs[f] = secure[f] ? new Shares(p.shareVector(index[f]))
          : new Coded(types[f], p.codes(index[f]), p.dictionary(index[f]), 0, p.rows());
    }
    return new ColumnarBatch(vs, p.rows());
  }

  /**
   * A secure column: this party's shares, one {@code long} per row, in the partition's Arrow
   * vector. The batch borrows the vector; Spark closing the batch leaves it to the partition.
   */
  static final class Shares extends ArrowColumnVector {
    Shares(BigIntVector v) {
      super(v);
    }

    @Override
    public void close() {
      // borrowed: the partition frees its vectors
    }
  }

  /** A public column: codes into a dictionary of Spark internal values ({@code null} allowed). */
  static final class Coded extends ReadOnly {
    private final int[] codes;
    private final Object[] dictionary;
    private final int offset;
    private final int end;
    private final int nullCode;

    Coded(DataType type, int[] codes, Object[] dictionary, int offset, int end) {
      super(type);
      this.codes = codes;
      this.dictionary = dictionary;
      this.offset = offset;
      this.end = end;
      int nc = -1;
      for (int i = 0; i < dictionary.length; i++) {
        if (dictionary[i] == null) {
          nc = i;
        }
      }
      this.nullCode = nc;
    }

    private Object value(int row) {
      return dictionary[codes[offset + row]];
    }

    @Override
    public boolean hasNull() {
      return nullCode >= 0;
    }

    @Override
    public int numNulls() {
      if (nullCode < 0) {
        return 0;
      }
      int k = 0;
      for (int i = offset; i < end; i++) {
        k += codes[i] == nullCode ? 1 : 0;
      }
      return k;
    }

    @Override
    public boolean isNullAt(int row) {
      return codes[offset + row] == nullCode;
    }

    @Override
    public boolean getBoolean(int row) {
      return (Boolean) value(row);
    }

    @Override
    public byte getByte(int row) {
      return (Byte) value(row);
    }

    @Override
    public short getShort(int row) {
      return (Short) value(row);
    }

    @Override
    public int getInt(int row) {
      return (Integer) value(row);
    }

    @Override
    public long getLong(int row) {
      return (Long) value(row);
    }

    @Override
    public float getFloat(int row) {
      return (Float) value(row);
    }

    @Override
    public double getDouble(int row) {
      return (Double) value(row);
    }

    @Override
    public Decimal getDecimal(int row, int precision, int scale) {
      return (Decimal) value(row);
    }

    @Override
    public UTF8String getUTF8String(int row) {
      return (UTF8String) value(row);
    }

    @Override
    public byte[] getBinary(int row) {
      return (byte[]) value(row);
    }
  }

  /** A column of atomic values whose getters default to refusing. */
  private abstract static class ReadOnly extends ColumnVector {
    ReadOnly(DataType type) {
      super(type);
    }

    @Override
    public void close() {
      // a view: nothing to free
    }

    private UnsupportedOperationException unsupported() {
      return new UnsupportedOperationException("a " + type.simpleString()
          + " column of a secure table has no such value");
    }

    @Override
    public boolean getBoolean(int row) {
      throw unsupported();
    }

    @Override
    public byte getByte(int row) {
      throw unsupported();
    }

    @Override
    public short getShort(int row) {
      throw unsupported();
    }

    @Override
    public int getInt(int row) {
      throw unsupported();
    }

    @Override
    public long getLong(int row) {
      throw unsupported();
    }

    @Override
    public float getFloat(int row) {
      throw unsupported();
    }

    @Override
    public double getDouble(int row) {
      throw unsupported();
    }

    @Override
    public ColumnarArray getArray(int row) {
      throw unsupported();
    }

    @Override
    public ColumnarMap getMap(int row) {
      throw unsupported();
    }

    @Override
    public Decimal getDecimal(int row, int precision, int scale) {
      throw unsupported();
    }

    @Override
    public UTF8String getUTF8String(int row) {
      throw unsupported();
    }

    @Override
    public byte[] getBinary(int row) {
      throw unsupported();
    }

    @Override
    public ColumnVector getChild(int ordinal) {
      throw unsupported();
    }
  }
}
