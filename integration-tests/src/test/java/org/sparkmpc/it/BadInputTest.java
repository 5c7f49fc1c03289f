package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.net.KeyGen;

/**
 * Bad input across parties, each party its own JVM: every case fails with a clear error that names
 * the party and the column or setting at fault, at every party and well before the timeout where a
 * party can say why; no secret value shows in any error, log or output; and the session goes on.
 */
class BadInputTest {
  static final List<String> BANKS = List.of("bank1", "bank2");
  /** A value that appears in the secret column of every data file and must never be printed. */
  static final String MARKER = "31337.25";

  static Path csv(Path file, String header, String... rows) throws IOException {
    Files.createDirectories(file.getParent());
    StringBuilder sb = new StringBuilder(header).append('\n');
    for (String r : rows) {
      sb.append(r).append('\n');
    }
    return Files.writeString(file, sb.toString());
  }

  @Test
  void badInputsStopEveryPartyWithAnErrorNamingTheCauseAndTheSessionGoesOn(@TempDir Path work)
      throws Exception {
    String good = "region,amount,items";
    Path ok1 = csv(work.resolve("d/ok1.csv"), good, "north," + MARKER + ",1", "south,10.5,2");
    Path ok2 = csv(work.resolve("d/ok2.csv"), good, "north,20.25,3", "east," + MARKER + ",4");
    Path nulls = csv(work.resolve("d/null.csv"), good, "north," + MARKER + ",1", "south,,2");
    Path text = csv(work.resolve("d/text.csv"), good, "north," + MARKER + ",1", "south,n/a,2");
    Path big = csv(work.resolve("d/big.csv"), good, "north," + MARKER + ",1", "south,1e30,2");
    String schema = "region STRING, amount DOUBLE, items INT";
    String sumAmount = "SELECT region, reveal(SUM(amount)) AS t FROM tx GROUP BY region";
    List<LocalParties.Outcome> outs = Scenarios.run(work, BANKS, Duration.ofSeconds(60), (i, p) -> {
      p.setProperty("steps", "nulls,nonnumeric,range,mismatch,nosource,ok");
      for (String step : List.of("nulls", "nonnumeric", "range", "mismatch", "nosource", "ok")) {
        Path own = i == 0 ? ok1 : switch (step) {
          case "nulls" -> nulls;
          case "nonnumeric" -> text;
          case "range" -> big;
          default -> ok2;
        };
        p.setProperty("step." + step + ".input", own.toString());
        p.setProperty("step." + step + ".schema", i == 1 && step.equals("nonnumeric")
            ? "region STRING, amount STRING, items INT" : schema);
        p.setProperty("step." + step + ".share", "amount,items");
        p.setProperty("step." + step + ".query", step.equals("mismatch") && i == 1
            ? "SELECT region, reveal(SUM(items)) AS t FROM tx GROUP BY region"
            : step.equals("nosource") // a product, in a session with no dealer and no OT
                ? "SELECT region, reveal(SUM(amount * items)) AS t FROM tx GROUP BY region"
                : sumAmount);
      }
    });
    for (LocalParties.Outcome o : outs) {
      assertEquals(0, o.exitCode(), o.toString());
    }
    Map<String, String[]> expected = Map.of(
        "nulls", new String[] {"'amount'", "bank2", "null"},
        "nonnumeric", new String[] {"'amount'", "bank2", "only numeric columns"},
        "range", new String[] {"'amount'", "fixed-point range"},
        "mismatch", new String[] {"different secure operation", "SUM(items)"},
        "nosource", new String[] {"correlated randomness", "spark.mpc.correlations",
            "spark.mpc.dealer"});
    for (Map.Entry<String, String[]> e : expected.entrySet()) {
      for (String b : BANKS) {
        String err = Scenarios.error(work, b, e.getKey());
        assertNotNull(err, e.getKey() + " did not fail at " + b);
        for (String must : e.getValue()) {
          assertTrue(err.contains(must), e.getKey() + " at " + b + ": '" + must + "' not in " + err);
        }
      }
    }
    // The party that was not at fault learns which party was, at once (not after the timeout).
    assertTrue(Scenarios.error(work, "bank1", "nulls").contains("party 'bank2' stopped"),
        Scenarios.error(work, "bank1", "nulls"));
    for (String b : BANKS) {
      assertNull(Scenarios.error(work, b, "ok"), "the session must go on after bad input at " + b);
      String result = Files.readString(Scenarios.step(work, b, "ok").resolve("result.csv"));
      assertTrue(result.contains("north,20.25") || result.contains("north,31357.5"), result);
    }
    assertNoSecretPrinted(work);
  }

