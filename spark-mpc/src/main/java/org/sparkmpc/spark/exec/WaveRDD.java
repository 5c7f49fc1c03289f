package org.sparkmpc.spark.exec;

import java.util.ArrayList;
import org.apache.spark.Dependency;
import org.apache.spark.Partition;
import org.apache.spark.TaskContext;
import org.apache.spark.rdd.RDD;
import org.sparkmpc.spark.table.SharePartition;
import scala.Tuple2;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The input of one wave: {@code width} partitions, partition {@code i} yielding the secure table's
 * partitions {@code i, i + width, i + 2·width, ...} in ascending order, each with its index. It
 * reads them through the table's own RDD ({@code table.iterator}: the cached block, or lineage
 * recomputation when a block was lost), like {@code CoalescedRDD} does, but declares no dependency
 * on it: a barrier stage refuses any RDD in its chain whose partition count differs from its task
 * count (SPARK-24820/24821), and counts the slots of every partition of the RDD it runs
 * (SPARK-24819), so a wave must be an RDD of exactly {@code width} partitions with no narrower or
 * wider parent in its stage. No shuffle: the shares stay in this party's block manager.
 *
 * <p>The table must be materialised (persisted) before a wave reads it, as every {@link
 * org.sparkmpc.spark.table.SecureTable} is; the partition objects are taken on the driver.
 */
final class WaveRDD extends RDD<Tuple2<Integer, SharePartition>> {
  private static final long serialVersionUID = 1L;

  /** Wave task {@code index} and the table partitions it walks. */
  private static final class WavePartition implements Partition {
    private static final long serialVersionUID = 1L;
    private final int index;
    private final int[] tableIndexes;
    private final Partition[] tableParts;

    WavePartition(int index, int[] tableIndexes, Partition[] tableParts) {
      this.index = index;
      this.tableIndexes = tableIndexes;
      this.tableParts = tableParts;
    }

    @Override
    public int index() {
      return index;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof WavePartition w && w.index == index;
    }

    @Override
    public int hashCode() {
      return index;
    }
  }

  private final RDD<SharePartition> table;
  private final WavePartition[] parts;

  WaveRDD(RDD<SharePartition> table, int width) {
    super(table.sparkContext(), CollectionConverters.asScala(new ArrayList<Dependency<?>>())
        .toList(), scala.reflect.ClassTag$.MODULE$.apply(Tuple2.class));
    this.table = table;
    Partition[] all = table.partitions();
    this.parts = new WavePartition[width];
    int[][] walk = DeepStage.assignment(all.length, width);
    for (int i = 0; i < width; i++) {
      Partition[] tp = new Partition[walk[i].length];
      for (int k = 0; k < tp.length; k++) {
        tp[k] = all[walk[i][k]];
      }
      parts[i] = new WavePartition(i, walk[i], tp);
    }
  }

  /** The table partitions wave task {@code i} walks, in order. */
  int[] assignment(int i) {
    return parts[i].tableIndexes.clone();
  }

  @Override
  public Partition[] getPartitions() {
    return parts.clone();
  }

  @Override
  public Iterator<Tuple2<Integer, SharePartition>> compute(Partition split, TaskContext context) {
    WavePartition w = (WavePartition) split;
    // Lazily, one table partition at a time: the task runs a partition's rounds before it reads
    // the next one's block.
    return new scala.collection.AbstractIterator<>() {
      private int k;
      private Iterator<SharePartition> current;

      @Override
      public boolean hasNext() {
        while ((current == null || !current.hasNext()) && k < w.tableParts.length) {
          current = table.iterator(w.tableParts[k++], context);
        }
        return current != null && current.hasNext();
      }

      @Override
      public Tuple2<Integer, SharePartition> next() {
        if (!hasNext()) {
          throw new java.util.NoSuchElementException();
        }
        return new Tuple2<>(w.tableIndexes[k - 1], current.next());
      }
    };
  }
}
