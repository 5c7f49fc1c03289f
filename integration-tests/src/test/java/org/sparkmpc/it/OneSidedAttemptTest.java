package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * One party runs something the others do not, three parties each in its own JVM: a query with a
 * literal of its own, refused by the plan agreement at every party without the literal reaching
 * another party; and sharing a secure table again, or a column computed from shares, refused at the
 * party that tried, naming the column, while the peers, who shared their own rows at that point,
 * are told at once (not after the timeout). The session goes on afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OneSidedAttemptTest {
  static final List<String> PARTIES = List.of("bank1", "bank2", "bank3");
  static final String ATTACKER = "bank2";
  static final String LITERAL_A = "north-secret-literal-A";
  static final String LITERAL_B = "south-secret-literal-B";
  /** The session's timeout; a peer told at once fails far sooner. */
  static final Duration TIMEOUT = Duration.ofSeconds(40);

  Path work;
  Path data;

  @BeforeAll
  void runParties(@TempDir Path dir) throws Exception {
    work = dir;
    data = work.resolve("data");
    List<Path> inputs = List.of(
        BadInputTest.csv(data.resolve("bank1.csv"), "region,amount,items",
            "north," + ShareProbeTest.MARKER + ",1", "south,10.5,2"),
        BadInputTest.csv(data.resolve("bank2.csv"), "region,amount,items", "north,20.25,3"),
        BadInputTest.csv(data.resolve("bank3.csv"), "region,amount,items", "south,1.5,5"));
    List<String> steps = List.of("setup", "literal", "reshare", "reshareSum", "legit");
    List<LocalParties.Outcome> outs = Scenarios.run(work, PARTIES, TIMEOUT, (i, p) -> {
      boolean attacker = PARTIES.get(i).equals(ATTACKER);
      p.setProperty("steps", String.join(",", steps));
      p.setProperty("probe.input", inputs.get(i).toString());
      steps.forEach(s -> p.setProperty("step." + s + ".kind", "probe"));
      p.setProperty("step.literal.probe", "sql");
      p.setProperty("step.literal.query", "SELECT region, reveal(SUM(amount)) AS t FROM tx "
          + "WHERE region = '" + (attacker ? LITERAL_B : LITERAL_A) + "' GROUP BY region");
      // The others share their own rows (again) at the point where the attacker tries.
      p.setProperty("step.reshare.probe", attacker ? "reshare" : "shareOwn");
      p.setProperty("step.reshareSum.probe", attacker ? "reshareSum" : "shareOwn");
      p.setProperty("step.legit.probe", "sql");
      p.setProperty("step.legit.query",
          "SELECT region, reveal(SUM(amount)) AS t FROM tx GROUP BY region");
    });
    for (LocalParties.Outcome o : outs) {
      assertEquals(0, o.exitCode(), o.party() + " exit " + o.exitCode());
    }
    ShareProbeTest.assertMarkerNowhere(work, data);
  }

  @Test
  void aLiteralOfOnePartyIsRefusedEverywhereAndReachesNoOtherParty() throws Exception {
    for (String party : PARTIES) {
      String theirs = party.equals(ATTACKER) ? LITERAL_A : LITERAL_B;
      assertAbsentUnder(work.resolve(party), theirs);
      assertAbsentUnder(work.resolve(party), theirs.substring(0, 12)); // no prefix either
      String err = Scenarios.error(work, party, "literal");
      assertNotNull(err, party + " ran the query");
      assertTrue(err.contains("different secure operation") && err.contains("SecureAggregate"),
          party + ": " + err);
    }
    // Both parties of literal A agree with each other; the error names the one that differs.
    assertTrue(Scenarios.error(work, "bank1", "literal").contains("'" + ATTACKER + "'"));
  }

  @Test
  void sharingASecureTableAgainIsRefusedAndThePeersAreToldAtOnce() throws Exception {
    checkOneSided("reshare", "'amount'");
  }

  @Test
  void sharingAColumnComputedFromSharesIsRefusedAndThePeersAreToldAtOnce() throws Exception {
    checkOneSided("reshareSum", "'t'");
  }

  private void checkOneSided(String step, String column) throws Exception {
    String own = Scenarios.error(work, ATTACKER, step);
    assertNotNull(own, ATTACKER + " shared shares");
    assertTrue(own.contains(column) && own.contains("holds shares"), own);
    for (String party : PARTIES) {
      long ms = Long.parseLong(Files.readString(Scenarios.step(work, party, step)
          .resolve("ms.txt")).trim());
      assertTrue(ms < TIMEOUT.toMillis() / 4, party + " waited " + ms + " ms");
      if (!party.equals(ATTACKER)) {
        String err = Scenarios.error(work, party, step);
        assertNotNull(err, party + " went on without " + ATTACKER);
        assertTrue(err.contains("party '" + ATTACKER + "' stopped") && err.contains(column)
            && err.contains("holds shares"), party + ": " + err);
      }
    }
  }

  @Test
  void theSessionGoesOn() throws Exception {
    for (String party : PARTIES) {
      assertNull(Scenarios.error(work, party, "legit"), party);
      String result = Files.readString(Scenarios.step(work, party, "legit").resolve("result.csv"));
      assertTrue(result.contains("north," + (31337.25 + 20.25)) && result.contains("south,12.0"),
          party + ": the totals differ from the plaintext");
    }
  }

  /** No file under {@code dir} holds {@code text}. */
  private static void assertAbsentUnder(Path dir, String text) throws Exception {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertFalse(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains(text),
            "another party's literal is in " + f);
      }
    }
  }
}
