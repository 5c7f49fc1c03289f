package org.sparkmpc.spark.table;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.DayTimeIntervalType;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;
import org.apache.spark.sql.types.YearMonthIntervalType;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Builds the codes and dictionary of one public column on the owner's side, from rows or from whole
 * column vectors. Codes are given in order of first occurrence (a {@code null} is a value like any
 * other), so the dictionary is the same whichever way the rows arrive.
 *
 * <p>Strings are looked up by their UTF-8 bytes in an open-addressing table, primitive values by
 * their bits in another ({@code double} and {@code float} by {@code doubleToLongBits} /
 * {@code floatToIntBits}, the equality of {@link Double#equals}); a value is boxed or copied only
 * when it is new. Other atomic types (decimals, binaries) go through a map of Spark internal values.
 */
public final class PublicEncoder {
  private enum Kind { STRING, INT, LONG, SHORT, BYTE, BOOLEAN, DOUBLE, FLOAT, OTHER }

  private final DataType type;
  private final Kind kind;
  private final ArrayList<Object> values = new ArrayList<>();
  private int nullCode = -1;
  // Open addressing: slot -> code + 1 (0: empty); keys by kind.
  private int[] slots = new int[64];
  private long[] longKeys;
  private UTF8String[] stringKeys;
  private Map<Object, Integer> other;
  private int[] codes = new int[1024];
  private int n;

  public PublicEncoder(DataType type) {
    this.type = type;
    this.kind = kindOf(type);
    if (kind == Kind.STRING) {
      stringKeys = new UTF8String[slots.length];
    } else if (kind == Kind.OTHER) {
      other = new HashMap<>();
    } else {
      longKeys = new long[slots.length];
    }
  }

  private static Kind kindOf(DataType t) {
    if (t instanceof StringType) {
      return Kind.STRING;
    } else if (t instanceof IntegerType || t instanceof DateType
        || t instanceof YearMonthIntervalType) {
      return Kind.INT;
    } else if (t instanceof LongType || t instanceof TimestampType
        || t instanceof TimestampNTZType || t instanceof DayTimeIntervalType) {
      return Kind.LONG;
    } else if (t instanceof ShortType) {
      return Kind.SHORT;
    } else if (t instanceof ByteType) {
      return Kind.BYTE;
    } else if (t instanceof BooleanType) {
      return Kind.BOOLEAN;
    } else if (t instanceof DoubleType) {
      return Kind.DOUBLE;
    } else if (t instanceof FloatType) {
      return Kind.FLOAT;
    }
    return Kind.OTHER;
  }

  /** Append the value at {@code ordinal} of {@code row}. */
  public void add(InternalRow row, int ordinal) {
    ensure(1);
    int code;
    if (row.isNullAt(ordinal)) {
      code = nullCode();
    } else {
      code = switch (kind) {
        case STRING -> stringCode(row.getUTF8String(ordinal));
        case INT -> longCode(row.getInt(ordinal));
        case LONG -> longCode(row.getLong(ordinal));
        case SHORT -> longCode(row.getShort(ordinal));
        case BYTE -> longCode(row.getByte(ordinal));
        case BOOLEAN -> longCode(row.getBoolean(ordinal) ? 1 : 0);
        case DOUBLE -> longCode(Double.doubleToLongBits(row.getDouble(ordinal)));
        case FLOAT -> longCode(Float.floatToIntBits(row.getFloat(ordinal)));
        case OTHER -> otherCode(row.get(ordinal, type));
      };
    }
    codes[n++] = code;
  }

  /**
   * Append rows {@code [0, rows)} of column vector {@code v}, one typed loop per batch (each loop
   * a small method of its own, which the JIT compiles and inlines well).
   */
  public void add(ColumnVector v, int rows) {
    ensure(rows);
    boolean nulls = v.hasNull();
    switch (kind) {
      case STRING -> addStrings(v, rows, nulls);
      case INT -> addInts(v, rows, nulls);
      case LONG -> addLongs(v, rows, nulls);
      case DOUBLE -> addDoubles(v, rows, nulls);
      default -> addOthers(v, rows, nulls);
    }
    n += rows;
  }

  private void addStrings(ColumnVector v, int rows, boolean nulls) {
    int[] cs = codes;
    int o = n;
    for (int i = 0; i < rows; i++) {
      cs[o + i] = nulls && v.isNullAt(i) ? nullCode() : stringCode(v.getUTF8String(i));
    }
  }

  private void addInts(ColumnVector v, int rows, boolean nulls) {
    int[] cs = codes;
    int o = n;
    for (int i = 0; i < rows; i++) {
      cs[o + i] = nulls && v.isNullAt(i) ? nullCode() : longCode(v.getInt(i));
    }
  }

  private void addLongs(ColumnVector v, int rows, boolean nulls) {
    int[] cs = codes;
    int o = n;
    for (int i = 0; i < rows; i++) {
      cs[o + i] = nulls && v.isNullAt(i) ? nullCode() : longCode(v.getLong(i));
    }
  }

  private void addDoubles(ColumnVector v, int rows, boolean nulls) {
    int[] cs = codes;
    int o = n;
    for (int i = 0; i < rows; i++) {
      cs[o + i] = nulls && v.isNullAt(i) ? nullCode()
          : longCode(Double.doubleToLongBits(v.getDouble(i)));
    }
  }

  private void addOthers(ColumnVector v, int rows, boolean nulls) {
    int[] cs = codes;
    int o = n;
    for (int i = 0; i < rows; i++) {
      cs[o + i] = nulls && v.isNullAt(i) ? nullCode() : switch (kind) {
        case SHORT -> longCode(v.getShort(i));
        case BYTE -> longCode(v.getByte(i));
        case BOOLEAN -> longCode(v.getBoolean(i) ? 1 : 0);
        case FLOAT -> longCode(Float.floatToIntBits(v.getFloat(i)));
        default -> otherCode(value(v, i));
      };
    }
  }

  private Object value(ColumnVector v, int i) {
    if (type instanceof DecimalType d) {
      return v.getDecimal(i, d.precision(), d.scale());
    } else if (type instanceof BinaryType) {
      return v.getBinary(i);
    }
    throw new IllegalStateException("public column type " + type.simpleString()
        + " cannot be read from column vectors");
  }

  /** Whether {@link #add(ColumnVector, int)} reads columns of this type. */
  public static boolean readsVectors(DataType t) {
    return kindOf(t) != Kind.OTHER || t instanceof DecimalType || t instanceof BinaryType;
  }

  private void ensure(int more) {
    if (n + more > codes.length) {
      codes = Arrays.copyOf(codes, Math.max(codes.length * 2, n + more));
    }
  }

  private int nullCode() {
    if (nullCode < 0) {
      nullCode = values.size();
      values.add(null);
    }
    return nullCode;
  }

  private static int mix(long h) {
    h *= 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32));
  }

  /** Codes + 1 of the keys in {@code [0, SMALL)}, looked up directly (no hash, no probe). */
  private static final int SMALL = 1024;
  private int[] small;

  private int longCode(long key) {
    if ((key & ~(SMALL - 1L)) == 0 && small != null) {
      int c = small[(int) key];
      if (c != 0) {
        return c - 1;
      }
    }
    return hashedLongCode(key);
  }

  private int hashedLongCode(long key) {
    int mask = slots.length - 1;
    int s = mix(key) & mask;
    while (true) {
      int c = slots[s];
      if (c == 0) {
        return newLong(key, s);
      }
      if (longKeys[s] == key) {
        return c - 1;
      }
      s = (s + 1) & mask;
    }
  }

  private int newLong(long key, int s) {
    int code = values.size();
    values.add(box(key));
    slots[s] = code + 1;
    longKeys[s] = key;
    if ((key & ~(SMALL - 1L)) == 0) {
      if (small == null) {
        small = new int[SMALL];
      }
      small[(int) key] = code + 1;
    }
    growIfFull();
    return code;
  }

  private int stringCode(UTF8String key) {
    int mask = slots.length - 1;
    int s = mix(key.hashCode()) & mask;
    while (true) {
      int c = slots[s];
      if (c == 0) {
        return newString(key, s);
      }
      if (stringKeys[s].equals(key)) {
        return c - 1;
      }
      s = (s + 1) & mask;
    }
  }

  private int newString(UTF8String key, int s) {
    UTF8String kept = key.copy(); // input buffers are reused
    int code = values.size();
    values.add(kept);
    slots[s] = code + 1;
    stringKeys[s] = kept;
    growIfFull();
    return code;
  }

  private int otherCode(Object v) {
    Integer code = other.get(v);
    if (code == null) {
      code = values.size();
      values.add(v);
      other.put(v, code);
    }
    return code;
  }

  /** The Spark internal value of a primitive key, boxed once per distinct value. */
  private Object box(long key) {
    return switch (kind) {
      case INT -> (int) key;
      case LONG -> key;
      case SHORT -> (short) key;
      case BYTE -> (byte) key;
      case BOOLEAN -> key != 0;
      case DOUBLE -> Double.longBitsToDouble(key);
      case FLOAT -> Float.intBitsToFloat((int) key);
      default -> throw new IllegalStateException("not a primitive kind: " + kind);
    };
  }

  private void growIfFull() {
    int used = values.size() - (nullCode >= 0 ? 1 : 0);
    if (used * 2 > slots.length) {
      rehash(slots.length * 2);
    }
  }

  private void rehash(int size) {
    int[] oldSlots = slots;
    long[] oldLong = longKeys;
    UTF8String[] oldString = stringKeys;
    slots = new int[size];
    int mask = slots.length - 1;
    if (oldString != null) {
      stringKeys = new UTF8String[slots.length];
    } else {
      longKeys = new long[slots.length];
    }
    for (int i = 0; i < oldSlots.length; i++) {
      if (oldSlots[i] == 0) {
        continue;
      }
      int s = (oldString != null ? mix(oldString[i].hashCode()) : mix(oldLong[i])) & mask;
      while (slots[s] != 0) {
        s = (s + 1) & mask;
      }
      slots[s] = oldSlots[i];
      if (oldString != null) {
        stringKeys[s] = oldString[i];
      } else {
        longKeys[s] = oldLong[i];
      }
    }
  }

  /** Rows added so far. */
  public int rows() {
    return n;
  }

  public int[] codes() {
    return Arrays.copyOf(codes, n);
  }

  /** The distinct values (Spark internal values; {@code null} allowed), in order of first use. */
  public Object[] dictionary() {
    return values.toArray();
  }
}
