package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each party's data policy between two party JVMs: what a policy lets through works and equals
 * plaintext; every rule refuses what it forbids at sharing or before anything is opened, at both
 * parties, naming the rule, the column and the party whose policy it is; the session goes on after
 * a refusal. bank1's policy lets its {@code amount} be opened only to bank1, only in aggregates of
 * at least 3 rows; bank2's sets no usage rule.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DataPolicyTest {
  static final List<String> PARTIES = List.of("bank1", "bank2");
  static final String SCHEMA = "region STRING, customer STRING, account STRING, name STRING, "
      + "amount DOUBLE, score DOUBLE, notes STRING";
  static final String GROUPED = "SELECT region, reveal(SUM(amount), 'bank1') AS total, "
      + "COUNT(*) AS n FROM tx GROUP BY region";
  static final List<String> STEPS = List.of("ok", "tokens", "rows", "minmax", "small", "toAll",
      "pii", "private", "untagged", "shareWith", "missing", "regression", "predict", "psi", "save",
      "loadRows", "loadOk", "okAgain");

  Path work;
  final Map<String, Double> pooled = new TreeMap<>();

  static String policy(String party, String usage) {
    return "party: " + party + "\n"
        + "keys: {own: " + party + "-token.key, joint: joint-token.key}\n"
        + "tables:\n"
        + "  tx:\n"
        + "    share: [amount, score]\n"
        + "    public: [region]\n"
        + "    pii: {drop: [name], tokenize: [account], tokenizeJoint: [customer]}\n"
        + "    private: [notes]\n"
        + usage;
  }

  @BeforeAll
  void runParties(@TempDir Path dir) throws Exception {
    work = dir;
    Path data = Files.createDirectories(work.resolve("data"));
    Files.writeString(data.resolve("joint-token.key"), "a key both stewards agreed on, 1234");
    String[] regions = {"north", "north", "north", "south", "south", "south"};
    for (int i = 0; i < 2; i++) {
      String party = PARTIES.get(i);
      Files.writeString(data.resolve(party + "-token.key"), party + "'s own key, 0123456789");
      StringBuilder csv = new StringBuilder(
          "region,customer,account,name,amount,score,notes\n");
      for (int r = 0; r < regions.length; r++) {
        double amount = 10.5 + 7 * r + 100 * i;
        double score = 2 * (10.5 + 7 * r) + 1 + (r % 2 == 0 ? 0.25 : -0.25);
        csv.append(regions[r]).append(",Cust-").append(r).append(",ACC-").append(party)
            .append('-').append(r).append(",Name").append(r).append(',').append(amount)
            .append(',').append(score).append(",secret note ").append(party).append('\n');
        pooled.merge(regions[r], amount, Double::sum);
      }
      Files.writeString(data.resolve(party + ".csv"), csv);
      String usage = i == 0 ? "    usage:\n      amount: {reveal: aggregates, minRows: 3, "
          + "to: [bank1]}\n" : "";
      Files.writeString(data.resolve(party + ".yaml"), policy(party, usage));
      Files.writeString(data.resolve(party + "-narrow.yaml"), policy(party, usage.isEmpty()
          ? "" : "    usage:\n      amount: {shareWith: [bank1]}\n"));
      Files.writeString(data.resolve(party + "-missing.yaml"),
          policy(party, usage).replace("private: [notes]", "private: [notes, memo]"));
    }
    List<LocalParties.Outcome> outs = Scenarios.run(work, PARTIES, Duration.ofSeconds(60),
        (i, p) -> {
          String party = PARTIES.get(i);
          p.setProperty("spark.mpc.policy", data.resolve(party + ".yaml").toString());
          p.setProperty("spark.mpc.correlations", "ot"); // the regression steps' products
          p.setProperty("steps", String.join(",", STEPS));
          for (String s : STEPS) {
            String k = "step." + s + ".";
            p.setProperty(k + "input", data.resolve(party + ".csv").toString());
            p.setProperty(k + "schema", SCHEMA);
            p.setProperty(k + "share", "amount,score");
            p.setProperty(k + "query", GROUPED);
            if (!s.equals("untagged")) {
              p.setProperty(k + "ingest", "tx");
            }
            if (!s.equals("small")) {
              p.setProperty(k + "conf.spark.mpc.reveal.minGroupSize", "3");
            }
          }
          p.setProperty("step.tokens.query", "SELECT account, customer, COUNT(*) AS n FROM tx "
              + "GROUP BY account, customer");
          p.setProperty("step.rows.query", "SELECT region, reveal(amount, 'bank1') AS a FROM tx");
          p.setProperty("step.minmax.query", "SELECT region, reveal(MAX(amount), 'bank1') AS hi "
              + "FROM tx GROUP BY region");
          p.setProperty("step.toAll.query", "SELECT region, reveal(SUM(amount)) AS total FROM tx "
              + "GROUP BY region");
          p.setProperty("step.pii.share", "amount,score,account");
          p.setProperty("step.private.share", "amount,score,notes");
          p.setProperty("step.shareWith.conf.spark.mpc.policy",
              data.resolve(party + "-narrow.yaml").toString());
          p.setProperty("step.missing.conf.spark.mpc.policy",
              data.resolve(party + "-missing.yaml").toString());
          // Vertically split: bank1's amount predicts bank2's score, the rows aligned by the
          // customer pseudonym under the joint key.
          for (String s : List.of("regression", "predict")) {
            p.setProperty("step." + s + ".kind", "regression");
            p.setProperty("step." + s + ".id", "customer");
            p.setProperty("step." + s + ".share", i == 0 ? "amount" : "score");
            p.setProperty("step." + s + ".features", "amount");
            p.setProperty("step." + s + ".label", "score");
            p.setProperty("step." + s + ".recipients", "bank1");
          }
          p.setProperty("step.predict.predictTo", "bank2");
          // A stored table keeps its rules: saved under the policy, loaded, opened row by row.
          Path stored = work.resolve(party).resolve("stored-tx");
          p.setProperty("step.save.kind", "stored");
          p.setProperty("step.save.saveTo", stored.toString());
          p.setProperty("step.loadRows.kind", "stored");
          p.setProperty("step.loadRows.stored", stored.toString());
          p.setProperty("step.loadRows.query", "SELECT region, reveal(amount, 'bank1') AS a FROM tx");
          p.setProperty("step.loadOk.kind", "stored");
          p.setProperty("step.loadOk.stored", stored.toString());
          // Private alignment on the joint pseudonym, then an aggregate of the members.
          p.setProperty("step.psi.kind", "psi");
          p.setProperty("step.psi.mode", "align");
          p.setProperty("step.psi.id", "customer");
          p.setProperty("step.psi.share", i == 0 ? "amount" : "score");
          p.setProperty("step.psi.query", "SELECT reveal(SUM(amount), 'bank1') AS s, "
              + "reveal(SUM(score), 'bank1') AS t, COUNT(*) AS n FROM tx");
        });
    for (LocalParties.Outcome o : outs) {
      assertEquals(0, o.exitCode(), o.toString());
    }
  }

  private Map<String, String[]> result(String party, String step) throws Exception {
    return Scenarios.result(work, party, step);
  }

  @Test
  void whatThePoliciesAllowEqualsPlaintextAndTheSessionGoesOnAfterRefusals() throws Exception {
    for (String step : List.of("ok", "loadOk", "okAgain")) {
      Map<String, String[]> got = result("bank1", step);
      assertEquals(pooled.keySet(), got.keySet());
      for (Map.Entry<String, Double> e : pooled.entrySet()) {
        assertEquals(e.getValue(), Double.parseDouble(got.get(e.getKey())[1]), 1e-3, step);
        assertEquals("6", got.get(e.getKey())[2], step);
      }
      assertNull(Scenarios.error(work, "bank2", step));
    }
  }

  @Test
  void privateAlignmentOnTheJointPseudonymWorksUnderThePolicies() throws Exception {
    String[] row = Scenarios.result(work, "bank1", "psi").values().iterator().next();
    double amounts = 0;
    for (int r = 0; r < 6; r++) {
      amounts += 10.5 + 7 * r;
    }
    assertEquals(amounts, Double.parseDouble(row[0]), 1e-3, String.join(",", row));
    assertEquals("6", row[2], "the six customers are in common under the joint key");
  }

  @Test
  void identifiersLeaveOnlyAsPseudonymsAndRemovedColumnsNeverLeave() throws Exception {
    // bank2 sees bank1's accounts and customers only as 32-hex-digit keyed hashes.
    Map<String, String[]> got = result("bank2", "tokens");
    assertEquals(12, got.size(), "each party's accounts under its own key: all different");
    long customers = got.values().stream().map(r -> r[1]).distinct().count();
    assertEquals(6, customers, "the same customers give the same joint pseudonym at both");
    for (String[] r : got.values()) {
      assertTrue(r[0].matches("[0-9a-f]{32}") && r[1].matches("[0-9a-f]{32}"), r[0] + " " + r[1]);
    }
    // No raw identifier, name or note of one party in the other's outputs or logs.
    for (String party : PARTIES) {
      String other = party.equals("bank1") ? "bank2" : "bank1";
      try (Stream<Path> files = Files.walk(work.resolve(party))) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          String text = new String(Files.readAllBytes(f),
              java.nio.charset.StandardCharsets.ISO_8859_1);
          for (String raw : List.of("ACC-" + other, "secret note " + other, "Cust-")) {
            assertFalse(text.contains(raw), f + " holds " + raw);
          }
        }
      }
    }
  }

  /** The step failed at both parties, with bank1's refusal naming the rule and the column. */
  private void refusedAtBoth(String step, String... words) throws Exception {
    for (String party : PARTIES) {
      String error = Scenarios.error(work, party, step);
      assertNotNull(error, party + " must fail step " + step);
      for (String w : words) {
        assertTrue(error.contains(w), party + ", step " + step + ": " + error);
      }
      assertFalse(Files.exists(Scenarios.step(work, party, step).resolve("result.csv")));
    }
  }

  @Test
  void revealingAColumnRowByRowIsRefused() throws Exception {
    // bank1's rule, and bank2's default for a shared column: aggregates only
    refusedAtBoth("rows", "rule usage.amount.reveal: aggregates", "never row by row");
  }

  @Test
  void aStoredTableIsOpenedUnderTheRulesItWasSavedWith() throws Exception {
    refusedAtBoth("loadRows", "rule usage.amount.reveal: aggregates", "never row by row");
  }

  @Test
  void minAndMaxOpenOneRowsValueAndAreRefusedLikeARowByRowReveal() throws Exception {
    refusedAtBoth("minmax", "rule usage.amount.reveal: aggregates", "(MIN/MAX) opens it row by row");
  }

  @Test
  void aggregatesThatMayCoverFewerRowsThanTheRuleAreRefused() throws Exception {
    refusedAtBoth("small", "data policy of party bank1", "rule usage.amount.minRows",
        "at least 3 rows");
  }

  @Test
  void openingToAPartyTheRuleDoesNotNameIsRefused() throws Exception {
    refusedAtBoth("toAll", "data policy of party bank1", "rule usage.amount.to",
        "to party bank2");
  }

  @Test
  void sharingPersonalOrPrivateColumnsIsRefused() throws Exception {
    refusedAtBoth("pii", "column 'account'", "pii.tokenize", "may not be shared");
    refusedAtBoth("private", "rule private: column 'notes' never leaves the party");
  }

  @Test
  void columnsThatDidNotComeThroughThePolicyAreRefused() throws Exception {
    refusedAtBoth("untagged", "did not come through it");
  }

  @Test
  void sharesForAPartyTheRuleDoesNotAllowAreRefused() throws Exception {
    refusedAtBoth("shareWith", "data policy of party bank1", "usage.amount.shareWith [bank1]",
        "does not allow party bank2");
  }

  @Test
  void aPolicyNamingAMissingColumnIsRefusedAtIngestion() throws Exception {
    refusedAtBoth("missing", "rule private names column 'memo', which the table does not have");
  }

  @Test
  void aModelMayBeOpenedAsAnAggregateButItsPredictionsNotRowByRow() throws Exception {
    String model = Files.readString(Scenarios.step(work, "bank1", "regression")
        .resolve("model.txt"));
    String[] coef = model.split(",");
    assertEquals(2.0, Double.parseDouble(coef[0]), 0.05, model);
    assertEquals(1.0, Double.parseDouble(coef[1]), 1.0, model);
    String error = Scenarios.error(work, "bank1", "predict");
    assertNotNull(error, "the predictions must not reach bank2");
    assertTrue(error.contains("rule usage.amount.reveal: aggregates"), error);
    assertFalse(Files.exists(Scenarios.step(work, "bank2", "predict").resolve("predictions")
        .resolve("result.csv")));
  }
}
