package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerEvent;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.ExplainMode;
import org.apache.spark.sql.execution.SparkPlanInfo;
import org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.connectors.JdbcSource;
import org.sparkmpc.connectors.Sources;

/**
 * {@link Sources#read} of a JDBC table from a real PostgreSQL ({@link Postgres}), in this JVM:
 * partitioned reads (bounds given or found, a query as the relation) return every row once; the
 * password shows in no plan string Spark makes (explain in every mode, the plan the SQL UI
 * receives); and the config mistakes that need no party JVM are refused with the key named.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JdbcSourceTest {
  static final int ROWS = 10_000;
  Postgres pg;
  Path pwFile;

  @BeforeAll
  void startDatabase() {
    pg = Postgres.start();
    pwFile = pg.createUserAndDatabase("bank1");
    pg.execute("bank1", "CREATE TABLE tx (id BIGINT, region TEXT, amount DOUBLE PRECISION); "
        + "GRANT SELECT ON tx TO bank1");
    pg.copy("bank1", "tx", "id, region, amount", ROWS, (i, line) -> line.append(i + 1)
        .append(',').append(JdbcJobTest.REGIONS[(int) (i % 3)]).append(',').append(i % 100));
  }

  @AfterAll
  void stopDatabase() {
    if (pg != null) {
      pg.close();
    }
  }

  Properties conf() {
    Properties p = new Properties();
    p.setProperty("input.tx.url", pg.url("bank1"));
    p.setProperty("input.tx.dbtable", "tx");
    p.setProperty("input.tx.user", "bank1");
    p.setProperty("input.tx.passwordFile", pwFile.toString());
    return p;
  }

  @Test
  void partitionedReadsReturnEveryRowOnce() {
    SparkSession spark = PlaintextSpark.get();
    Properties found = conf();
    found.setProperty("input.tx.partitionColumn", "id");
    found.setProperty("input.tx.numPartitions", "4");
    Properties given = conf();
    given.remove("input.tx.dbtable");
    given.setProperty("input.tx.query", "SELECT id, region, amount FROM tx WHERE amount >= 0");
    given.setProperty("input.tx.partitionColumn", "ID");
    given.setProperty("input.tx.lowerBound", "1000");
    given.setProperty("input.tx.upperBound", "2000");
    given.setProperty("input.tx.numPartitions", "3");
    Properties defaults = conf();
    defaults.setProperty("input.tx.partitionColumn", "id");
    for (Properties p : List.of(found, given, defaults)) {
      Dataset<Row> df = Sources.read(spark, p, "tx");
      int expected = p.getProperty("input.tx.numPartitions") == null
          ? spark.sparkContext().defaultParallelism()
          : Integer.parseInt(p.getProperty("input.tx.numPartitions"));
      assertEquals(expected, df.rdd().getNumPartitions(), p.toString());
      Row r = df.selectExpr("count(*)", "count(DISTINCT id)", "sum(amount)").first();
      assertEquals(ROWS, r.getLong(0));
      assertEquals(ROWS, r.getLong(1));
      assertEquals(ROWS / 100 * 4950.0, r.getDouble(2), 1e-9);
    }
    Dataset<Row> one = Sources.read(spark, conf(), "tx");
    assertEquals(1, one.rdd().getNumPartitions());
  }

  @Test
  void thePasswordIsInNoPlanString() throws Exception {
    SparkSession spark = PlaintextSpark.get();
    String password = pg.password("bank1");
    List<SparkListenerEvent> events = new CopyOnWriteArrayList<>();
    SparkListener listener = new SparkListener() {
      @Override
      public void onOtherEvent(SparkListenerEvent event) {
        events.add(event);
      }
    };
    spark.sparkContext().addSparkListener(listener);
    try {
      Properties p = conf();
      p.setProperty("input.tx.partitionColumn", "id");
      Dataset<Row> df = Sources.read(spark, p, "tx").groupBy("region").count();
      var qe = ((org.apache.spark.sql.classic.Dataset<Row>) df).queryExecution();
      StringBuilder plans = new StringBuilder(qe.toString()).append(qe.simpleString());
      for (String mode : List.of("simple", "extended", "codegen", "cost", "formatted")) {
        plans.append(qe.explainString(ExplainMode.fromString(mode)));
      }
      assertEquals(3, df.count());
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (events.stream().noneMatch(e -> e instanceof SparkListenerSQLExecutionStart)
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      int starts = 0;
      for (SparkListenerEvent e : events) {
        if (e instanceof SparkListenerSQLExecutionStart s) {
          starts++;
          plans.append(s.physicalPlanDescription()).append(s.description()).append(s.details());
          appendInfo(s.sparkPlanInfo(), plans);
        }
      }
      assertTrue(starts > 0, "no SQL execution event");
      assertTrue(plans.toString().contains("JDBCRelation"), plans.toString());
      assertFalse(plans.toString().contains(password), "the password is in a plan string");
    } finally {
      spark.sparkContext().removeSparkListener(listener);
    }
  }

  private static void appendInfo(SparkPlanInfo info, StringBuilder out) {
    out.append(info.nodeName()).append(info.simpleString()).append(info.metadata());
    scala.jdk.javaapi.CollectionConverters.asJava(info.children())
        .forEach(c -> appendInfo(c, out));
  }

  @Test
  void configMistakesAreRefusedNamingTheKey(@TempDir Path dir) throws Exception {
    Properties inConfig = conf();
    inConfig.setProperty("input.tx.password", "pw-in-the-config");
    assertRefused(inConfig, "input.tx.password is refused", "pw-in-the-config");
    Properties inUrl = conf();
    inUrl.setProperty("input.tx.url", pg.url("bank1") + "?ssl=false&password=pw-in-the-url");
    assertRefused(inUrl, "input.tx.url carries a password parameter", "pw-in-the-url");
    Properties userInfo = conf();
    userInfo.setProperty("input.tx.url", "jdbc:postgresql://bank1:pw-user-info@127.0.0.1:"
        + pg.port() + "/bank1");
    assertRefused(userInfo, "input.tx.url carries credentials", "pw-user-info");
    Path open = dir.resolve("open.pw");
    Files.writeString(open, "pw-open-file\n");
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
    Properties openFile = conf();
    openFile.setProperty("input.tx.passwordFile", open.toString());
    assertRefused(openFile, "may be read by every user", "pw-open-file");
    Properties noColumn = conf();
    noColumn.setProperty("input.tx.partitionColumn", "nosuch");
    assertRefused(noColumn, "input.tx.partitionColumn 'nosuch' is not a column of "
        + "input.tx.dbtable", null);
    Properties textColumn = conf();
    textColumn.setProperty("input.tx.partitionColumn", "region");
    assertRefused(textColumn, "needs a numeric, date or timestamp column", null);
    Properties oneBound = conf();
    oneBound.setProperty("input.tx.partitionColumn", "id");
    oneBound.setProperty("input.tx.lowerBound", "1");
    assertRefused(oneBound, "input.tx.lowerBound and input.tx.upperBound go together", null);
  }

  private static void assertRefused(Properties conf, String expected, String secret) {
    MpcInputException e = assertThrows(MpcInputException.class,
        () -> JdbcSource.of(conf, "tx").check(), expected);
    assertTrue(e.getMessage().contains(expected), e.getMessage());
    if (secret != null) {
      assertFalse(e.getMessage().contains(secret), e.getMessage());
    }
  }
}
