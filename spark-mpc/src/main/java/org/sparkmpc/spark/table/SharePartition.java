package org.sparkmpc.spark.table;

import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.lang.ref.Cleaner;
import java.nio.ByteOrder;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.ValueVector;
import org.apache.spark.util.KnownSizeEstimation;

/**
 * One partition of a secure table as this party holds it, in Arrow vectors off-heap: each secure
 * column a {@link BigIntVector} of this party's 64-bit shares (and, for a column of wide shares
 * that this party owns here, a second one of the high words), each public column an {@link
 * IntVector} of dictionary codes into a small array of Spark internal values (the dictionary, on
 * the heap). Every vector sits in an allocator of its own under {@link ShareMemory}'s budget.
 *
 * <p>Kept in Spark's block manager and never sent anywhere. Spark counts its off-heap bytes
 * ({@link #estimatedSize}) against storage memory, so that a table larger than the memory left
 * spills to this party's local disk, serialised as Arrow IPC ({@link #writeReplace}); Spark closes
 * it when it drops the block ({@link #close}: the table is dropped or evicted, the session ends),
 * and a copy read back from disk and not cached again is freed once unreachable.
 *
 * <p>Kernels read the data buffers ({@link #shareBuffer}, {@link #codeBuffer}) whole partitions
 * at a time; {@link #shares(int)} copies a column out for kernels that work on {@code long[]}.
 */
public final class SharePartition implements Serializable, AutoCloseable, KnownSizeEstimation {
  @Serial
  private static final long serialVersionUID = 2L;
  private static final Cleaner CLEANER = Cleaner.create();

  private final int rows;
  private final transient BigIntVector[] shares;
  private final transient BigIntVector[] highs;
  private final transient IntVector[] codes;
  private final Object[][] dictionaries;
  private final int[] bits;
  private final transient Cleaner.Cleanable cleanable;
  private final transient java.util.concurrent.atomic.AtomicBoolean freed;

  public SharePartition(int rows, long[][] shares, int[][] codes, Object[][] dictionaries) {
    this(rows, shares, null, null, codes, dictionaries);
  }

  /**
   * Copies the columns into Arrow vectors (one bulk copy each; the arrays may be dropped after).
   *
   * @param highs high words of wide shares per secure column ({@code null}, or a null entry, for a
   *     column with 64-bit shares only)
   * @param bits  per secure column, the magnitude bound {@code |v| < 2^bits} of the values this
   *     party owns in this partition (0 where it owns none); {@code null} for all 0
   */
  public SharePartition(int rows, long[][] shares, long[][] highs, int[] bits, int[][] codes,
      Object[][] dictionaries) {
    this.rows = rows;
    this.dictionaries = dictionaries;
    this.bits = bits == null ? new int[shares.length] : bits;
    String what = "a secure table partition of " + rows + " rows";
    BufferAllocator alloc = ShareMemory.child("partition of " + rows + " rows");
    this.shares = new BigIntVector[shares.length];
    this.highs = new BigIntVector[shares.length];
    this.codes = new IntVector[codes.length];
    Freer freer = new Freer(alloc, this.shares, this.highs, this.codes);
    try {
      for (int c = 0; c < shares.length; c++) {
        this.shares[c] = longs(alloc, "s" + c, shares[c], rows, what);
        if (highs != null && highs[c] != null) {
          this.highs[c] = longs(alloc, "h" + c, highs[c], rows, what);
        }
      }
      for (int p = 0; p < codes.length; p++) {
        IntVector v = ShareMemory.ints(alloc, "p" + p, rows, what);
        v.getDataBuffer().nioBuffer(0, 4 * rows).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer()
            .put(codes[p], 0, rows);
        v.getValidityBuffer().setOne(0, v.getValidityBuffer().capacity());
        this.codes[p] = v;
      }
    } catch (RuntimeException e) {
      freer.run();
      throw e;
    }
    this.freed = freer.done();
    this.cleanable = CLEANER.register(this, freer);
  }

  private void open() {
    if (freed.get()) {
      throw new IllegalStateException("this secure table partition was dropped (its table was "
          + "dropped or its session ended) while still read");
    }
  }

  /** Takes over vectors already in {@code alloc} (read back from the Arrow form). */
  SharePartition(int rows, BigIntVector[] shares, BigIntVector[] highs, IntVector[] codes,
      Object[][] dictionaries, int[] bits, BufferAllocator alloc) {
    this.rows = rows;
    this.shares = shares;
    this.highs = highs;
    this.codes = codes;
    this.dictionaries = dictionaries;
    this.bits = bits;
    Freer freer = new Freer(alloc, shares, highs, codes);
    this.freed = freer.done();
    this.cleanable = CLEANER.register(this, freer);
  }

