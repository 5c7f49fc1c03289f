package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An attacker probes a secure table with the public DataFrame and SQL API, each party its own JVM.
 * bank1 (the victim) holds the marker value in its secret column; bank2 (the attacker) writes the
 * program, and, as in lockstep, every party runs it. Every attempt to get a share to a peer as a
 * public value, or a share out as a number or text, fails with an error naming the column or the
 * operation; a reveal the parties disagree on is refused by the plan agreement at every party; the
 * marker appears in no file any party wrote; and a legitimate query still works afterwards.
 */
class ShareProbeTest {
  static final List<String> BANKS = List.of("bank1", "bank2");
  static final String VICTIM = "bank1";
  static final String ATTACKER = "bank2";
  /** The victim's secret amount, and its fixed-point encoding round(31337.25 * 2^16). */
  static final String MARKER = "31337.25";
  static final String MARKER_ENCODED = Long.toString(Math.round(31337.25 * 65536));

  /** Attempt -> what its error must contain (the column or the operation), at every party. */
  static final Map<String, String[]> ATTEMPTS = new LinkedHashMap<>();

  static {
    String again = "holds shares of a secure table";
    ATTEMPTS.put("reshare", new String[] {"'amount'", again});
    ATTEMPTS.put("reshareAlias", new String[] {"'a'", again});
    ATTEMPTS.put("reshareMetadata", new String[] {"'amount'", again});
    ATTEMPTS.put("reshareRenamed", new String[] {"'amt'", again});
    ATTEMPTS.put("reshareSecret", new String[] {"'amount'", again});
    ATTEMPTS.put("reshareSum", new String[] {"'t'", again});
    ATTEMPTS.put("alignedById", new String[] {"'amount'", "shares"});
    ATTEMPTS.put("castBigint", new String[] {"amount", "cast"});
    ATTEMPTS.put("asLong", new String[] {"amount"});
    ATTEMPTS.put("rddAsLong", new String[] {"amount"});
    ATTEMPTS.put("rddSerialize", new String[] {"amount"});
    ATTEMPTS.put("toJson", new String[] {"amount"});
    ATTEMPTS.put("toJsonExpr", new String[] {"'amount'", "to_json"});
    ATTEMPTS.put("concat", new String[] {"amount", "concat"});
    ATTEMPTS.put("castString", new String[] {"'amount'", "cast"});
    ATTEMPTS.put("sqlCastString", new String[] {"'amount'", "cast"});
    ATTEMPTS.put("parquet", new String[] {"'amount'", "writing"});
    ATTEMPTS.put("csv", new String[] {"'amount'", "writing"});
    ATTEMPTS.put("selfJoin", new String[] {"'amount'", "join"});
    ATTEMPTS.put("joinOnShare", new String[] {"(amount = amount)", "UDT"});
    ATTEMPTS.put("revealTo", new String[] {"different secure operation", "SecureReveal"});
    ATTEMPTS.put("limitReveal", new String[] {"'amount'", "limit"});
    ATTEMPTS.put("orderReveal", new String[] {"'amount'", "ordering"});
    ATTEMPTS.put("sqlOrderReveal", new String[] {"amount", "order"});
  }

  @Test
  void noAttemptGetsAShareOutAndALegitimateQueryStillWorks(@TempDir Path work) throws Exception {
    Path data = work.resolve("data");
    Path victimRows = BadInputTest.csv(data.resolve("bank1.csv"), "region,amount,items",
        "north," + MARKER + ",1", "south,10.5,2");
    Path attackerRows = BadInputTest.csv(data.resolve("bank2.csv"), "region,amount,items",
        "north,20.25,3", "east,7.75,4");
    List<String> steps = new ArrayList<>(List.of("setup"));
    steps.addAll(ATTEMPTS.keySet());
    steps.add("legit");
    List<LocalParties.Outcome> outs = Scenarios.run(work, BANKS, Duration.ofSeconds(30), (i, p) -> {
      p.setProperty("steps", String.join(",", steps));
      p.setProperty("probe.input", (i == 0 ? victimRows : attackerRows).toString());
      for (String s : steps) {
        p.setProperty("step." + s + ".kind", "probe");
      }
      // Each reveals the rows to itself: the attacker's reveal to itself must not go through.
      p.setProperty("step.revealTo.to", BANKS.get(i));
      p.setProperty("step.legit.probe", "sql");
      p.setProperty("step.legit.query",
          "SELECT region, reveal(SUM(amount)) AS t, COUNT(*) AS n FROM tx GROUP BY region");
    });
    for (LocalParties.Outcome o : outs) {
      assertEquals(0, o.exitCode(), o.party() + " exit " + o.exitCode());
    }
    // First: no secret in any file (errors included), so that the messages below print none.
    assertMarkerNowhere(work, data);
    List<String> problems = new ArrayList<>();
    for (String b : BANKS) {
      assertNull(Scenarios.error(work, b, "setup"), b + " setup");
      for (Map.Entry<String, String[]> e : ATTEMPTS.entrySet()) {
        Path dir = Scenarios.step(work, b, e.getKey());
        String err = Scenarios.error(work, b, e.getKey());
        if (Files.exists(dir.resolve("recovered.txt"))) {
          problems.add(e.getKey() + " at " + b + ": shares were sent as public values");
        } else if (Files.exists(dir.resolve("succeeded.txt")) || err == null) {
          problems.add(e.getKey() + " at " + b + " was not refused");
        } else {
          for (String must : e.getValue()) {
            if (!err.contains(must)) {
              problems.add(e.getKey() + " at " + b + ": '" + must + "' not in " + err);
            }
          }
        }
      }
      // Nothing written by the write attempts.
      assertFalse(Files.exists(Scenarios.step(work, b, "parquet").resolve("parquet")));
      assertFalse(Files.exists(Scenarios.step(work, b, "csv").resolve("csv")));
    }
    assertTrue(problems.isEmpty(), String.join("\n", problems));
    // The same session still answers a legitimate query, equal to the plaintext.
    for (String b : BANKS) {
      assertNull(Scenarios.error(work, b, "legit"), b + " legit");
      Map<String, String> got = new LinkedHashMap<>();
      for (String line : Files.readAllLines(Scenarios.step(work, b, "legit")
          .resolve("result.csv"))) {
        String[] f = line.split(",");
        got.put(f[0], f[1] + "," + f[2]);
      }
      assertEquals(Map.of("region", "t,n", "north", (31337.25 + 20.25) + ",2", "south", "10.5,1",
          "east", "7.75,1"), got, b);
    }
  }

  /**
   * Neither the victim's secret value nor its encoding is in any file a party wrote (errors, logs,
   * stdout, stderr, results, plans, what the attempts recovered), nor printed as a double in another
   * notation; the parties' inputs are left out.
   */
  static void assertMarkerNowhere(Path work, Path inputs) throws IOException {
    try (Stream<Path> files = Files.walk(work)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        if (f.startsWith(inputs) || f.getFileName().toString().endsWith(".pem")) {
          continue;
        }
        String text = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertFalse(text.contains(MARKER) || text.contains("3.133725") || text.contains("3133725")
            || text.contains(MARKER_ENCODED), "the victim's secret value is in " + f);
      }
    }
  }
}
