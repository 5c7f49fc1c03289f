package org.sparkmpc.spark.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.sparkmpc.spark.table.SharePartition;
import scala.Tuple2;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A wave is a barrier stage of exactly W tasks over a cached table of more partitions than the
 * cluster has slots (which Spark refuses for the table's own RDD, SPARK-24819, and for a coalesce
 * of it, SPARK-24820): task i reads the cached blocks of partitions i, i+W, ... in order, without
 * recomputing them and without a shuffle.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WaveRDDTest {
  SparkSession spark;

  @BeforeAll
  void start() {
    spark = SparkSession.builder().master("local[2]").appName("waves")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .getOrCreate();
  }

  @AfterAll
  void stop() {
    spark.stop();
  }

  /** Each element as "task/partition/rows"; a named function, as a barrier stage needs. */
  static final class Probe extends scala.runtime.AbstractFunction1<
      Iterator<Tuple2<Integer, SharePartition>>, Iterator<String>> implements Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public Iterator<String> apply(Iterator<Tuple2<Integer, SharePartition>> it) {
      List<String> out = new ArrayList<>();
      int task = TaskContext.getPartitionId();
      while (it.hasNext()) {
        Tuple2<Integer, SharePartition> e = it.next();
        out.add(task + "/" + e._1() + "/" + e._2().rows());
      }
      return CollectionConverters.asScala(out.iterator());
    }
  }

  @Test
  void taskIReadsTheCachedPartitionsCongruentToIInOrder() {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    LongAccumulator computed = jsc.sc().longAccumulator("partitions computed");
    List<Integer> seeds = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      seeds.add(i);
    }
    JavaRDD<SharePartition> table = jsc.parallelize(seeds, 8).map(i -> {
      computed.add(1);
      int rows = i + 1;
      return new SharePartition(rows, new long[][] {new long[rows]}, new int[0][],
          new Object[0][]);
    }).persist(StorageLevel.MEMORY_ONLY());
    assertEquals(8, table.count());
    WaveRDD wave = new WaveRDD(table.rdd(), 2);
    List<String> got = wave.barrier().mapPartitions(new Probe(), false,
        scala.reflect.ClassTag$.MODULE$.apply(String.class)).toJavaRDD().collect();
    assertEquals(List.of("0/0/1", "0/2/3", "0/4/5", "0/6/7", "1/1/2", "1/3/4", "1/5/6", "1/7/8"),
        got);
    assertEquals(8, computed.value(), "the wave read the cached blocks, computing none again");
    table.unpersist(true);
  }
}
