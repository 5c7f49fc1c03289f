package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spark.mpc.reveal.minGroupSize} with three parties, each its own JVM: groups smaller than
 * the minimum are never opened (their secure values come back NULL, their public count stays), a
 * secret-shared aggregate leaves them out, rows that are not aggregated cannot be revealed, and
 * parties that set different minimums fail the query together.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MinGroupSizeTest {
  static final List<String> PARTIES = List.of("bank1", "bank2", "bank3");
  /** Rows per party and region: north 9 in all, east 5, south 2. */
  static final String[][] REGIONS = {{"north", "north", "north", "north", "south", "east", "east"},
      {"north", "north", "north", "south", "east", "east"}, {"north", "north", "east"}};
  static final String GROUPED = "SELECT region, reveal(SUM(amount)) AS total, COUNT(*) AS n, "
      + "reveal(AVG(amount)) AS mean FROM tx GROUP BY region";

  Path work;
  /** region -> {sum, count}, on the pooled rows. */
  final Map<String, double[]> pooled = new TreeMap<>();

  @BeforeAll
  void runParties(@TempDir Path dir) throws Exception {
    work = dir;
    List<String> files = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      StringBuilder csv = new StringBuilder("region,amount,items\n");
      for (int r = 0; r < REGIONS[i].length; r++) {
        double amount = 10.25 * (i + 1) + 3.5 * r;
        csv.append(REGIONS[i][r]).append(',').append(amount).append(",1\n");
        double[] acc = pooled.computeIfAbsent(REGIONS[i][r], k -> new double[2]);
        acc[0] += amount;
        acc[1]++;
      }
      Path f = work.resolve("data/p" + i + ".csv");
      Files.createDirectories(f.getParent());
      Files.writeString(f, csv);
      files.add(f.toString());
    }
    List<LocalParties.Outcome> outs = Scenarios.run(work, PARTIES, Duration.ofSeconds(60),
        (i, p) -> {
          p.setProperty("steps", "grouped,allsmall,rows,nested,off,disagree,psi3");
          for (String s : List.of("grouped", "allsmall", "rows", "nested", "off", "disagree",
              "psi3")) {
            p.setProperty("step." + s + ".input", files.get(i));
            p.setProperty("step." + s + ".schema", "region STRING, amount DOUBLE, items INT");
            p.setProperty("step." + s + ".share", "amount,items");
            if (!s.equals("off")) {
              p.setProperty("step." + s + ".conf.spark.mpc.reveal.minGroupSize",
                  s.equals("allsmall") ? "100" : s.equals("disagree") && i == 2 ? "4" : "5");
            }
          }
          p.setProperty("step.grouped.query", GROUPED);
          p.setProperty("step.off.query", GROUPED);
          p.setProperty("step.allsmall.query", GROUPED);
          p.setProperty("step.disagree.query", GROUPED);
          p.setProperty("step.rows.query", "SELECT region, reveal(amount) AS a FROM tx");
          p.setProperty("step.nested.query", "SELECT region, SUM(amount) AS t FROM tx "
              + "GROUP BY region");
          p.setProperty("step.nested.revealAfter", "true");
          // private set intersection in a session of three parties
          p.setProperty("step.psi3.kind", "psi");
          p.setProperty("step.psi3.mode", "size");
          p.setProperty("step.psi3.id", "region");
        });
    for (LocalParties.Outcome o : outs) {
      assertEquals(0, o.exitCode(), o.toString());
    }
  }

  private Map<String, String[]> result(String party, String step) throws Exception {
    return Scenarios.result(work, party, step);
  }

  @Test
  void privateSetIntersectionIsRefusedInASessionOfThreeParties() throws Exception {
    for (String party : PARTIES) {
      String err = Scenarios.error(work, party, "psi3");
      assertTrue(err != null && err.contains("two parties") && err.contains("has 3")
          && err.contains("spark.mpc.parties"), party + ": " + err);
    }
  }

  @Test
  void groupsUnderTheMinimumAreNotOpenedAndTheOthersEqualPlaintext() throws Exception {
    checkGroups("grouped", 5);
  }

  @Test
  void whenEveryGroupIsUnderTheMinimumNothingIsOpenedAndCountsStay() throws Exception {
    checkGroups("allsmall", 100);
  }

  /** Every party: all groups with their counts; under {@code min}, total and average not opened. */
  private void checkGroups(String step, int min) throws Exception {
    for (String party : PARTIES) {
      Map<String, String[]> got = result(party, step);
      assertEquals(pooled.keySet(), got.keySet(), party);
      for (Map.Entry<String, double[]> e : pooled.entrySet()) {
        String[] r = got.get(e.getKey());
        assertEquals((long) e.getValue()[1], Long.parseLong(r[2]), party + " count");
        if (e.getValue()[1] < min) {
          assertEquals("", r[1], party + ": " + e.getKey() + " is under the minimum");
          assertEquals("", r[3], party + ": " + e.getKey() + " is under the minimum");
        } else {
          assertEquals(e.getValue()[0], Double.parseDouble(r[1]), 1e-3, party);
          assertEquals(e.getValue()[0] / e.getValue()[1], Double.parseDouble(r[3]), 1e-3, party);
        }
      }
    }
  }

  @Test
  void withoutTheSettingEveryGroupIsOpened() throws Exception {
    Map<String, String[]> got = result("bank2", "off");
    assertEquals(pooled.get("south")[0], Double.parseDouble(got.get("south")[1]), 1e-3);
  }

  @Test
  void revealingASecretSharedAggregateLaterKeepsSmallGroupsClosed() throws Exception {
    for (String party : PARTIES) {
      Map<String, String[]> got = result(party, "nested");
      assertEquals(pooled.get("north")[0], Double.parseDouble(got.get("north")[1]), 1e-3);
      assertEquals(pooled.get("east")[0], Double.parseDouble(got.get("east")[1]), 1e-3);
      String[] south = got.get("south"); // left out, or present and not opened
      assertTrue(south == null || south[1].isEmpty(), party + ": south was opened");
    }
  }

  @Test
  void revealingRowsThatAreNotAggregatedIsRefusedAtEveryParty() throws Exception {
    for (String party : PARTIES) {
      String error = Scenarios.error(work, party, "rows");
      assertNotNull(error, party + " must refuse the row reveal");
      assertTrue(error.contains("spark.mpc.reveal.minGroupSize"), party + ": " + error);
    }
  }

  @Test
  void partiesWithDifferentMinimumsFailTogether() throws Exception {
    for (String party : PARTIES) {
      String error = Scenarios.error(work, party, "disagree");
      assertNotNull(error, party + " must fail the query");
      assertTrue(error.contains("minGroupSize"), party + ": " + error);
    }
  }
}
