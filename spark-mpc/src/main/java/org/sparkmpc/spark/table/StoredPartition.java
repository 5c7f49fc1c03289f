package org.sparkmpc.spark.table;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.util.TransferPair;

/**
 * The serial form of a {@link SharePartition}, for Spark's disk store (a spilled block) and for
 * block replication inside the party: the vectors as one Arrow IPC stream of one record batch
 * (columns {@code s<c>} shares, {@code h<c>} high words where present, {@code p<c>} codes), and
 * beside it the row count, the column bounds and the dictionaries. It never leaves the party:
 * Spark writes it to the party's own local disk.
 */
final class StoredPartition implements Serializable {
  @Serial
  private static final long serialVersionUID = 1L;

  private final int rows;
  private final int[] bits;
  private final boolean[] hasHigh;
  private final Object[][] dictionaries;
  private final byte[] arrow;

  private StoredPartition(int rows, int[] bits, boolean[] hasHigh, Object[][] dictionaries,
      byte[] arrow) {
    this.rows = rows;
    this.bits = bits;
    this.hasHigh = hasHigh;
    this.dictionaries = dictionaries;
    this.arrow = arrow;
  }

  static StoredPartition of(int rows, BigIntVector[] shares, BigIntVector[] highs,
      IntVector[] codes, Object[][] dictionaries, int[] bits) {
    List<FieldVector> vectors = new ArrayList<>();
    boolean[] hasHigh = new boolean[shares.length];
    for (int c = 0; c < shares.length; c++) {
      vectors.add(shares[c]);
      if (highs[c] != null) {
        hasHigh[c] = true;
        vectors.add(highs[c]);
      }
    }
    vectors.addAll(List.of(codes));
    // The root only borrows the vectors: it is not closed, the partition keeps them.
    VectorSchemaRoot root = new VectorSchemaRoot(vectors);
    root.setRowCount(rows);
    return new StoredPartition(rows, bits, hasHigh, dictionaries,
        PublicColumns.ipc(root, "a secure table partition"));
  }

  /** Back to a partition whose vectors sit in a new allocator under the share budget. */
  @Serial
  private Object readResolve() throws ObjectStreamException {
    BufferAllocator alloc = ShareMemory.child("partition of " + rows + " rows (read back)");
    BigIntVector[] shares = new BigIntVector[hasHigh.length];
    BigIntVector[] highs = new BigIntVector[hasHigh.length];
    IntVector[] codes = new IntVector[dictionaries.length];
    try (ArrowStreamReader r = new ArrowStreamReader(new ByteArrayInputStream(arrow), alloc)) {
      VectorSchemaRoot root = r.getVectorSchemaRoot();
      if (!r.loadNextBatch() || root.getRowCount() != rows) {
        throw new InvalidObjectException("a stored secure table partition is incomplete");
      }
      int f = 0;
      for (int c = 0; c < shares.length; c++) {
        shares[c] = (BigIntVector) take(root.getVector(f++), alloc);
        if (hasHigh[c]) {
          highs[c] = (BigIntVector) take(root.getVector(f++), alloc);
        }
      }
      for (int p = 0; p < codes.length; p++) {
        codes[p] = (IntVector) take(root.getVector(f++), alloc);
      }
    } catch (IOException | RuntimeException e) {
      for (FieldVector v : concat(shares, highs, codes)) {
        v.close();
      }
      alloc.close();
      InvalidObjectException ioe = new InvalidObjectException(
          "a stored secure table partition could not be read: " + e.getMessage());
      ioe.initCause(e);
      throw ioe;
    }
    return new SharePartition(rows, shares, highs, codes, dictionaries, bits, alloc);
  }

  private static FieldVector take(FieldVector v, BufferAllocator alloc) {
    TransferPair t = v.getTransferPair(alloc);
    t.transfer();
    return (FieldVector) t.getTo();
  }

  private static List<FieldVector> concat(FieldVector[]... arrays) {
    List<FieldVector> l = new ArrayList<>();
    for (FieldVector[] a : arrays) {
      for (FieldVector v : a) {
        if (v != null) {
          l.add(v);
        }
      }
    }
    return l;
  }
}
