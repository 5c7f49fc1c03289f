package org.sparkmpc.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.Test;
import org.sparkmpc.spark.table.SharePartition;
import scala.reflect.ClassTag$;

/** Secure-table partitions survive Kryo with registration required (spill to the party's disk). */
class KryoRegistrationTest {

  @Test
  void sharePartitionRoundTripsThroughKryoWithRegistrationRequired() {
    SparkConf conf = new SparkConf().set("spark.kryo.registrationRequired", "true")
        .set("spark.kryo.registrator", SparkMpcKryoRegistrator.class.getName());
    SerializerInstance ser = new KryoSerializer(conf).newInstance();
    SharePartition p = new SharePartition(3, new long[][] {{1, -2, 3}}, new int[][] {{0, 1, 0}},
        new Object[][] {{UTF8String.fromString("north"), UTF8String.fromString("south")}});
    ByteBuffer bytes = ser.serialize(p, ClassTag$.MODULE$.apply(SharePartition.class));
    SharePartition back = ser.deserialize(bytes, ClassTag$.MODULE$.apply(SharePartition.class));
    assertEquals(3, back.rows());
    assertArrayEquals(new long[] {1, -2, 3}, back.shares(0));
    assertArrayEquals(new int[] {0, 1, 0}, back.codes(0));
    assertEquals(UTF8String.fromString("south"), back.dictionary(0)[1]);
  }
}
