package org.sparkmpc.spark;

import java.util.Optional;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.sparkmpc.spark.types.ShareType;

/**
 * How the rules recognise secure columns: by their Spark type, {@link ShareType}, which no alias or
 * metadata change can remove. A column whose type merely contains a share (a struct or an array of
 * shares) counts as secure too.
 */
public final class SecureColumns {
  private SecureColumns() {}

  /** Whether {@code a} is, or holds, a share. */
  public static boolean isSecure(Attribute a) {
    return ShareType.holdsShares(a.dataType());
  }

  public static boolean isSecure(StructField f) {
    return ShareType.holdsShares(f.dataType());
  }

  /** The share type of a secure column (a plain share, not one nested in a struct). */
  public static ShareType type(Attribute a) {
    if (!(a.dataType() instanceof ShareType t)) {
      throw new IllegalStateException("column '" + a.name() + "' is not a plain secure column");
    }
    return t;
  }

  /** The first field of {@code schema} that is or holds a share. */
  public static Optional<StructField> firstSecure(StructType schema) {
    for (StructField f : schema.fields()) {
      if (isSecure(f)) {
        return Optional.of(f);
      }
    }
    return Optional.empty();
  }

  /** The Spark type a revealed value of {@code a} has. */
  public static DataType revealedType(Attribute a) {
    return type(a).revealedType();
  }
}
