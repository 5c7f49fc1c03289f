package org.sparkmpc.spark.table;

import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.catalyst.expressions.Attribute;

/**
 * A materialised secure table at this party (driver side): its columns, where each column sits in
 * the {@link SharePartition}s (a share column or a public column, by index), the cached partitions,
 * and the partitioning contract (rows per partition), which every party holds alike.
 *
 * @param id        table id, the same at every party ({@code t1}, {@code t2}, ...)
 * @param output    the columns as Spark attributes (share columns carry share metadata)
 * @param secure    whether output column {@code i} is a share column
 * @param index     index of output column {@code i} among the share or public columns
 * @param partitions the partitions, persisted in this party's block manager (or a union of
 *                   persisted segments, each partition in exactly one block)
 * @param contract  rows per partition
 * @param wide      per share column (by index), whether it holds wide (Z(2^128)) shares, whose
 *                  sums never wrap
 */
public record SecureTable(String id, List<Attribute> output, boolean[] secure, int[] index,
    JavaRDD<SharePartition> partitions, long[] contract, boolean[] wide) {

  /** Position of the attribute with {@code a}'s expression id in the output, or -1. */
  public int position(Attribute a) {
    for (int i = 0; i < output.size(); i++) {
      if (output.get(i).exprId().equals(a.exprId())) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Drop the table's cached partitions: its RDD's blocks and those of the cached RDDs it reads
   * (the segments of a union), which frees their Arrow vectors at every executor.
   */
  public void unpersist() {
    unpersist(partitions.rdd(), 0);
  }

  private static void unpersist(org.apache.spark.rdd.RDD<?> rdd, int depth) {
    if (rdd.getStorageLevel() != org.apache.spark.storage.StorageLevel.NONE()) {
      rdd.unpersist(false);
    }
    // Only a union's own segments belong to the table; any other parent is another table's.
    if (depth == 0 && rdd instanceof org.apache.spark.rdd.UnionRDD<?> u) {
      scala.collection.Iterator<? extends org.apache.spark.rdd.RDD<?>> parts = u.rdds().iterator();
      while (parts.hasNext()) {
        unpersist(parts.next(), 1);
      }
    }
  }

  public long rows() {
    long n = 0;
    for (long r : contract) {
      n += r;
    }
    return n;
  }
}
