package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each party as users run it: a Spark standalone master and worker of its own (from the Spark jars,
 * on loopback), its gateway as a process of its own, and its job submitted with SparkSubmit, the
 * driver and the executor reaching the gateway as clients. A dealer process hands out triples.
 */
class StandaloneClusterTest {

  static final List<String> FLAGS = LocalParties.jvmFlags();

  @Test
  void twoPartiesOnTheirOwnClustersRunAProductQuery(@TempDir Path work) throws Exception {
    LocalParties.sparkHome(work.resolve("spark-home"));
    List<String> members = List.of("bank1", "bank2", "dealer");
    Path keys = LocalParties.keys(work.resolve("keys"), members);
    String spec = LocalParties.partiesSpec(members, LocalParties.freePorts(3));
    List<Process> procs = new ArrayList<>();
    try {
      procs.add(LocalParties.startDealer(work, spec, keys, Duration.ofSeconds(120),
          Scenarios.TEST_JVM));
      List<Process> jobs = new ArrayList<>();
      String[] data = {"region,amount,items\nnorth,1.5,2\nsouth,2.5,1\nnorth,3,4\n",
          "region,amount,items\nnorth,10,1\neast,4.25,2\n"};
      for (int i = 0; i < 2; i++) {
        String party = members.get(i);
        Path dir = work.resolve(party);
        int[] ports = LocalParties.freePorts(3);
        String master = "spark://127.0.0.1:" + ports[0];
        procs.add(LocalParties.start(dir.resolve("master"), "-Xmx256m",
            "org.apache.spark.deploy.master.Master", Scenarios.TEST_JVM,
            List.of("--host", "127.0.0.1", "--port", Integer.toString(ports[0]), "--webui-port",
                Integer.toString(ports[1]))));
        procs.add(LocalParties.start(dir.resolve("worker"), "-Xmx256m",
            "org.apache.spark.deploy.worker.Worker", Scenarios.TEST_JVM,
            List.of(master, "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
                "--webui-port", Integer.toString(ports[2]), "--work-dir",
                dir.resolve("worker-work").toString())));
        Properties p = LocalParties.baseConfig(party, spec, keys, Duration.ofSeconds(120));
        p.remove("spark.master"); // from spark-submit
        procs.add(LocalParties.startGateway(dir.resolve("gateway"), p, Scenarios.TEST_JVM));
        String own = spec.substring(spec.indexOf(party + "=") + party.length() + 1).split(",")[0];
        p.setProperty("spark.mpc.gateway.address", own);
        p.setProperty("spark.mpc.dealer", "dealer");
        p.setProperty("spark.executor.memory", "512m");
        p.setProperty("spark.executor.extraJavaOptions", String.join(" ", FLAGS));
        Path input = dir.resolve("tx.csv");
        Files.writeString(input, data[i]);
        p.setProperty("input.tx.path", input.toString());
        p.setProperty("input.tx.schema", "region STRING, amount DOUBLE, items INT");
        p.setProperty("input.tx.share", "amount,items");
        p.setProperty("query", "SELECT region, reveal(SUM(amount)) AS t, "
            + "reveal(SUM(amount * items)) AS r FROM tx GROUP BY region");
        p.setProperty("output", dir.resolve("result").toString());
        Path conf = dir.resolve("party.properties");
        try (var out = Files.newOutputStream(conf)) {
          p.store(out, party);
        }
        jobs.add(LocalParties.start(dir.resolve("submit"), "-Xmx768m",
            "org.apache.spark.deploy.SparkSubmit", Scenarios.TEST_JVM,
            List.of("--master", master, "--class", "org.sparkmpc.spark.runner.PartyRunner",
                DistributableJarTest.distJar().toString(), conf.toString())));
      }
      procs.addAll(jobs);
      for (int i = 0; i < 2; i++) {
        Process job = jobs.get(i);
        Path submit = work.resolve(members.get(i)).resolve("submit");
        assertTrue(job.waitFor(4, TimeUnit.MINUTES), "the job of " + members.get(i) + " ended");
        assertEquals(0, job.exitValue(), Files.readString(submit.resolve("stderr.txt")));
      }
      for (int i = 0; i < 2; i++) {
        Path result = work.resolve(members.get(i)).resolve("result");
        String csv;
        try (var files = Files.list(result)) {
          csv = Files.readString(files.filter(f -> f.toString().endsWith(".csv")).findFirst()
              .orElseThrow());
        }
        assertTrue(csv.contains("north,14.5,25.0") && csv.contains("east,4.25,8.5")
            && csv.contains("south,2.5,2.5"), csv);
      }
      // The executors (processes of the workers) opened the session through the gateway.
      ExecutorJvmTest.assertExecutorsOpenedTheSession(work, List.of("bank1", "bank2"));
    } finally {
      for (Process p : procs) {
        p.destroyForcibly();
      }
    }
  }
}
