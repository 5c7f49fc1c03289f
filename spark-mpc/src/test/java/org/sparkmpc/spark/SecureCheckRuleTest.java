package org.sparkmpc.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.function.Executable;

/**
 * The check rule refuses, at analysis and naming the operation and the column, every operation on
 * a secure column without a secure implementation. Analysis needs no peers, so one JVM suffices:
 * the secure table here is a share column marked by its metadata, exactly as the share operator
 * marks it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecureCheckRuleTest {
  SparkSession spark;
  Dataset<Row> tx;
  Dataset<Row> other;

  @BeforeAll
  void start() {
    spark = SparkSession.builder().master("local[1]").appName("check-rule")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.extensions", SparkMpcExtensions.class.getName()).getOrCreate();
    StructType schema = new StructType(new StructField[] {
        new StructField("region", DataTypes.StringType, false, Metadata.empty()),
        new StructField("amount", DataTypes.LongType, false,
            SecureColumns.metadata(16, "double", "t1")),
        new StructField("items", DataTypes.LongType, false, SecureColumns.metadata(0, "long", "t1"))
    });
    tx = spark.createDataFrame(List.of(RowFactory.create("north", 5L, 1L)), schema);
    tx.createOrReplaceTempView("tx");
    other = spark.createDataFrame(List.of(RowFactory.create("north", 1L)), new StructType(
        new StructField[] {new StructField("region", DataTypes.StringType, false, Metadata.empty()),
            new StructField("k", DataTypes.LongType, false, Metadata.empty())}));
    other.createOrReplaceTempView("other");
  }

  @AfterAll
  void stop() {
    spark.stop();
  }

  private static void refused(Executable e, String... mustContain) {
    AnalysisException ex = assertThrows(AnalysisException.class, e);
    for (String s : mustContain) {
      assertTrue(ex.getMessage().contains(s), "'" + s + "' not in: " + ex.getMessage());
    }
    assertTrue(ex.getMessage().contains("no secure implementation"), ex.getMessage());
  }

  @Test
  void filterOnASecureColumnIsRefused() {
    refused(() -> tx.filter(col("amount").gt(10)), "filter on secure column 'amount'");
    refused(() -> spark.sql("SELECT region FROM tx WHERE amount > 10"), "'amount'");
  }

  @Test
  void minAndMaxAreRefused() {
    refused(() -> tx.groupBy("region").agg(min("amount")), "MIN", "'amount'");
    refused(() -> spark.sql("SELECT region, max(items) FROM tx GROUP BY region"), "MAX", "'items'");
  }

  @Test
  void joinKeysAndJoinsOfSecureTablesAreRefused() {
    refused(() -> tx.join(other, tx.col("amount").equalTo(other.col("k"))),
        "join key on secure column 'amount'");
    refused(() -> tx.join(other, "region"), "join of a secure table");
  }

  @Test
  void arithmeticGroupingAndSortingOnSecureColumnsAreRefused() {
    refused(() -> tx.select(col("amount").plus(1)), "'amount'");
    refused(() -> tx.groupBy("amount").agg(sum("items")), "GROUP BY on secure column 'amount'");
    refused(() -> tx.orderBy("items"), "Sort", "'items'");
    refused(() -> spark.sql("SELECT region, SUM(amount) + 1 FROM tx GROUP BY region"), "'amount'");
  }

  @Test
  void misplacedRevealIsRefused() {
    refused(() -> spark.sql("SELECT reveal(amount + 1) FROM tx"), "reveal()");
    refused(() -> spark.sql(
        "SELECT region, reveal(SUM(amount), 'a'), reveal(SUM(items), 'b') FROM tx GROUP BY region"),
        "reveal()");
  }

  @Test
  void supportedQueriesPassAnalysisAndPlanSecureOperators() {
    Dataset<Row> agg = spark.sql("SELECT region, reveal(SUM(amount)) AS s, COUNT(*) AS n, "
        + "reveal(AVG(items)) AS a FROM tx GROUP BY region");
    String plan = agg.queryExecution().executedPlan().toString();
    assertTrue(plan.contains("SecureHashAggregate"), plan);
    String rows = spark.sql("SELECT region, reveal(amount) FROM tx WHERE region = 'north'")
        .queryExecution().executedPlan().toString();
    assertTrue(rows.contains("SecureReveal"), rows);
    String shares = tx.groupBy("region").agg(sum("amount")).queryExecution().executedPlan()
        .toString();
    assertTrue(shares.contains("SecureHashAggregate"), shares);
  }

  @Test
  void productsOfSecureColumnsAndConstantsPlanSecurelyOtherArithmeticIsRefused() {
    String plan = spark.sql("SELECT region, reveal(SUM(amount * items)) AS r, "
        + "reveal(SUM(amount * 2.5)) AS s, reveal(AVG(3 * items)) AS a FROM tx GROUP BY region")
        .queryExecution().executedPlan().toString();
    assertTrue(plan.contains("SecureHashAggregate"), plan);
    refused(() -> spark.sql("SELECT region, SUM(amount + items) FROM tx GROUP BY region"),
        "'amount'");
    refused(() -> spark.sql("SELECT region, SUM(amount * items * items) FROM tx GROUP BY region"),
        "'amount'");
  }

  @Test
  void publicColumnsStayOrdinary() {
    assertTrue(other.filter(col("k").gt(0)).count() == 1);
    assertTrue(tx.filter(col("region").equalTo("north")).select("region").count() == 1);
  }
}
