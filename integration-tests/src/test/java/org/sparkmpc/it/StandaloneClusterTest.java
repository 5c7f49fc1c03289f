package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three parties as users run them (see {@link PartyClusters}): a standalone master and worker per
 * party, each party's gateway a process of its own, jobs submitted with SparkSubmit and the
 * distributable jar, the executors reaching the other parties only through the gateways. The
 * aggregate and the regression job are checked against plaintext Spark on the pooled rows; then
 * the faults: an executor killed mid-query, a gateway killed mid-query, the same query run again,
 * and a party that starts late. The tests share the clusters and run in order.
 */
@Tag("cluster")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterTest {
  static final List<String> PARTIES = List.of("bank1", "bank2", "bank3");
  /** spark.mpc.timeout of every gateway and job (one party config serves both, as in the README). */
  static final Duration TIMEOUT = Duration.ofSeconds(45);
  static final String QUERY = "SELECT region, reveal(SUM(amount)) AS total, COUNT(*) AS n, "
      + "reveal(AVG(amount)) AS mean, reveal(SUM(amount * items)) AS revenue FROM tx "
      + "GROUP BY region";

  Path work;
  PartyClusters clusters;
  /** Per data size: the parties' transaction files and plaintext Spark's answer on their union. */
  final Map<Integer, List<Path>> inputs = new HashMap<>();
  final Map<Integer, Map<String, Row>> expected = new HashMap<>();

  @BeforeAll
  void startClusters(@TempDir Path dir) throws Exception {
    work = dir;
    clusters = new PartyClusters(work, PARTIES, TIMEOUT);
  }

  @AfterAll
  void stopClusters() {
    if (clusters != null) {
      clusters.close();
    }
  }

  @Test
  @Order(1)
  void aggregateJobOfThreePartiesEqualsPlaintextSpark() throws Exception {
    runAggregate("agg", 20_000, Map.of());
    ExecutorJvmTest.assertExecutorsOpenedTheSession(work, PARTIES);
  }

  @Test
  @Order(2)
  void regressionJobOfThreePartiesEqualsSparkMl() throws Exception {
    Path[] two = SampleData.patients(work.resolve("patients"), 5_000);
    // hospital B's columns split over bank2 (dose) and bank3 (outcome): three parties' columns.
    Path b = work.resolve("patients/b.csv");
    Path c = work.resolve("patients/c.csv");
    try (BufferedReader in = Files.newBufferedReader(two[1]);
        BufferedWriter wb = Files.newBufferedWriter(b);
        BufferedWriter wc = Files.newBufferedWriter(c)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        String[] f = line.split(",");
        wb.write(f[0] + "," + f[1] + "\n");
        wc.write(f[0] + "," + f[2] + "\n");
      }
    }
    Path[] files = {two[0], b, c};
    String[] schemas = {"id STRING, age DOUBLE, bmi DOUBLE", "id STRING, dose DOUBLE",
        "id STRING, outcome DOUBLE"};
    String[] shares = {"age,bmi", "dose", "outcome"};
    Process dealer = clusters.startDealer("reg");
    Map<String, Process> jobs = new LinkedHashMap<>();
    for (int i = 0; i < 3; i++) {
      String party = PARTIES.get(i);
      Properties p = clusters.jobConfig(party);
      p.setProperty("job", "regression");
      p.setProperty("input.patients.path", files[i].toString());
      p.setProperty("input.patients.schema", schemas[i]);
      p.setProperty("input.patients.alignBy", "id");
      p.setProperty("input.patients.share", shares[i]);
      p.setProperty("regression.table", "patients");
      p.setProperty("regression.features", "age,bmi,dose");
      p.setProperty("regression.label", "outcome");
      p.setProperty("output", clusters.jobDir(party, "reg").resolve("model").toString());
      jobs.put(party, clusters.submit(party, "reg", p));
    }
    awaitSuccess("reg", jobs);
    assertTrue(dealer.waitFor(60, TimeUnit.SECONDS), "the dealer ended with the session");

    var spark = PlaintextSpark.get();
    Dataset<Row> joined = spark.read().option("header", "true").schema(schemas[0])
        .csv(files[0].toString())
        .join(spark.read().option("header", "true").schema(schemas[1]).csv(b.toString()), "id")
        .join(spark.read().option("header", "true").schema(schemas[2]).csv(c.toString()), "id");
    SparkMlReference.Fit ml = SparkMlReference.fit(joined, new String[] {"age", "bmi", "dose"},
        "outcome");
    for (String party : PARTIES) {
      Map<String, Double> model = new HashMap<>();
      for (String line : Files.readAllLines(clusters.jobDir(party, "reg")
          .resolve("model/model.csv"))) {
        String[] f = line.split(",");
        if (!f[0].equals("term")) {
          model.put(f[0], Double.parseDouble(f[1]));
        }
      }
      String[] terms = {"age", "bmi", "dose"};
      for (int j = 0; j < 3; j++) {
        assertEquals(ml.coefficients()[j], model.get(terms[j]), 1e-3, party + " " + terms[j]);
      }
      assertEquals(ml.intercept(), model.get("(intercept)"), 1e-3, party);
      assertEquals(ml.r2(), model.get("(r2)"), 1e-3, party);
    }
  }

  @Test
  @Order(3)
  void anExecutorKilledMidQueryIsReplacedAndTheResultIsStillRight() throws Exception {
    String victim = "bank2";
    int before = clusters.executorLogs(victim).size();
    Map<String, Process> jobs = submitAggregate("kill-executor", 300_000, Map.of());
    // Kill bank2's executor as soon as its wave task runs a partition of the products' deep stage
    // (SUM(amount * items)), i.e. mid-wave: Spark retries the barrier stage whole.
    assertTrue(PartyClusters.await(() -> {
      List<Path> logs = clusters.executorLogs(victim);
      return logs.size() > before ? LocalParties.read(logs.get(logs.size() - 1)) : "";
    }, "runs partition", Duration.ofMinutes(3)), "bank2's executor started a wave");
    List<ProcessHandle> executors = clusters.executors(victim);
    assertEquals(1, executors.size(), "one executor at bank2");
    executors.get(0).destroyForcibly();
    awaitSuccess("kill-executor", jobs);
    checkAggregate("kill-executor", 300_000);

    String driver = clusters.driverOutput(victim, "kill-executor");
    assertTrue(driver.contains("ExecutorLostFailure"), "bank2 lost a running task with its executor");
    assertTrue(clusters.executorLogs(victim).size() >= before + 2,
        "the worker started a second executor for the job");
    assertNoConflicts();
  }

  @Test
  @Order(4)
  void aGatewayKilledMidQueryFailsEveryPartyNamingItAndNobodyWritesAResult() throws Exception {
    String victim = "bank3";
    Map<String, Process> jobs = submitAggregate("kill-gateway", 100_000, Map.of());
    try {
      // Kill bank3's gateway once its session is agreed: the rows are being shared.
      assertTrue(PartyClusters.await(() -> clusters.driverOutput(victim, "kill-gateway"),
          "agreed (dealer dealer)", Duration.ofMinutes(3)), "the query started at bank3");
      long killedAt = System.nanoTime();
      clusters.killGateway(victim);
      for (String party : PARTIES) {
        Process job = jobs.get(party);
        assertTrue(job.waitFor(TIMEOUT.toSeconds() + 60, TimeUnit.SECONDS), party + " ended");
        String out = clusters.driverOutput(party, "kill-gateway");
        assertTrue(job.exitValue() != 0, party + " must fail:\n" + tail(out));
        String failure = failureLine(out);
        assertTrue(failure.contains("'" + victim + "'"), party + " names " + victim + ": "
            + failure);
        assertFalse(Files.exists(clusters.jobDir(party, "kill-gateway").resolve("result")),
            party + " wrote no result");
      }
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - killedAt);
      assertTrue(seconds <= TIMEOUT.toSeconds() + 30, "all failed " + seconds
          + " s after the kill");
    } finally {
      jobs.values().forEach(PartyClusters::stop);
      // Its dealer waits for bank3's next request until dealer.idleTimeout; the operator stops it.
      clusters.stopDealer("kill-gateway");
    }
  }

  @Test
  @Order(5)
  void theSameQueryRunAgainAfterTheGatewayIsBackSucceeds() throws Exception {
    clusters.startGateway("bank3");
    runAggregate("rerun", 100_000, Map.of());
    assertNoConflicts();
  }

  @Test
  @Order(6)
  void aPartyStartedLateIsWaitedForAndTheJobGoesOnNormally() throws Exception {
    Map<String, Process> jobs = new LinkedHashMap<>(submit("late", 20_000, Map.of(),
        List.of("bank1", "bank2")));
    Thread.sleep(20_000);
    jobs.putAll(submit("late", 20_000, Map.of(), List.of("bank3")));
    awaitSuccess("late", jobs);
    checkAggregate("late", 20_000);
    // bank1 really waited for bank3, then went on.
    double waited = Scenarios.sessionWaitSeconds(clusters.driverOutput("bank1", "late"), "bank1");
    assertTrue(waited >= 10, "bank1 waited " + waited + " s for bank3");
  }

  // --- the aggregate job

  private void runAggregate(String job, int rows, Map<String, String> extra) throws Exception {
    awaitSuccess(job, submitAggregate(job, rows, extra));
    checkAggregate(job, rows);
  }

  private Map<String, Process> submitAggregate(String job, int rows, Map<String, String> extra)
      throws Exception {
    return submit(job, rows, extra, PARTIES);
  }

  /** Submits the aggregate job at {@code who} (the dealer with the first of them). */
  private Map<String, Process> submit(String job, int rows, Map<String, String> extra,
      List<String> who) throws Exception {
    List<Path> files = inputs.computeIfAbsent(rows, n -> {
      List<Path> f = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        f.add(SampleData.transactions(work.resolve("data-" + n + "/" + PARTIES.get(i) + ".csv"),
            i, n));
      }
      return f;
    });
    if (who.contains(PARTIES.get(0))) {
      clusters.startDealer(job);
    }
    Map<String, Process> jobs = new LinkedHashMap<>();
    for (String party : who) {
      Properties p = clusters.jobConfig(party);
      p.putAll(extra);
      p.setProperty("input.tx.path", files.get(PARTIES.indexOf(party)).toString());
      p.setProperty("input.tx.schema", "region STRING, amount DOUBLE, items INT");
      p.setProperty("input.tx.share", "amount,items");
      p.setProperty("query", QUERY);
      p.setProperty("output", clusters.jobDir(party, job).resolve("result").toString());
      jobs.put(party, clusters.submit(party, job, p));
    }
    return jobs;
  }

  private void checkAggregate(String job, int rows) throws Exception {
    Map<String, Row> want = expected.computeIfAbsent(rows, n -> {
      Dataset<Row> pooled = PlaintextSpark.get().read().option("header", "true")
          .schema("region STRING, amount DOUBLE, items INT")
          .csv(inputs.get(n).stream().map(Path::toString).toArray(String[]::new));
      Map<String, Row> m = new LinkedHashMap<>();
      for (Row r : pooled.groupBy("region").agg(functions.sum("amount"), functions.count("*"),
          functions.avg("amount"), functions.sum(functions.col("amount")
              .multiply(functions.col("items")))).collectAsList()) {
        m.put(r.getString(0), r);
      }
      return m;
    });
    for (String party : PARTIES) {
      Path csv = PartyClusters.csv(clusters.jobDir(party, job).resolve("result")).orElseThrow(
          () -> new AssertionError(party + " wrote no result for " + job));
      List<String> lines = Files.readAllLines(csv);
      assertEquals(want.size() + 1, lines.size(), party + " " + job);
      for (String line : lines.subList(1, lines.size())) {
        String[] f = line.split(",");
        Row e = want.get(f[0]);
        long n = e.getLong(2);
        assertEquals(e.getDouble(1), Double.parseDouble(f[1]), n * 1e-5, party + " total");
        assertEquals(n, Long.parseLong(f[2]), party + " count");
        assertEquals(e.getDouble(3), Double.parseDouble(f[3]), 1e-4, party + " mean");
        assertEquals(e.getDouble(4), Double.parseDouble(f[4]), n * 1e-3, party + " revenue");
      }
    }
  }

  private void awaitSuccess(String job, Map<String, Process> jobs) throws Exception {
    boolean ok = false;
    try {
      for (Map.Entry<String, Process> e : jobs.entrySet()) {
        String party = e.getKey();
        assertTrue(e.getValue().waitFor(5, TimeUnit.MINUTES), "the " + job + " job of " + party
            + " ended");
        assertEquals(0, e.getValue().exitValue(), party + " " + job + ":\n"
            + tail(clusters.driverOutput(party, job)));
      }
      ok = true;
    } finally {
      if (!ok) { // a job left running would hold its cluster's only core
        jobs.values().forEach(PartyClusters::stop);
      }
    }
  }

  /** No gateway, driver or executor log of the run saw a conflicting duplicate message. */
  private void assertNoConflicts() throws Exception {
    try (var files = Files.walk(work)) {
      for (Path f : files.filter(Files::isRegularFile).filter(f -> {
        String n = f.getFileName().toString();
        return n.equals("stderr") || n.endsWith(".txt") || n.endsWith(".log");
      }).toList()) {
        assertFalse(LocalParties.read(f).contains("conflicting duplicate"), f.toString());
      }
    }
  }

  /** The party runner's failure message (after "party X failed: "). */
  private static String failureLine(String out) {
    return out.lines().filter(l -> l.startsWith("spark-mpc: party") && l.contains(" failed: "))
        .map(l -> l.substring(l.indexOf(" failed: ") + 9)).findFirst().orElse(tail(out));
  }

  private static String tail(String s) {
    return s.length() > 5000 ? s.substring(s.length() - 5000) : s;
  }
}
