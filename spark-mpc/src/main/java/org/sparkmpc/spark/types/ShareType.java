package org.sparkmpc.spark.types;

import java.math.BigDecimal;
import java.util.Objects;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.UserDefinedType;

/**
 * The Spark type of a secure column: this party's additive share (a ring element of Z(2^64), stored
 * as a {@code long}) of a value that no party sees.
 *
 * <p>Because a share has a type of its own, Spark's analyzer itself refuses arithmetic, numeric
 * aggregates, casts to numbers and typed UDFs on it, and no alias, metadata change or schema rewrite
 * can turn it into a number: the type travels with the attribute. What Spark would still accept on a
 * user-defined type (equality, ordering, hashing, casts to string, generic collections) is refused by
 * {@code SecureCheckRule}; only the operators of the secure-operator registry consume it.
 *
 * <p>The type carries public facts about the column, the same at every party:
 * <ul>
 *   <li>{@code scale}: fixed-point scale in bits (0 for integers);
 *   <li>{@code integral}: whether the plaintext is an integer ({@code BIGINT} when revealed) or a
 *       real ({@code DOUBLE});
 *   <li>{@code table}: the secure table the column belongs to;
 *   <li>{@code factor}: a public constant the value is multiplied by when decoded (1 for a column);
 *   <li>{@code bits}: a public bound on the magnitude of every encoded value, {@code |v| < 2^bits},
 *       which the wrap checks of sums and products use.
 * </ul>
 */
public final class ShareType extends UserDefinedType<Share> {
  private static final long serialVersionUID = 1L;

  private final int scale;
  private final boolean integral;
  private final String table;
  private final String factor;
  private final int bits;

  /** The type as Spark instantiates it by reflection (for the {@link Share} user class). */
  public ShareType() {
    this(0, true, "?", "1", 63);
  }

  public ShareType(int scale, boolean integral, String table, String factor, int bits) {
    if (scale < 0 || bits < 0 || bits > 127) {
      throw new IllegalArgumentException("share type: scale " + scale + ", bits " + bits);
    }
    this.scale = scale;
    this.integral = integral;
    this.table = Objects.requireNonNull(table);
    this.factor = Objects.requireNonNull(factor);
    this.bits = bits;
  }

  /** A column of secure table {@code table}. */
  public static ShareType column(int scale, boolean integral, String table, int bits) {
    return new ShareType(scale, integral, table, "1", bits);
  }

  public int scale() {
    return scale;
  }

  public boolean integral() {
    return integral;
  }

  public String table() {
    return table;
  }

  public String factor() {
    return factor;
  }

  public int bits() {
    return bits;
  }

  /** The same column at another scale, plaintext kind, factor and bound. */
  public ShareType with(int newScale, boolean newIntegral, String newFactor, int newBits) {
    return new ShareType(newScale, newIntegral, table, newFactor, Math.min(127, newBits));
  }

  /** The same column, as a column of secure table {@code id}. */
  public ShareType inTable(String id) {
    return new ShareType(scale, integral, id, factor, bits);
  }

  /** The Spark type a revealed value of this column has. */
  public DataType revealedType() {
    return integral ? DataTypes.LongType : DataTypes.DoubleType;
  }

  /**
   * The plaintext of an opened value {@code v} (the exact integer the shares add up to): scaled back
   * by the fixed-point scale, times the public factor, divided by {@code divisor} (the group size of
   * an average). Integral sums stay exact; a {@code BIGINT} result that does not fit fails.
   */
  public Object decode(java.math.BigInteger v, long divisor, String column) {
    if (integral && divisor == 1) {
      java.math.BigInteger r = v.multiply(new BigDecimal(factor).toBigIntegerExact());
      if (r.bitLength() > 63) {
        throw new org.sparkmpc.MpcInputException("the opened value of '" + column
            + "' does not fit in a BIGINT; Spark's own SUM would overflow too (cast the column "
            + "to DOUBLE before sharing)");
      }
      return r.longValue();
    }
    return new BigDecimal(v).multiply(new BigDecimal(factor))
        .divide(new BigDecimal(divisor).multiply(new BigDecimal(java.math.BigInteger.ONE
            .shiftLeft(scale))), java.math.MathContext.DECIMAL64).doubleValue();
  }

  /** {@link #decode(java.math.BigInteger, long, String)} of a value that fits in a long. */
  public Object decode(long v, long divisor, String column) {
    if (integral && divisor == 1 && factor.equals("1")) {
      return v;
    }
    if (!integral && factor.equals("1")) {
      return Math.scalb((double) v, -scale) / divisor;
    }
    return decode(java.math.BigInteger.valueOf(v), divisor, column);
  }

  @Override
  public DataType sqlType() {
    return DataTypes.LongType;
  }

  @Override
  public Object serialize(Share s) {
    return s.value;
  }

  @Override
  public Share deserialize(Object datum) {
    return new Share((Long) datum);
  }

  @Override
  public Class<Share> userClass() {
    return Share.class;
  }

  @Override
  public String stringifyValue(Object obj) {
    return "share";
  }

  @Override
  public String sql() {
    return "SHARE";
  }

  @Override
  public String catalogString() {
    return simpleString();
  }

  @Override
  public String simpleString() {
    return "share<" + (integral ? "bigint" : "double") + (scale > 0 ? "@2^" + scale : "") + ">";
  }

  @Override
  public ShareType asNullable() {
    return this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ShareType t && t.scale == scale && t.integral == integral
        && t.table.equals(table) && t.factor.equals(factor) && t.bits == bits;
  }

  @Override
  public int hashCode() {
    return Objects.hash(scale, integral, table, factor, bits);
  }

  /** Whether {@code t} is or contains (in a struct, array or map) a share. */
  public static boolean holdsShares(DataType t) {
    return t.existsRecursively(x -> x instanceof ShareType);
  }
}
