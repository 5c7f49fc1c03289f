package org.sparkmpc.spark;

import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructField;

/**
 * How a secure column is marked in Spark: a {@code LongType} column whose field metadata says it
 * holds this party's additive shares, at which fixed-point scale, of which plaintext type, and in
 * which secure table. Metadata travels with attributes through analysis and optimisation, which is
 * how the rules recognise secure columns.
 */
public final class SecureColumns {
  private SecureColumns() {}

  public static final String SHARE = "mpc.share";
  public static final String SCALE = "mpc.scale";
  public static final String PLAIN_TYPE = "mpc.plainType";
  public static final String TABLE = "mpc.table";
  /** A public constant the shared value is to be multiplied by when it is decoded. */
  public static final String FACTOR = "mpc.factor";

  /** Metadata of a share column. {@code plainType} is {@code long} or {@code double}. */
  public static Metadata metadata(int scaleBits, String plainType, String table) {
    return new MetadataBuilder().putBoolean(SHARE, true).putLong(SCALE, scaleBits)
        .putString(PLAIN_TYPE, plainType).putString(TABLE, table).build();
  }

  public static boolean isSecure(Metadata m) {
    return m != null && m.contains(SHARE) && m.getBoolean(SHARE);
  }

  public static boolean isSecure(Attribute a) {
    return isSecure(a.metadata());
  }

  public static boolean isSecure(StructField f) {
    return isSecure(f.metadata());
  }

  public static int scale(Metadata m) {
    return (int) m.getLong(SCALE);
  }

  public static String plainType(Metadata m) {
    return m.getString(PLAIN_TYPE);
  }

  public static String table(Metadata m) {
    return m.contains(TABLE) ? m.getString(TABLE) : "?";
  }

  /** The Spark type a revealed value of this column has. */
  public static DataType revealedType(Metadata m) {
    return "long".equals(plainType(m)) ? DataTypes.LongType : DataTypes.DoubleType;
  }
}
