package org.sparkmpc.spark.table;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.sql.util.ArrowUtils;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.spark.MpcConf;

/**
 * The off-heap memory that holds secure tables in this JVM (a driver in local mode, or an
 * executor): one Arrow allocator, a child of Spark's Arrow root, whose limit is the budget {@link
 * MpcConf#SHARE_MEMORY} ({@code spark.mpc.share.memory}, read from the executor's Spark
 * configuration when the first partition is made). Each {@link SharePartition} takes a child of it
 * and frees it when Spark drops the block (table dropped, session ended, block evicted) or, for a
 * copy read back from disk and never cached, when the collector finds it unreachable.
 *
 * <p>Past the budget, an allocation first waits for unreachable partitions to be freed (one
 * collection, as the JDK does for direct buffers), then fails with an {@link MpcInputException}
 * that names the table, the partition, the bytes asked for and the setting to raise: never an
 * out-of-memory crash of the executor.
 */
public final class ShareMemory {
  private static volatile BufferAllocator shares;

  private ShareMemory() {}

  /** The allocator of secure tables in this JVM, made on first use with the configured budget. */
  static BufferAllocator allocator() {
    BufferAllocator a = shares;
    if (a == null) {
      synchronized (ShareMemory.class) {
        a = shares;
        if (a == null) {
          SparkEnv env = SparkEnv.get();
          SparkConf conf = env == null ? null : env.conf();
          String raw = conf == null ? MpcConf.SHARE_MEMORY.defaultValue()
              : conf.get(MpcConf.SHARE_MEMORY.key(), MpcConf.SHARE_MEMORY.defaultValue());
          long budget = MpcConf.SHARE_MEMORY.parse(raw);
          a = ArrowUtils.rootAllocator().newChildAllocator("spark-mpc secure tables", 0, budget);
          shares = a;
        }
      }
    }
    return a;
  }

  /** Bytes of secure tables held in this JVM now. */
  public static long allocated() {
    BufferAllocator a = shares;
    return a == null ? 0 : a.getAllocatedMemory();
  }

  /** The most bytes of secure tables this JVM has held at once. */
  public static long peak() {
    BufferAllocator a = shares;
    return a == null ? 0 : a.getPeakMemoryAllocation();
  }

  /** The budget of this JVM ({@code spark.mpc.share.memory}). */
  public static long budget() {
    return allocator().getLimit();
  }

  /** A partition's own allocator: closed with the partition. */
  static BufferAllocator child(String name) {
    return allocator().newChildAllocator(name, 0, Long.MAX_VALUE);
  }

  /** A vector of {@code rows} longs in {@code alloc}, or the budget's clear error. */
  static BigIntVector longs(BufferAllocator alloc, String name, int rows, String what) {
    BigIntVector v = new BigIntVector(name, alloc);
    allocate(v, rows, 8L * rows, what);
    return v;
  }

  /** A vector of {@code rows} ints in {@code alloc}, or the budget's clear error. */
  static IntVector ints(BufferAllocator alloc, String name, int rows, String what) {
    IntVector v = new IntVector(name, alloc);
    allocate(v, rows, 4L * rows, what);
    return v;
  }

  private static void allocate(FieldVector v, int rows, long bytes, String what) {
    for (int attempt = 0; ; attempt++) {
      try {
        v.setInitialCapacity(rows);
        v.allocateNew();
        v.setValueCount(rows);
        return;
      } catch (OutOfMemoryException e) {
        v.clear();
        if (attempt == 0) {
          // Partitions read back from disk and dropped are freed once they are unreachable.
          System.gc();
          try {
            Thread.sleep(50);
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
          }
          continue;
        }
        v.close();
        BufferAllocator budget = v.getAllocator();
        while (budget.getLimit() == Long.MAX_VALUE && budget.getParentAllocator() != null) {
          budget = budget.getParentAllocator();
        }
        throw new MpcInputException(what + " needs " + bytes + " more bytes of off-heap share "
            + "memory, but this JVM already holds " + budget.getAllocatedMemory()
            + " of its budget of " + budget.getLimit() + " bytes ("
            + MpcConf.SHARE_MEMORY.key() + "); raise "
            + MpcConf.SHARE_MEMORY.key() + " (and the executor's direct memory with it), spread "
            + "the rows over more executors, or drop secure tables no longer needed");
      }
    }
  }
}
