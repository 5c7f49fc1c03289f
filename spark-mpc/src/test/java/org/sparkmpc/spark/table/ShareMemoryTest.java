package org.sparkmpc.spark.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.serializer.JavaSerializer;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.Serializer;
import org.apache.spark.sql.util.ArrowUtils;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.Test;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.ring.ArrowRing64;
import org.sparkmpc.spark.SparkMpcKryoRegistrator;
import scala.reflect.ClassTag$;

/**
 * Secure-table partitions live in Arrow vectors under the share budget: they survive Spark's
 * serialisers (a spill to disk) bit for bit, they are freed when closed or when Spark drops the
 * block, and an allocation past the budget fails with an error naming the setting.
 */
class ShareMemoryTest {

  private static SharePartition sample(int n) {
    long[] lo = new long[n];
    long[] hi = new long[n];
    long[] b = new long[n];
    int[] codes = new int[n];
    for (int i = 0; i < n; i++) {
      lo[i] = i * 0x9E3779B97F4A7C15L;
      hi[i] = -(i & 1);
      b[i] = -i;
      codes[i] = i % 3;
    }
    return new SharePartition(n, new long[][] {lo, b}, new long[][] {hi, null}, new int[] {40, 7},
        new int[][] {codes}, new Object[][] {{UTF8String.fromString("n"), null,
            UTF8String.fromString("s")}});
  }

  private static void assertSame(SharePartition a, SharePartition b) {
    assertEquals(a.rows(), b.rows());
    assertEquals(a.secureColumns(), b.secureColumns());
    assertEquals(a.publicColumns(), b.publicColumns());
    for (int c = 0; c < a.secureColumns(); c++) {
      assertArrayEquals(a.shares(c), b.shares(c));
      assertArrayEquals(a.highs(c), b.highs(c));
      assertEquals(a.bits(c), b.bits(c));
    }
    for (int p = 0; p < a.publicColumns(); p++) {
      assertArrayEquals(a.codes(p), b.codes(p));
      assertArrayEquals(a.dictionary(p), b.dictionary(p));
    }
  }

  @Test
  void partitionsSurviveSparksSerialisersAsArrowIpc() {
    SparkConf conf = new SparkConf().set("spark.kryo.registrationRequired", "true")
        .set("spark.kryo.registrator", SparkMpcKryoRegistrator.class.getName());
    for (Serializer s : new Serializer[] {new JavaSerializer(conf), new KryoSerializer(conf)}) {
      for (int n : new int[] {0, 1, 1000}) {
        try (SharePartition p = sample(n)) {
          var ser = s.newInstance();
          ByteBuffer bytes = ser.serialize(p, ClassTag$.MODULE$.apply(SharePartition.class));
          try (SharePartition back = ser.deserialize(bytes,
              ClassTag$.MODULE$.apply(SharePartition.class))) {
            assertSame(p, back);
            assertNull(back.highBuffer(1));
          }
        }
      }
    }
  }

  @Test
  void closingFreesTheVectorsAndALaterReadFails() {
    long before = ShareMemory.allocated();
    SharePartition p = sample(10_000);
    assertTrue(ShareMemory.allocated() >= before + 3 * 8 * 10_000, "vectors are counted");
    assertTrue(p.estimatedSize() >= 3 * 8 * 10_000, "Spark's storage counts the off-heap bytes");
    var buf = p.shareBuffer(0);
    p.close();
    p.close(); // idempotent
    assertEquals(before, ShareMemory.allocated());
    assertThrows(IllegalStateException.class,
        () -> ArrowRing64.groupSum(buf, new int[10_000], 10_000, new long[1]));
  }

  @Test
  void anAllocationPastTheBudgetNamesTheSettingAndTheTable() {
    try (BufferAllocator small = ArrowUtils.rootAllocator().newChildAllocator("budget", 0,
        1 << 16)) {
      MpcInputException e = assertThrows(MpcInputException.class,
          () -> ShareMemory.longs(small, "s0", 1 << 16, "table t7, partition 3"));
      assertTrue(e.getMessage().contains("spark.mpc.share.memory"), e.getMessage());
      assertTrue(e.getMessage().contains("table t7, partition 3"), e.getMessage());
      assertEquals(0, small.getAllocatedMemory(), "nothing is left allocated");
    }
  }

  @Test
  void sparkFreesAPartitionWhenTheTableIsDroppedAndSpillsItAsArrow() {
    SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("share-memory")
        .set("spark.ui.enabled", "false");
    try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
      long before = ShareMemory.allocated();
      List<Integer> sizes = new ArrayList<>(List.of(5_000, 7_000));
      JavaRDD<SharePartition> t = jsc.parallelize(sizes, 2).map(ShareMemoryTest::sample);
      t.persist(StorageLevel.MEMORY_ONLY());
      assertEquals(12_000L, t.map(SharePartition::rows).reduce(Integer::sum).longValue());
      assertTrue(ShareMemory.allocated() > before, "cached partitions hold off-heap memory");
      t.unpersist(true);
      assertEquals(before, ShareMemory.allocated(), "dropping the table frees its vectors");

      JavaRDD<SharePartition> d = jsc.parallelize(sizes, 2).map(ShareMemoryTest::sample);
      d.persist(StorageLevel.DISK_ONLY()); // written through the Arrow form, read back from it
      long sum = d.map(p -> p.shares(1)[p.rows() - 1] + p.highs(0)[1]).reduce(Long::sum);
      assertEquals(-(4_999L + 6_999L) - 2, sum);
      d.unpersist(true);
    }
  }
}
