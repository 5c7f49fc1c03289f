package org.sparkmpc.spark.dp;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.sparkmpc.MpcInputException;

/**
 * Clipping bounds of secure columns, the declared sensitivity of differentially private sums.
 * The owner clamps its own rows into {@code [lo, hi]} before sharing ({@link #clip}: local,
 * plaintext, no extra round), and the bounds ride on the column's metadata into
 * {@link org.sparkmpc.spark.SparkMpc#share}, which records them for the secure table. Every party
 * must declare the same bounds: they are part of the query the parties agree on.
 */
public final class ClipBounds {
  /** The metadata key that carries {@code "lo,hi"} on a clipped column. */
  public static final String KEY = "sparkmpc.dp.bounds";

  /** Bounds per secure table id and column; this party's own declarations. */
  private final Map<String, Map<String, double[]>> byTable = new ConcurrentHashMap<>();

  /**
   * {@code own} with its numeric column {@code column} clamped into {@code [lo, hi]} (nulls and
   * NaN stay, for {@code share} to refuse; the type stays) and tagged with the bounds. Bounds must be finite, {@code lo < hi}, and
   * whole numbers for an integral column.
   */
  public static Dataset<Row> clip(Dataset<Row> own, String column, double lo, double hi) {
    StructField field = field(own.schema(), column);
    DataType t = field.dataType();
    boolean integral = t == DataTypes.ByteType || t == DataTypes.ShortType
        || t == DataTypes.IntegerType || t == DataTypes.LongType;
    if (!integral && t != DataTypes.FloatType && t != DataTypes.DoubleType
        && !(t instanceof DecimalType)) {
      throw new MpcInputException("clip: column '" + column + "' is " + t.simpleString()
          + ", not numeric");
    }
    if (!Double.isFinite(lo) || !Double.isFinite(hi) || !(lo < hi)) {
      throw new MpcInputException("clip: bounds of column '" + column + "' must be finite with "
          + "lo < hi, were [" + lo + ", " + hi + "]");
    }
    if (integral && (lo != Math.rint(lo) || hi != Math.rint(hi))) {
      throw new MpcInputException("clip: column '" + column + "' is " + t.simpleString()
          + ", so its bounds must be whole numbers, were [" + lo + ", " + hi + "]");
    }
    Column c = functions.col(column);
    // Null and NaN stay as they are, so that share() refuses them naming the column: clamping
    // would turn a NaN into hi (Spark orders NaN above every number), a silently wrong value.
    Column keep = t == DataTypes.FloatType || t == DataTypes.DoubleType
        ? c.isNull().or(functions.isnan(c)) : c.isNull();
    Column clamped = functions.when(keep, c).otherwise(functions.greatest(
        functions.lit(lo).cast(t), functions.least(functions.lit(hi).cast(t), c))).cast(t);
    Metadata md = new MetadataBuilder().withMetadata(field.metadata())
        .putString(KEY, lo + "," + hi).build();
    return own.withColumn(column, clamped.as(column, md));
  }

  /** The bounds {@code schema} declares on {@code column}, or null. */
  public static double[] declared(StructType schema, String column) {
    Metadata md = field(schema, column).metadata();
    if (!md.contains(KEY)) {
      return null;
    }
    String[] p = md.getString(KEY).split(",");
    return new double[] {Double.parseDouble(p[0]), Double.parseDouble(p[1])};
  }

  /** Record the bounds {@code schema} declares on the shared {@code columns} of table {@code id}. */
  public void register(String id, StructType schema, List<String> columns) {
    Map<String, double[]> m = new ConcurrentHashMap<>();
    for (String c : columns) {
      double[] b = declared(schema, c);
      if (b != null) {
        m.put(c, b);
      }
    }
    if (!m.isEmpty()) {
      byTable.put(id, m);
    }
  }

  /** The bounds recorded for column {@code column} of secure table {@code id}, or null. */
  public double[] of(String id, String column) {
    Map<String, double[]> m = byTable.get(id);
    return m == null ? null : m.get(column);
  }

  /** Forget a dropped table's bounds. */
  public void forget(String id) {
    byTable.remove(id);
  }

  private static StructField field(StructType schema, String column) {
    for (StructField f : schema.fields()) {
      if (f.name().equals(column)) {
        return f;
      }
    }
    throw new MpcInputException("clip: no column '" + column + "'; the columns are "
        + java.util.Arrays.toString(schema.fieldNames()));
  }
}
