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

  public static boolean isShareable(DataType t) {
    return isIntegral(t) || isFractional(t);
  }
}