  private static BigIntVector longs(BufferAllocator alloc, String name, long[] values, int rows,
      String what) {
    BigIntVector v = ShareMemory.longs(alloc, name, rows, what);
    v.getDataBuffer().nioBuffer(0, 8 * rows).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer()
        .put(values, 0, rows);
    v.getValidityBuffer().setOne(0, v.getValidityBuffer().capacity());
    return v;
  }

  /** Frees a partition's vectors and allocator; runs once, at close or when unreachable. */
  private record Freer(BufferAllocator alloc, ValueVector[] shares, ValueVector[] highs,
      ValueVector[] codes, java.util.concurrent.atomic.AtomicBoolean done) implements Runnable {
    Freer(BufferAllocator alloc, ValueVector[] shares, ValueVector[] highs, ValueVector[] codes) {
      this(alloc, shares, highs, codes, new java.util.concurrent.atomic.AtomicBoolean());
    }

    @Override
    public void run() {
      done.set(true);
      for (ValueVector[] vs : new ValueVector[][] {shares, highs, codes}) {
        for (ValueVector v : vs) {
          if (v != null) {
            v.close();
          }
        }
      }
      alloc.close();
    }
  }

  /**
   * High words of this party's wide shares of secure column {@code c}, or {@code null} (a narrow
   * column, or one whose values another party owns here: a peer's high words are all 0). With
   * {@link #shareBuffer(int)} as low words they are shares in Z(2^128), whose sums never wrap.
   */
  public ArrowBuf highBuffer(int c) {
    open();
    return highs[c] == null ? null : highs[c].getDataBuffer();
  }

  /** The vector of {@link #highBuffer}, or {@code null}: for the stored form (read it only). */
  BigIntVector highVector(int c) {
    open();
    return highs[c];
  }

  /** The high words of column {@code c} copied out, or {@code null} (see {@link #highBuffer}). */
  public long[] highs(int c) {
    return highs[c] == null ? null : copy(highs[c]);
  }

  /** The magnitude bound of the values of column {@code c} this party owns here (0: none). */
  public int bits(int c) {
    return bits[c];
  }

  public int rows() {
    return rows;
  }

  /** This party's shares of secure column {@code c}: the vector itself (read it, never write). */
  public BigIntVector shareVector(int c) {
    open();
    return shares[c];
  }

  /** The data buffer of {@link #shareVector}: {@link #rows()} little-endian longs. */
  public ArrowBuf shareBuffer(int c) {
    open();
    return shares[c].getDataBuffer();
  }

  /** This party's shares of secure column {@code c}, copied out (one bulk copy). */
  public long[] shares(int c) {
    open();
    return copy(shares[c]);
  }

  private long[] copy(BigIntVector v) {
    open();
    long[] out = new long[rows];
    v.getDataBuffer().nioBuffer(0, 8 * rows).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer()
        .get(out);
    return out;
  }

  /** The data buffer of public column {@code p}'s codes: {@link #rows()} little-endian ints. */
  public ArrowBuf codeBuffer(int p) {
    open();
    return codes[p].getDataBuffer();
  }

  /** The code of row {@code i} of public column {@code p}. */
  public int code(int p, int i) {
    return codes[p].getDataBuffer().getInt(4L * i);
  }

  /** Dictionary codes of public column {@code p}, copied out. */
  public int[] codes(int p) {
    open();
    int[] out = new int[rows];
    codes[p].getDataBuffer().nioBuffer(0, 4 * rows).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer()
        .get(out);
    return out;
  }

  /** Distinct values of public column {@code p} (Spark internal values; {@code null} allowed). */
  public Object[] dictionary(int p) {
    return dictionaries[p];
  }

  public int secureColumns() {
    return shares.length;
  }

  public int publicColumns() {
    return codes.length;
  }

  /** Off-heap bytes held, plus a rough size of the dictionaries: what Spark's storage counts. */
  @Override
  public long estimatedSize() {
    long n = 0;
    for (ValueVector[] vs : new ValueVector[][] {shares, highs, codes}) {
      for (ValueVector v : vs) {
        n += v == null ? 0 : v.getBufferSize();
      }
    }
    for (Object[] d : dictionaries) {
      n += 64L * d.length;
    }
    return n + 256;
  }

  /** Frees the vectors; Spark calls it when it drops the block. Idempotent. */
  @Override
  public void close() {
    cleanable.clean();
  }

  /** Serialised (to spill, or to replicate within the party) as Arrow IPC: {@link StoredPartition}. */
  @Serial
  private Object writeReplace() throws ObjectStreamException {
    return StoredPartition.of(rows, shares, highs, codes, dictionaries, bits);
  }

}
