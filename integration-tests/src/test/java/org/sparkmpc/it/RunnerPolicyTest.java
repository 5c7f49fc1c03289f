package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The party runner with {@code policy=<file>}, each party its own JVM: the input is ingested
 * through the party's policy (names dropped, accounts tokenised) and an aggregate the policy
 * allows is written at the recipient; a query that reveals a ruled column row by row makes every
 * party exit with the refusal, and no party writes an output.
 */
class RunnerPolicyTest {
  static final List<String> BANKS = List.of("bank1", "bank2");

  @Test
  void theRunnerIngestsThroughThePolicyAndRefusesWhatItForbids(@TempDir Path work)
      throws Exception {
    Path data = Files.createDirectories(work.resolve("data"));
    double north = 0;
    for (int i = 0; i < 2; i++) {
      StringBuilder csv = new StringBuilder("region,name,account,amount\n");
      for (int r = 0; r < 4; r++) {
        double amount = 12.5 + 3 * r + 50 * i;
        csv.append(r < 3 ? "north" : "south").append(",Person").append(i).append(r)
            .append(",ACCT-").append(i).append(r).append(',').append(amount).append('\n');
        north += r < 3 ? amount : 0;
      }
      Files.writeString(data.resolve(BANKS.get(i) + ".csv"), csv);
      Files.writeString(data.resolve(BANKS.get(i) + "-token.key"), "token key of " + BANKS.get(i)
          + " 0123456789");
      Files.writeString(data.resolve(BANKS.get(i) + ".yaml"), "party: " + BANKS.get(i) + "\n"
          + "keys: {own: " + BANKS.get(i) + "-token.key}\n"
          + "tables:\n  tx:\n    share: [amount]\n    public: [region]\n"
          + "    pii: {drop: [name], tokenize: [account]}\n"
          + "    usage:\n      amount: {reveal: aggregates, minRows: 3}\n");
    }
    Map<String, String> queries = new LinkedHashMap<>();
    queries.put("allowed", "SELECT region, reveal(SUM(amount), 'bank1') AS total, COUNT(*) AS n "
        + "FROM tx GROUP BY region");
    queries.put("rows", "SELECT region, reveal(amount) AS a FROM tx");
    for (Map.Entry<String, String> q : queries.entrySet()) {
      Path run = work.resolve(q.getKey());
      Path keys = LocalParties.keys(run.resolve("keys"), BANKS);
      List<LocalParties.Outcome> outs = Scenarios.runRunner(run, BANKS, keys, (i, p) -> {
        p.setProperty("input.tx.path", data.resolve(BANKS.get(i) + ".csv").toString());
        p.setProperty("input.tx.schema", "region STRING, name STRING, account STRING, "
            + "amount DOUBLE");
        p.setProperty("input.tx.share", "amount");
        p.setProperty("policy", data.resolve(BANKS.get(i) + ".yaml").toString());
        p.setProperty("spark.mpc.reveal.minGroupSize", "3");
        p.setProperty("query", q.getValue());
      });
      if (q.getKey().equals("allowed")) {
        for (LocalParties.Outcome o : outs) {
          assertEquals(0, o.exitCode(), o.toString());
        }
        Path result = run.resolve("bank1").resolve("result");
        String csv;
        try (Stream<Path> files = Files.list(result)) {
          csv = Files.readString(files.filter(f -> f.toString().endsWith(".csv")).findFirst()
              .orElseThrow());
        }
        String northLine = csv.lines().filter(l -> l.startsWith("north,")).findFirst()
            .orElseThrow(() -> new AssertionError(csv));
        assertEquals(north, Double.parseDouble(northLine.split(",")[1]), 1e-3, csv);
        assertTrue(northLine.endsWith(",6"), csv);
        assertTrue(csv.lines().anyMatch(l -> l.matches("south,,2")), "south has 2 rows, fewer "
            + "than the minimum, and is not opened: " + csv);
        // Neither bank's names or raw accounts reached the other's outputs or logs.
        for (int i = 0; i < 2; i++) {
          String other = "ACCT-" + (1 - i);
          try (Stream<Path> files = Files.walk(run.resolve(BANKS.get(i)))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
              String text = new String(Files.readAllBytes(f),
                  java.nio.charset.StandardCharsets.ISO_8859_1);
              assertFalse(text.contains(other) || text.contains("Person" + (1 - i)), f
                  + " holds the other bank's identifiers");
            }
          }
        }
      } else {
        for (LocalParties.Outcome o : outs) {
          assertEquals(1, o.exitCode(), o.toString());
          assertTrue(o.stderr().contains("spark-mpc: party " + o.party() + " failed: ")
              && o.stderr().contains("rule usage.amount.reveal: aggregates"), o.party() + " said "
              + o.stderr().lines().filter(l -> l.startsWith("spark-mpc")).toList());
          assertFalse(Files.exists(o.dir().resolve("result")), o.party() + " wrote an output");
        }
      }
    }
  }
}
