package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Differentially private reveals between two party JVMs (the OT source): noisy SUM, COUNT and AVG
 * by public groups, equal at both parties and within the noise's reach of the exact values; the
 * privacy budget of a dataset enforced by every party's ledger within a session and across
 * sessions; and refusals, before anything moves, of a sum without clipping bounds, of noise on
 * MAX and of parties that declare other bounds.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DifferentialPrivacyTest {
  static final List<String> PARTIES = List.of("emp1", "emp2");
  static final String SCHEMA = "gender STRING, salary DOUBLE, age INT";
  static final double HI = 200_000;

  Path work;
  Path[] ledgers = new Path[2];
  /** gender -> {sum of clipped salaries, count}, pooled. */
  final Map<String, double[]> pooled = new TreeMap<>();
  List<LocalParties.Outcome> second;

  @BeforeAll
  void runParties(@TempDir Path dir) throws Exception {
    work = dir;
    List<String> files = new ArrayList<>();
    java.util.Random rnd = new java.util.Random(7);
    for (int i = 0; i < 2; i++) {
      StringBuilder csv = new StringBuilder("gender,salary,age\n");
      for (int r = 0; r < 400; r++) {
        String g = r % 3 == 0 ? "F" : "M";
        // Some salaries above the clipping bound: they count as HI.
        double salary = r % 50 == 7 ? 350_000 : Math.round(30_000 + 90_000 * rnd.nextDouble());
        csv.append(g).append(',').append(salary).append(',').append(20 + r % 40).append('\n');
        double[] acc = pooled.computeIfAbsent(g, k -> new double[2]);
        acc[0] += Math.min(salary, HI);
        acc[1]++;
      }
      Path f = work.resolve("data/p" + i + ".csv");
      Files.createDirectories(f.getParent());
      Files.writeString(f, csv);
      files.add(f.toString());
      ledgers[i] = work.resolve("ledger-" + PARTIES.get(i) + "/privacy.json");
    }
    List<String> steps = List.of("noisy", "noisy2", "over", "nobounds", "max", "otherbounds",
        "wide");
    List<LocalParties.Outcome> outs = Scenarios.run(work.resolve("s1"), PARTIES,
        Duration.ofSeconds(60), (i, p) -> {
          configure(p, i, files.get(i));
          p.setProperty("steps", String.join(",", steps));
          for (String s : steps) {
            step(p, s, files.get(i), "0.5", "wages");
          }
          p.setProperty("step.noisy.exact", "true");
          p.setProperty("step.noisy2.epsilon", "0.4"); // 0.9 of 1.0 spent
          p.setProperty("step.over.epsilon", "0.2"); // would be 1.1: refused
          p.setProperty("step.nobounds.clip", "");
          p.setProperty("step.nobounds.dataset", "nobounds");
          p.setProperty("step.max.aggs", "sum,max");
          p.setProperty("step.max.dataset", "max");
          p.setProperty("step.otherbounds.clip", "salary:0:" + (i == 0 ? HI : 250_000));
          p.setProperty("step.otherbounds.dataset", "otherbounds");
          // Salaries bounded by their type (the whole fixed-point range): their sums are kept
          // 128 bits wide, and the noisy ones are opened from the low words.
          p.setProperty("step.wide.conf.spark.mpc.share.bounds", "type");
          p.setProperty("step.wide.dataset", "wide");
        });
    outs.forEach(o -> assertEquals(0, o.exitCode(), o.toString()));
    // A second session, new JVMs, the same ledgers.
    second = Scenarios.run(work.resolve("s2"), PARTIES, Duration.ofSeconds(60), (i, p) -> {
      configure(p, i, files.get(i));
      p.setProperty("steps", "again,fresh");
      step(p, "again", files.get(i), "0.2", "wages");
      step(p, "fresh", files.get(i), "0.5", "census");
    });
    second.forEach(o -> assertEquals(0, o.exitCode(), o.toString()));
  }

  private void configure(Properties p, int i, String file) {
    p.setProperty("spark.mpc.correlations", "ot");
    p.setProperty("spark.mpc.dp.ledger", ledgers[i].toString());
    p.setProperty("spark.mpc.dp.budget", "1.0");
  }

  private static void step(Properties p, String s, String file, String epsilon, String dataset) {
    String k = "step." + s + ".";
    p.setProperty(k + "kind", "noisy");
    p.setProperty(k + "input", file);
    p.setProperty(k + "schema", SCHEMA);
    p.setProperty(k + "share", "salary,age");
    p.setProperty(k + "clip", "salary:0:" + HI);
    p.setProperty(k + "column", "salary");
    p.setProperty(k + "group", "gender");
    p.setProperty(k + "epsilon", epsilon);
    p.setProperty(k + "dataset", dataset);
  }

  private Path s1() {
    return work.resolve("s1");
  }

  @Test
  void noisyTotalsAreTheSameAtBothPartiesAndNearTheExactOnes() throws Exception {
    Map<String, String[]> a = Scenarios.result(s1(), "emp1", "noisy");
    Map<String, String[]> b = Scenarios.result(s1(), "emp2", "noisy");
    assertEquals(a.keySet(), b.keySet());
    for (String g : a.keySet()) {
      assertArrayEquals(a.get(g), b.get(g), "both parties open the same noisy values");
    }
    // Two noisy quantities (the salary sum and the counts) share epsilon 0.5: scale 4 for the
    // counts, 200,000 / 0.25 = 800,000 for the sums. P(|noise| > 30 scales) < e^-30.
    boolean sumsMoved = false;
    for (String g : List.of("F", "M")) {
      double[] exact = pooled.get(g);
      String[] row = a.get(g);
      double total = Double.parseDouble(row[1]);
      long n = Long.parseLong(row[2]);
      assertTrue(Math.abs(total - exact[0]) < 30 * 800_000, g + ": " + total + " vs " + exact[0]);
      assertTrue(Math.abs(n - exact[1]) < 30 * 4, g + ": " + n + " vs " + exact[1]);
      sumsMoved |= total != exact[0];
      double mean = Double.parseDouble(row[3]);
      assertEquals(total / n, mean, 1e-6 * Math.abs(mean), "AVG is the noisy sum over the noisy "
          + "count");
    }
    assertTrue(sumsMoved, "the noisy sums differ from the exact ones");
  }

  @Test
  void aNoisySumKeptWideIsAsNearTheExactOne() throws Exception {
    Map<String, String[]> a = Scenarios.result(s1(), "emp1", "wide");
    assertEquals(a.keySet(), Scenarios.result(s1(), "emp2", "wide").keySet());
    for (String g : List.of("F", "M")) {
      double total = Double.parseDouble(a.get(g)[1]);
      assertTrue(Math.abs(total - pooled.get(g)[0]) < 30 * 800_000, g + ": " + total + " vs "
          + pooled.get(g)[0]);
    }
  }

  @Test
  void theExactRevealOfTheSameQueryMatchesTheClippedPlaintext() throws Exception {
    Map<String, String[]> exact = Scenarios.result(s1(), "emp1", "noisy/exact");
    for (String g : List.of("F", "M")) {
      assertEquals(pooled.get(g)[0], Double.parseDouble(exact.get(g)[1]), 1e-6,
          "clip() clamps at the owner: salaries above the bound count as the bound");
      assertEquals((long) pooled.get(g)[1], Long.parseLong(exact.get(g)[2]));
    }
  }

  @Test
  void aQueryThatWouldPassTheBudgetIsRefusedAtEveryPartyAndNotCharged() throws Exception {
    for (String party : PARTIES) {
      String e = Scenarios.error(s1(), party, "over");
      assertNotNull(e, party);
      assertTrue(e.contains("privacy budget") && e.contains("'wages'") && e.contains("0.9"),
          party + ": " + e);
      assertNull(Scenarios.error(s1(), party, "noisy2"), party);
    }
  }

  @Test
  void theBudgetHoldsAcrossSessions() throws Exception {
    for (int i = 0; i < 2; i++) {
      String e = Scenarios.error(work.resolve("s2"), PARTIES.get(i), "again");
      assertNotNull(e, "0.9 spent in the first session, 0.2 more would pass 1.0");
      assertTrue(e.contains("privacy budget") && e.contains("'wages'"), e);
      String ledger = Files.readString(ledgers[i]);
      assertTrue(ledger.contains("\"wages\"") && ledger.contains("\"census\""), ledger);
      // Another dataset has its own budget.
      assertNull(Scenarios.error(work.resolve("s2"), PARTIES.get(i), "fresh"));
      com.fasterxml.jackson.databind.JsonNode root = new com.fasterxml.jackson.databind
          .ObjectMapper().readTree(ledger);
      assertEquals(0.9, root.path("datasets").path("wages").path("spent").asDouble(), 1e-9);
      assertEquals(2, root.path("datasets").path("wages").path("charges").size());
      assertEquals(0.5, root.path("datasets").path("census").path("spent").asDouble(), 1e-9);
    }
  }

  @Test
  void refusalsNameTheColumnOrTheOperationAndSpendNothing() throws Exception {
    for (String party : PARTIES) {
      String e = Scenarios.error(s1(), party, "nobounds");
      assertNotNull(e, party);
      assertTrue(e.contains("'salary'") && e.contains("clip"), e);
      e = Scenarios.error(s1(), party, "max");
      assertNotNull(e, party);
      assertTrue(e.contains("noisy reveal") && e.contains("MIN/MAX"), e);
      e = Scenarios.error(s1(), party, "otherbounds");
      assertNotNull(e, party);
      assertTrue(e.contains("250000") || e.contains("different"), e);
      String ledger = Files.readString(ledgers[PARTIES.indexOf(party)]);
      for (String d : List.of("nobounds", "max", "otherbounds")) {
        assertNotEquals(-1, ledger.indexOf("\"wages\""));
        assertEquals(-1, ledger.indexOf("\"" + d + "\""), d + " was charged: " + ledger);
      }
    }
  }
}