  @Test
  void aPeerThatIsDownIsNamedWithinTheTimeout(@TempDir Path work) throws Exception {
    Path keys = LocalParties.keys(work.resolve("keys"), BANKS);
    String spec = LocalParties.partiesSpec(BANKS, LocalParties.freePorts(2));
    Properties p = LocalParties.baseConfig("bank1", spec, keys, Duration.ofSeconds(5));
    p.setProperty("out", work.resolve("bank1/steps").toString());
    p.setProperty("steps", "none");
    List<LocalParties.Outcome> outs = LocalParties.run(work, Map.of("bank1", p), "-Xmx512m",
        Duration.ofMinutes(2), ScenarioParty.class.getName(), Scenarios.TEST_JVM);
    assertEquals(3, outs.get(0).exitCode(), outs.get(0).toString());
    String err = Files.readString(work.resolve("bank1/steps/session-error.txt"));
    assertTrue(err.contains("'bank2'"), err);
    long afterMs = Long.parseLong(err.substring(err.indexOf("after_ms=") + 9).trim());
    assertTrue(afterMs >= 4_000 && afterMs < 15_000, "failed after " + afterMs + " ms: " + err);
  }

  @Test
  void aPeerWhoseCertificateIsNotInTheTrustFileIsRefused(@TempDir Path work) throws Exception {
    Path keys = LocalParties.keys(work.resolve("keys"), BANKS);
    // bank2 presents a key and certificate of its own making, with the right name, and trusts
    // itself and the real bank1; bank1's trust file holds the real bank2 certificate.
    Path rogue = work.resolve("rogue");
    KeyGen.generateParty("bank2", rogue);
    KeyGen.writeTrust(rogue.resolve("trust.pem"), List.of(KeyGen.certFile(keys, "bank1"),
        KeyGen.certFile(rogue, "bank2")));
    String spec = LocalParties.partiesSpec(BANKS, LocalParties.freePorts(2));
    Map<String, Properties> confs = new java.util.LinkedHashMap<>();
    for (String b : BANKS) {
      // Long enough for the peer's JVM to be up on a loaded machine: a gateway not yet listening
      // gives "connection refused", not the certificate error this test is about.
      Properties p = LocalParties.baseConfig(b, spec, b.equals("bank2") ? rogue : keys,
          Duration.ofSeconds(30));
      p.setProperty("out", work.resolve(b + "/steps").toString());
      p.setProperty("steps", "none");
      confs.put(b, p);
    }
    List<LocalParties.Outcome> outs = LocalParties.run(work, confs, "-Xmx512m",
        Duration.ofMinutes(2), ScenarioParty.class.getName(), Scenarios.TEST_JVM);
    for (LocalParties.Outcome o : outs) {
      assertEquals(3, o.exitCode(), o.toString());
    }
    String atBank1 = Files.readString(work.resolve("bank1/steps/session-error.txt"));
    assertTrue(atBank1.contains("'bank2'") && atBank1.toLowerCase().contains("certificate"),
        atBank1);
    String atBank2 = Files.readString(work.resolve("bank2/steps/session-error.txt"));
    assertTrue(atBank2.contains("'bank1'"), atBank2);
  }

  /** No file a party wrote (errors, logs, stdout, stderr) contains a secret input value. */
  static void assertNoSecretPrinted(Path work) throws IOException {
    try (Stream<Path> files = Files.walk(work)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String name = f.getFileName().toString();
        if (name.endsWith(".csv") || name.endsWith(".pem") || name.endsWith(".properties")) {
          continue; // inputs, revealed results, keys, configs
        }
        String text = Files.readString(f);
        assertFalse(text.contains(MARKER) || text.contains("3133725"), "secret value in " + f);
      }
    }
  }
}
