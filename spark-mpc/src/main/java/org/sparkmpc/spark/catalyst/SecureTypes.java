package org.sparkmpc.spark.catalyst;

import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;

/** Which Spark types a party may share, and how. */
public final class SecureTypes {
  private SecureTypes() {}

  /** Integral types are shared exactly, at scale 0. */
  public static boolean isIntegral(DataType t) {
    return t instanceof ByteType || t instanceof ShortType || t instanceof IntegerType
        || t instanceof LongType;
  }

  /** Fractional types are shared in fixed point at the configured scale. */
  public static boolean isFractional(DataType t) {
    return t instanceof FloatType || t instanceof DoubleType || t instanceof DecimalType;
  }

  /**
   * The bound {@code |encoded| < 2^bits} a column of type {@code t} satisfies by its type alone:
   * the integer range of integral types, the fixed-point range otherwise.
   */
  public static int typeBits(DataType t, int scaleBits) {
    if (t instanceof ByteType) {
      return 7;
    } else if (t instanceof ShortType) {
      return 15;
    } else if (t instanceof IntegerType) {
      return 31;
    }
    return 63;
  }

  /**
   * Why {@code schema} may not be shared by {@code party}, or null: a column that is, or holds, a
   * share (of a secure table, or computed from one) would cross to the peers as a public value or be
   * shared again, and either lets a party collect every share of a value. Only columns in
   * {@code used} are looked at (null: all).
   */
  public static String sharesIn(org.apache.spark.sql.types.StructType schema,
      java.util.Collection<String> used, String party, String caller) {
    for (org.apache.spark.sql.types.StructField f : schema.fields()) {
      if ((used == null || used.contains(f.name()))
          && org.sparkmpc.spark.types.ShareType.holdsShares(f.dataType())) {
        return caller + ": column '" + f.name() + "' of party " + party + " holds shares of a "
            + "secure table (type " + f.dataType().simpleString() + "); shares are never shared "
            + "again or sent as public values: query the secure table itself, or reveal first";
      }
    }
    return null;
  }

  public static boolean isShareable(DataType t) {
    return isIntegral(t) || isFractional(t);
  }
}
