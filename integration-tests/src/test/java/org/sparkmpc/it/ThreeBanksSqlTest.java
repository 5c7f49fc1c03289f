package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three banks, each its own JVM and Spark, run the aggregate through SQL and the party runner; the
 * result is revealed to bank1 and bank3 only, so bank2 must write nothing.
 */
class ThreeBanksSqlTest {
  static final List<String> BANKS = List.of("bank1", "bank2", "bank3");

  @TempDir
  Path work;

  @Test
  void perRegionSumCountAverageEqualPlaintextSparkOnThePooledRows() throws Exception {
    Path keys = LocalParties.keys(work.resolve("keys"), BANKS);
    String spec = LocalParties.partiesSpec(BANKS, LocalParties.freePorts(3));
    Map<String, Properties> confs = new LinkedHashMap<>();
    List<String> files = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String b = BANKS.get(i);
      Path data = SampleData.transactions(work.resolve("data/" + b + ".csv"), i, 20_000 + 5_000 * i);
      files.add(data.toString());
      Properties p = LocalParties.baseConfig(b, spec, keys, Duration.ofSeconds(60));
      p.setProperty("input.tx.path", data.toString());
      p.setProperty("input.tx.schema", "region STRING, amount DOUBLE, items INT");
      p.setProperty("input.tx.share", "amount,items");
      p.setProperty("query", "SELECT region, reveal(SUM(amount), 'bank1,bank3') AS total, "
          + "COUNT(*) AS n, reveal(AVG(amount), 'bank3,bank1') AS mean, "
          + "reveal(SUM(items), 'bank1, bank3') AS items FROM tx GROUP BY region");
      p.setProperty("output", work.resolve(b + "/result").toString());
      p.setProperty("explain", work.resolve(b + "/plan.txt").toString());
      confs.put(b, p);
    }
    List<LocalParties.Outcome> outs = LocalParties.run(work, confs, "-Xmx1g",
        Duration.ofMinutes(4));
    for (LocalParties.Outcome o : outs) {
      assertEquals(0, o.exitCode(), o.toString());
    }

    SparkSession spark = PlaintextSpark.get();
    Dataset<Row> pooled = spark.read().option("header", "true")
        .schema("region STRING, amount DOUBLE, items INT").csv(files.toArray(new String[0]));
    Map<String, Row> expected = new HashMap<>();
    for (Row r : pooled.groupBy("region").agg(
        org.apache.spark.sql.functions.sum("amount"), org.apache.spark.sql.functions.count("*"),
        org.apache.spark.sql.functions.avg("amount"), org.apache.spark.sql.functions.sum("items"))
        .collectAsList()) {
      expected.put(r.getString(0), r);
    }
    assertTrue(Files.exists(work.resolve("bank2/plan.txt")), "bank2 ran the query");
    assertFalse(Files.exists(work.resolve("bank2/result")), "bank2 is no recipient: no output");
    for (String b : List.of("bank1", "bank3")) {
      String plan = Files.readString(work.resolve(b + "/plan.txt"));
      assertTrue(plan.contains("SecureHashAggregate"), plan);
      List<Row> got = spark.read().option("header", "true")
          .schema("region STRING, total DOUBLE, n LONG, mean DOUBLE, items LONG")
          .csv(work.resolve(b + "/result").toString()).collectAsList();
      assertEquals(expected.size(), got.size(), b);
      for (Row r : got) {
        Row e = expected.get(r.getString(0));
        long n = e.getLong(2);
        // Fixed point at 2^16: each value is off by at most 2^-17.
        assertEquals(e.getDouble(1), r.getDouble(1), n * Math.scalb(1.0, -17) + 1e-6, b);
        assertEquals(n, r.getLong(2), b);
        assertEquals(e.getDouble(3), r.getDouble(3), 1e-4, b);
        assertEquals(e.getLong(4), r.getLong(4), b);
      }
    }
  }
}
