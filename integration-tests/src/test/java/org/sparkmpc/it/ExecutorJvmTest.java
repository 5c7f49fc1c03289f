package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Executors in JVMs of their own (Spark's local-cluster mode: a worker and an executor process
 * per party), which reach their party's gateway as clients and open the session from the ticket
 * the driver attaches to each task: sharing, a product with the dealer's triples and a reveal.
 * bank1's gateway is a process of its own (bin/gateway), reached by its driver and executors as
 * clients; bank2's driver runs its gateway itself.
 */
class ExecutorJvmTest {

  @Test
  void executorsInTheirOwnJvmsComputeThroughTheGateway(@TempDir Path work) throws Exception {
    LocalParties.sparkHome(work.resolve("spark-home"));
    Path d1 = BadInputTest.csv(work.resolve("d/1.csv"), "region,amount,items", "north,1.5,2",
        "south,2.5,1", "north,3,4");
    Path d2 = BadInputTest.csv(work.resolve("d/2.csv"), "region,amount,items", "north,10,1",
        "east,4.25,2");
    Process[] gateway = new Process[1];
    Scenarios.DealerRun run;
    try {
      run = Scenarios.runWithDealer(work, List.of("bank1", "bank2"), (i, p) -> {
        if (i == 0) {
          gateway[0] = LocalParties.startGateway(work.resolve("gateway-bank1"), p,
              Scenarios.TEST_JVM);
          p.setProperty("spark.mpc.gateway.address",
              LocalParties.address(p.getProperty("spark.mpc.parties"), "bank1"));
        }
        configure(i, p, d1, d2);
      });
    } finally {
      if (gateway[0] != null) {
        gateway[0].destroy();
      }
    }
    check(work, run);
  }

  static void configure(int i, java.util.Properties p, Path d1, Path d2) {
    p.setProperty("spark.master", "local-cluster[1,1,1024]");
    p.setProperty("spark.executor.extraJavaOptions", String.join(" ",
        LocalParties.jvmFlags()));
    p.setProperty("steps", "agg");
    p.setProperty("step.agg.input", (i == 0 ? d1 : d2).toString());
    p.setProperty("step.agg.schema", "region STRING, amount DOUBLE, items INT");
    p.setProperty("step.agg.share", "amount,items");
    p.setProperty("step.agg.query", "SELECT region, reveal(SUM(amount)) AS t, "
        + "reveal(SUM(amount * items)) AS r FROM tx GROUP BY region");
  }

  static void check(Path work, Scenarios.DealerRun run) throws Exception {
    for (LocalParties.Outcome o : run.parties()) {
      assertEquals(0, o.exitCode(), o.toString());
      assertNull(Scenarios.error(work, o.party(), "agg"), o.party());
      String result = Files.readString(Scenarios.step(work, o.party(), "agg").resolve("result.csv"));
      assertTrue(result.contains("north,14.5,25.0") && result.contains("east,4.25,8.5")
          && result.contains("south,2.5,2.5"), result);
    }
    // The tasks ran in executor processes, which opened the session through the gateway.
    assertEquals(2, assertExecutorsOpenedTheSession(work, List.of("bank1", "bank2")).size());
  }

  /**
   * Every party's executor log under {@code root} shows it opened the session through its
   * gateway; returns the executor logs.
   */
  static List<Path> assertExecutorsOpenedTheSession(Path root, List<String> parties)
      throws Exception {
    List<Path> logs;
    try (var files = Files.walk(root)) {
      logs = files.filter(f -> f.getFileName().toString().equals("stderr")
          && f.toString().contains("app-")).toList();
    }
    for (String party : parties) {
      assertTrue(logs.stream().anyMatch(log -> LocalParties.read(log).contains("party " + party
          + ": this executor opened session")), party + " in " + logs);
    }
    return logs;
  }
}
