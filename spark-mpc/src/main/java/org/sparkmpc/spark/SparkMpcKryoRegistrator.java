package org.sparkmpc.spark;

import com.esotericsoftware.kryo.Kryo;
import org.apache.spark.serializer.KryoRegistrator;

/**
 * Registers the classes Spark MPC keeps in Spark's block manager or moves between a party's own
 * executors, for {@code spark.serializer=org.apache.spark.serializer.KryoSerializer} with
 * {@code spark.kryo.registrator=org.sparkmpc.spark.SparkMpcKryoRegistrator} (needed when
 * {@code spark.kryo.registrationRequired=true}). Nothing here ever crosses to another party.
 */
public final class SparkMpcKryoRegistrator implements KryoRegistrator {
  @Override
  public void registerClasses(Kryo kryo) {
    // A partition's vectors are off-heap: it serialises itself as Arrow IPC (writeReplace).
    kryo.register(org.sparkmpc.spark.table.SharePartition.class,
        new com.esotericsoftware.kryo.serializers.JavaSerializer());
    kryo.register(long[].class);
    kryo.register(long[][].class);
    kryo.register(int[].class);
    kryo.register(int[][].class);
    kryo.register(Object[].class);
    kryo.register(Object[][].class);
    kryo.register(byte[].class);
    kryo.register(org.apache.spark.unsafe.types.UTF8String.class);
    org.sparkmpc.spark.psi.PrivateSetIntersection.kryoClasses().forEach(kryo::register);
  }
}
