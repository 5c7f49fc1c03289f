package org.sparkmpc.spark.table;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.execution.arrow.ArrowWriter;
import org.apache.spark.sql.types.AtomicType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.ArrowUtils;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.apache.spark.unsafe.types.UTF8String;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.net.ProtocolException;

/**
 * Public columns of one partition, dictionary-coded: how an owner encodes them once, how they
 * travel to the peers, and how a peer reads them back.
 *
 * <p>Wire format, per partition: {@code int64 rows, int32 columns}, then per column {@code int32
 * dictionarySize, int8 codeWidth (1, 2 or 4), int32 dictionaryBytes}, the dictionary as an Arrow IPC
 * stream of one column (Arrow validates it on read), and {@code rows} codes of {@code codeWidth}
 * little-endian bytes. A low-cardinality column such as a region costs one byte per row.
 */
public final class PublicColumns {
  private PublicColumns() {}

  /** Whether a public column of this type can be kept (atomic types only). */
  public static boolean supported(DataType t) {
    return t instanceof AtomicType;
  }

  /** Serialise the public columns of a partition for the peers. */
  public static byte[] encode(int rows, int[][] codes, Object[][] dictionaries, DataType[] types,
      BufferAllocator alloc) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeLong(rows);
      out.writeInt(codes.length);
      for (int c = 0; c < codes.length; c++) {
        Object[] dict = dictionaries[c];
        int width = dict.length <= 256 ? 1 : dict.length <= 65536 ? 2 : 4;
        byte[] ipc = dictionaryIpc(dict, types[c], alloc);
        out.writeInt(dict.length);
        out.writeByte(width);
        out.writeInt(ipc.length);
        out.write(ipc);
        byte[] packed = new byte[rows * width];
        int[] cs = codes[c];
        for (int i = 0; i < rows; i++) {
          int v = cs[i];
          int o = i * width;
          packed[o] = (byte) v;
          if (width > 1) {
            packed[o + 1] = (byte) (v >>> 8);
          }
          if (width > 2) {
            packed[o + 2] = (byte) (v >>> 16);
            packed[o + 3] = (byte) (v >>> 24);
          }
        }
        out.write(packed);
      }
    } catch (IOException e) {
      throw new IllegalStateException("could not serialise public columns", e);
    }
    return bytes.toByteArray();
  }

  /** What a peer sent: rows, codes and dictionaries, validated. */
  public record Decoded(int rows, int[][] codes, Object[][] dictionaries) {}

  /** Read a peer's public columns; any inconsistency is a protocol error naming the party. */
  public static Decoded decode(byte[] payload, DataType[] types, String party, String where,
      BufferAllocator alloc) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
      long rows = in.readLong();
      int cols = in.readInt();
      if (rows < 0 || rows > Integer.MAX_VALUE || cols != types.length) {
        throw malformed(party, where, "row or column count");
      }
      int n = (int) rows;
      int[][] codes = new int[cols][];
      Object[][] dicts = new Object[cols][];
      for (int c = 0; c < cols; c++) {
        int size = in.readInt();
        int width = in.readByte();
        int ipcLen = in.readInt();
        if (size < 0 || (width != 1 && width != 2 && width != 4) || ipcLen < 0
            || ipcLen > payload.length) {
          throw malformed(party, where, "dictionary header");
        }
        byte[] ipc = in.readNBytes(ipcLen);
        dicts[c] = readDictionary(ipc, types[c], size, party, where, alloc);
        byte[] packed = in.readNBytes(n * width);
        if (packed.length != n * width) {
          throw malformed(party, where, "codes");
        }
        int[] cs = new int[n];
        for (int i = 0; i < n; i++) {
          int o = i * width;
          int v = packed[o] & 0xFF;
          if (width > 1) {
            v |= (packed[o + 1] & 0xFF) << 8;
          }
          if (width > 2) {
            v |= (packed[o + 2] & 0xFF) << 16 | (packed[o + 3] & 0xFF) << 24;
          }
          if (v < 0 || v >= size) {
            throw malformed(party, where, "a code outside its dictionary");
          }
          cs[i] = v;
        }
        codes[c] = cs;
      }
      if (in.read() != -1) {
        throw malformed(party, where, "trailing bytes");
      }
      return new Decoded(n, codes, dicts);
    } catch (IOException e) {
      throw new ProtocolException("party '" + party + "' sent truncated public columns (" + where
          + ")", e);
    }
  }

  private static byte[] dictionaryIpc(Object[] dict, DataType type, BufferAllocator alloc) {
    StructType schema = new StructType(new StructField[] {
        new StructField("v", type, true, Metadata.empty())});
    try (VectorSchemaRoot root = VectorSchemaRoot.create(
        ArrowUtils.toArrowSchema(schema, "UTC", true, false), alloc)) {
      ArrowWriter writer = ArrowWriter.create(root);
      for (Object v : dict) {
        writer.write(new GenericInternalRow(new Object[] {v}));
      }
      writer.finish();
      return ipc(root, "a dictionary");
    }
  }

  /** {@code root}'s vectors as an Arrow IPC stream of one record batch. */
  static byte[] ipc(VectorSchemaRoot root, String what) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ArrowStreamWriter w = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      w.start();
      w.writeBatch();
      w.end();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("could not write " + what + " as Arrow IPC", e);
    }
    return out.toByteArray();
  }

  private static Object[] readDictionary(byte[] ipc, DataType type, int size, String party,
      String where, BufferAllocator alloc) throws IOException {
    try (ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(ipc), alloc)) {
      VectorSchemaRoot root = reader.getVectorSchemaRoot();
      if (!reader.loadNextBatch() || root.getRowCount() != size
          || root.getFieldVectors().size() != 1) {
        throw malformed(party, where, "dictionary");
      }
      StructType expected = new StructType(new StructField[] {
          new StructField("v", type, true, Metadata.empty())});
      if (!root.getSchema().equals(ArrowUtils.toArrowSchema(expected, "UTC", true, false))) {
        throw new ProtocolException("party '" + party + "' sent a public column of another type ("
            + where + "): the parties' tables have different schemas");
      }
      ColumnarBatch batch = new ColumnarBatch(new ColumnVector[] {
          new ArrowColumnVector(root.getVector(0))}, size);
      Object[] values = new Object[size];
      for (int i = 0; i < size; i++) {
        InternalRow r = batch.getRow(i);
        Object v = r.isNullAt(0) ? null : r.get(0, type);
        values[i] = v instanceof UTF8String s ? s.copy() : v instanceof byte[] b ? b.clone() : v;
      }
      return values;
    }
  }

  private static ProtocolException malformed(String party, String where, String what) {
    return new ProtocolException("party '" + party + "' sent malformed public columns (" + what
        + "; " + where + ")");
  }

  /** The error for a public column of an unsupported type. */
  public static MpcInputException unsupported(String column, DataType type, String party) {
    return new MpcInputException("public column '" + column + "' of party " + party + " has type "
        + type.simpleString() + "; public columns of a secure table must have atomic types");
  }
}
