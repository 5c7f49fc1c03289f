package org.sparkmpc.spark;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.hash;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.udf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.sparkmpc.spark.catalyst.ScalaInterop;
import org.sparkmpc.spark.catalyst.SecureTableRelation;
import org.sparkmpc.spark.types.ShareType;

/**
 * Every operation on a secure column either is a secure operation or fails analysis with an error
 * naming the operation and the column. Analysis and planning need no peers, so one JVM suffices:
 * the secure table here is a {@link SecureTableRelation} with share-typed columns, exactly what
 * {@code SparkMpc.share} registers (its partitions are never read).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecureCheckRuleTest {
  SparkSession spark;
  Dataset<Row> tx;
  Dataset<Row> other;
  @TempDir
  Path dir;

  @BeforeAll
  void start() {
    spark = SparkSession.builder().master("local[1]").appName("check-rule")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.extensions", SparkMpcExtensions.class.getName()).getOrCreate();
    List<Attribute> cols = List.of(
        attr("region", DataTypes.StringType),
        attr("amount", ShareType.column(16, false, "t1", 40)),
        attr("items", ShareType.column(0, true, "t1", 31)));
    tx = org.apache.spark.sql.classic.Dataset.ofRows(
        (org.apache.spark.sql.classic.SparkSession) spark,
        new SecureTableRelation("t1", ScalaInterop.seq(cols)));
    tx.createOrReplaceTempView("tx");
    other = spark.createDataFrame(List.of(RowFactory.create("north", 1L)), new StructType(
        new StructField[] {new StructField("region", DataTypes.StringType, false, Metadata.empty()),
            new StructField("k", DataTypes.LongType, false, Metadata.empty())}));
    other.createOrReplaceTempView("other");
  }

  private static Attribute attr(String name, org.apache.spark.sql.types.DataType t) {
    return new AttributeReference(name, t, false, Metadata.empty(), NamedExpression.newExprId(),
        ScalaInterop.seqOf());
  }

  @AfterAll
  void stop() {
    spark.stop();
  }

  /**
   * Refused at analysis, naming the column; either by this project's check rule (which also names
   * the operation) or by Spark's own type check on the share type.
   */
  private static void refused(Executable e, String column, String operation) {
    AnalysisException ex = assertThrows(AnalysisException.class, e);
    String m = ex.getMessage();
    assertTrue(m.contains(column), "'" + column + "' not in: " + m);
    if (m.contains("no secure implementation")) {
      assertTrue(m.toLowerCase().contains(operation.toLowerCase()),
          "'" + operation + "' not in: " + m);
    } else {
      assertTrue(m.contains("DATATYPE_MISMATCH") || m.contains("share"), m);
    }
  }

  Stream<Arguments> operations() {
    UDF1<Object, Long> anyUdf = x -> 1L;
    return Stream.of(
        Arguments.of("null-safe equality", (Executable) () ->
            tx.filter(col("amount").eqNullSafe(col("amount"))), "amount", "<=>"),
        Arguments.of("equality in a projection",
            (Executable) () -> tx.select(col("amount").equalTo(col("amount"))), "amount",
            "equalto"),
        Arguments.of("ordering", (Executable) () -> tx.orderBy("items"), "items", "ordering"),
        Arguments.of("comparison", (Executable) () -> tx.select(col("amount").lt(col("amount"))),
            "amount", "lessthan"),
        Arguments.of("hash", (Executable) () -> tx.select(hash(col("amount"))), "amount", "hash"),
        Arguments.of("join key", (Executable) () ->
            tx.join(other, tx.col("amount").equalTo(other.col("k"))), "amount", "join"),
        Arguments.of("join", (Executable) () -> tx.join(other, "region"), "amount", "join"),
        Arguments.of("repartition by", (Executable) () -> tx.repartition(col("amount")), "amount",
            "repartition"),
        Arguments.of("repartition", (Executable) () -> tx.repartition(3), "amount", "repartition"),
        Arguments.of("distinct", (Executable) () -> tx.distinct(), "amount", "distinct"),
        Arguments.of("dropDuplicates", (Executable) () -> tx.dropDuplicates("region"), "amount",
            "distinct"),
        Arguments.of("group by", (Executable) () -> tx.groupBy("amount").count(), "amount",
            "GROUP BY"),
        Arguments.of("cast to string", (Executable) () -> tx.select(col("amount").cast("string")),
            "amount", "cast"),
        Arguments.of("cast to bigint", (Executable) () -> tx.select(col("amount").cast("bigint")),
            "amount", "cast"),
        Arguments.of("concat", (Executable) () -> tx.select(concat(col("region"), col("amount"))),
            "amount", "concat"),
        Arguments.of("to_json", (Executable) () -> tx.select(to_json(struct(col("amount")))),
            "amount", "to_json"),
        Arguments.of("collect_list", (Executable) () -> tx.groupBy("region")
            .agg(collect_list("amount")), "amount", "COLLECT_LIST"),
        Arguments.of("first", (Executable) () -> tx.groupBy("region").agg(first("amount")),
            "amount", "FIRST"),
        Arguments.of("last in SQL", (Executable) () ->
            spark.sql("SELECT region, last(items) FROM tx GROUP BY region"), "items", "LAST"),
        Arguments.of("udf", (Executable) () -> tx.select(udf(anyUdf, DataTypes.LongType)
            .apply(col("amount"))), "amount", "udf"),
        Arguments.of("window function", (Executable) () -> tx.withColumn("r",
            sum("items").over(Window.partitionBy("region"))), "items", "window"),
        Arguments.of("window ordered by a share", (Executable) () -> tx.withColumn("r",
            row_number().over(Window.orderBy("amount"))), "amount", "window"),
        Arguments.of("generator", (Executable) () -> tx.select(explode(array(col("amount")))),
            "amount", "array"),
        Arguments.of("union", (Executable) () -> tx.union(tx), "amount", "union"),
        Arguments.of("limit", (Executable) () -> tx.limit(1), "amount", "limit"),
        Arguments.of("arithmetic", (Executable) () -> tx.select(col("amount").plus(1)), "amount",
            "add"),
        Arguments.of("arithmetic on a sum", (Executable) () ->
            spark.sql("SELECT region, SUM(amount) + 1 FROM tx GROUP BY region"), "amount", "sum"),
        Arguments.of("sum of a sum of shares", (Executable) () ->
            spark.sql("SELECT region, SUM(amount / items) FROM tx GROUP BY region"), "amount",
            "/"),
        Arguments.of("write", (Executable) () -> tx.write().parquet(dir.resolve("w").toString()),
            "amount", "writ"),
        Arguments.of("write into a public table", (Executable) () -> tx.select("amount")
            .write().mode("overwrite").saveAsTable("pub"), "amount", "writ"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("operations")
  void everyOperationWithoutASecureImplementationIsRefused(String what, Executable op,
      String column, String operation) {
    refused(op, column, operation);
  }

  @Test
  void noAliasOrMetadataChangeTurnsAShareIntoANumber() {
    Metadata md = new MetadataBuilder().putString("comment", "plain").build();
    for (Dataset<Row> renamed : List.of(tx.select(col("amount").as("a", Metadata.empty())),
        tx.select(col("amount").as("a", md)), tx.withMetadata("amount", Metadata.empty())
            .withColumnRenamed("amount", "a"), tx.selectExpr("amount AS a"))) {
      assertInstanceOf(ShareType.class, renamed.schema().apply("a").dataType());
      refused(() -> renamed.select(col("a").gt(lit(0))), "a", "a");
      refused(() -> renamed.select(col("a").cast("double")), "a", "cast");
    }
  }

  @Test
  void misplacedRevealIsRefused() {
    refused(() -> spark.sql("SELECT reveal(amount + 1) FROM tx"), "amount", "reveal");
    AnalysisException e = assertThrows(AnalysisException.class, () -> spark.sql(
        "SELECT region, reveal(SUM(amount), 'a'), reveal(SUM(items), 'b') FROM tx GROUP BY region"));
    assertTrue(e.getMessage().contains("reveal()"), e.getMessage());
  }

  @Test
  void supportedQueriesPassAnalysisAndPlanSecureOperators() {
    Dataset<Row> agg = spark.sql("SELECT region, reveal(SUM(amount)) AS s, COUNT(*) AS n, "
        + "reveal(AVG(items)) AS a FROM tx GROUP BY region");
    String plan = agg.queryExecution().executedPlan().toString();
    assertTrue(plan.contains("SecureHashAggregate"), plan);
    assertEquals(DataTypes.DoubleType, agg.schema().apply("s").dataType());
    String rows = spark.sql("SELECT region, reveal(amount) FROM tx WHERE region = 'north'")
        .queryExecution().executedPlan().toString();
    assertTrue(rows.contains("SecureReveal"), rows);
    Dataset<Row> shares = tx.groupBy("region").agg(sum("amount"));
    assertTrue(shares.queryExecution().executedPlan().toString().contains("SecureHashAggregate"));
    assertInstanceOf(ShareType.class, shares.schema().apply("sum(amount)").dataType());
  }

  @Test
  void queriesOverASecureAggregateResolve() {
    Dataset<Row> outer = spark.sql("SELECT region, t FROM (SELECT region, reveal(SUM(amount)) AS t "
        + "FROM tx GROUP BY region) WHERE t > 10 ORDER BY t");
    String plan = outer.queryExecution().executedPlan().toString();
    assertTrue(plan.contains("SecureHashAggregate"), plan);
    assertEquals(DataTypes.DoubleType, outer.schema().apply("t").dataType());
    Dataset<Row> nested = spark.sql("SELECT reveal(SUM(s)) AS t FROM (SELECT region, SUM(amount) "
        + "AS s FROM tx GROUP BY region)");
    assertTrue(nested.queryExecution().executedPlan().toString().contains("SecureHashAggregate"));
    refused(() -> spark.sql("SELECT region, s FROM (SELECT region, SUM(amount) AS s FROM tx "
        + "GROUP BY region) WHERE s > 10"), "s", "filter");
    Dataset<Row> rows = spark.sql("SELECT a * 2 AS b FROM (SELECT reveal(amount) AS a FROM tx)");
    assertEquals(DataTypes.DoubleType, rows.schema().apply("b").dataType());
    refused(() -> spark.sql("SELECT region, reveal(amount) AS a FROM tx ORDER BY amount"),
        "amount", "ordering");
  }

  @Test
  void productsOfSecureColumnsAndConstantsPlanSecurely() {
    for (Dataset<Row> q : List.of(spark.sql("SELECT region, reveal(SUM(amount * items)) AS r, "
        + "reveal(SUM(amount * 2.5)) AS s, reveal(AVG(3 * items)) AS a FROM tx GROUP BY region"),
        tx.groupBy("region").agg(sum(col("amount").multiply(col("items"))).as("r")))) {
      String plan = q.queryExecution().executedPlan().toString();
      assertTrue(plan.contains("SecureHashAggregate"), plan);
    }
    refused(() -> spark.sql("SELECT region, SUM(amount * items * items) FROM tx GROUP BY region"),
        "amount", "sum");
    for (String global : List.of("SELECT reveal(SUM(amount * items)) FROM tx",
        "SELECT reveal(SUM(amount)) AS s, reveal(AVG(items * 2)) AS a FROM tx")) {
      String plan = spark.sql(global).queryExecution().executedPlan().toString();
      assertTrue(plan.contains("SecureHashAggregate"), global + ": " + plan);
    }
  }

  @Test
  void publicColumnsStayOrdinary() {
    assertEquals(1, other.filter(col("k").gt(0)).count());
    assertTrue(tx.filter(col("region").equalTo("north")).select("region").queryExecution()
        .analyzed().resolved());
  }
}
