package org.sparkmpc.it;

import org.apache.spark.sql.SparkSession;

/** One plaintext Spark session per test JVM, for the reference answers. */
final class PlaintextSpark {
  private static SparkSession spark;

  private PlaintextSpark() {}

  static synchronized SparkSession get() {
    if (spark == null) {
      spark = SparkSession.builder().master("local[2]").appName("plaintext-reference")
          .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
          .config("spark.driver.host", "127.0.0.1").getOrCreate();
    }
    return spark;
  }
}
