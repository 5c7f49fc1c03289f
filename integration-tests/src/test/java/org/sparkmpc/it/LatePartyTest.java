package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A party whose job starts late: the others wait for it (up to spark.mpc.timeout), then go on
 * normally when it arrives. (A party that never comes is named by the others within the timeout:
 * see {@link BadInputTest}.)
 */
class LatePartyTest {

  @Test
  void theOthersWaitForALatePartyThenGoOnNormally(@TempDir Path work) throws Exception {
    Path d1 = BadInputTest.csv(work.resolve("d/1.csv"), "region,amount", "north,1.5", "south,2.5");
    Path d2 = BadInputTest.csv(work.resolve("d/2.csv"), "region,amount", "north,10", "east,4.25");
    List<LocalParties.Outcome> outs = Scenarios.run(work, List.of("bank1", "bank2"),
        Duration.ofSeconds(60), (i, p) -> {
          if (i == 1) {
            p.setProperty("startDelayMs", "15000");
          }
          p.setProperty("steps", "agg");
          p.setProperty("step.agg.input", (i == 0 ? d1 : d2).toString());
          p.setProperty("step.agg.schema", "region STRING, amount DOUBLE");
          p.setProperty("step.agg.share", "amount");
          p.setProperty("step.agg.query",
              "SELECT region, reveal(SUM(amount)) AS t FROM tx GROUP BY region");
        });
    // bank1 really waited for bank2 (which slept 15 s before starting), then went on.
    double waited = Scenarios.sessionWaitSeconds(
        Files.readString(work.resolve("bank1").resolve("party.log")), "bank1");
    assertTrue(waited >= 10, "bank1 waited " + waited + " s for bank2");
    for (LocalParties.Outcome o : outs) {
      assertEquals(0, o.exitCode(), o.toString());
      assertNull(Scenarios.error(work, o.party(), "agg"), o.party());
      String result = Files.readString(Scenarios.step(work, o.party(), "agg").resolve("result.csv"));
      assertTrue(result.contains("north,11.5") && result.contains("east,4.25")
          && result.contains("south,2.5"), result);
    }
  }
}
