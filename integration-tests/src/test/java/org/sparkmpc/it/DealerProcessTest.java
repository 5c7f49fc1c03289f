package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two banks and a dealer, each a process of its own with its own certificate: the dealer joins the
 * session, is asked for every operator's material in order, and ends with the session.
 */
class DealerProcessTest {

  @Test
  void aDealerProcessServesASessionOfTwoBanks(@TempDir Path work) throws Exception {
    List<String> members = List.of("bank1", "bank2", "dealer");
    Path keys = LocalParties.keys(work.resolve("keys"), members);
    String spec = LocalParties.partiesSpec(members, LocalParties.freePorts(3));
    Path d1 = BadInputTest.csv(work.resolve("d/1.csv"), "region,amount", "north,1.5", "south,2.5");
    Path d2 = BadInputTest.csv(work.resolve("d/2.csv"), "region,amount", "north,10", "east,4.25");

    Path dealerDir = work.resolve("dealer");
    Files.createDirectories(dealerDir);
    Properties dc = LocalParties.baseConfig("dealer", spec, keys, Duration.ofSeconds(60));
    dc.setProperty("dealer.idleTimeout", "2m");
    Path dealerConf = dealerDir.resolve("dealer.properties");
    try (var out = Files.newOutputStream(dealerConf)) {
      dc.store(out, "dealer");
    }
    Process dealer = LocalParties.start(dealerDir, "-Xmx256m", dealerConf,
        "org.sparkmpc.correlation.DealerMain", Scenarios.TEST_JVM);

    Map<String, Properties> confs = new LinkedHashMap<>();
    for (int i = 0; i < 2; i++) {
      String b = members.get(i);
      Properties p = LocalParties.baseConfig(b, spec, keys, Duration.ofSeconds(60));
      p.setProperty("spark.mpc.dealer", "dealer");
      p.setProperty("out", work.resolve(b).resolve("steps").toString());
      p.setProperty("steps", "agg");
      p.setProperty("step.agg.input", (i == 0 ? d1 : d2).toString());
      p.setProperty("step.agg.schema", "region STRING, amount DOUBLE");
      p.setProperty("step.agg.share", "amount");
      p.setProperty("step.agg.query",
          "SELECT region, reveal(SUM(amount)) AS t FROM tx GROUP BY region");
      confs.put(b, p);
    }
    List<LocalParties.Outcome> outs = LocalParties.run(work, confs, "-Xmx768m",
        Duration.ofMinutes(3), ScenarioParty.class.getName(), Scenarios.TEST_JVM);
    for (LocalParties.Outcome o : outs) {
      assertEquals(0, o.exitCode(), o.toString());
      assertNull(Scenarios.error(work, o.party(), "agg"), o.party());
      String result = Files.readString(Scenarios.step(work, o.party(), "agg").resolve("result.csv"));
      assertTrue(result.contains("north,11.5") && result.contains("east,4.25")
          && result.contains("south,2.5"), result);
    }
    assertTrue(dealer.waitFor(60, TimeUnit.SECONDS), "the dealer did not end with the session");
    String said = Files.readString(dealerDir.resolve("stdout.txt"));
    assertEquals(0, dealer.exitValue(), said + Files.readString(dealerDir.resolve("stderr.txt")));
    assertTrue(said.contains("served 2 operators"), said);
  }
}
