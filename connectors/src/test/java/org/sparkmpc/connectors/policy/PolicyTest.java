package org.sparkmpc.connectors.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.MpcInputException;

/** The policy file's schema, its checks, ingestion and the sharing and opening rules. */
class PolicyTest {
  private static SparkSession spark;

  @TempDir
  Path dir;

  @BeforeAll
  static void start() {
    spark = SparkSession.builder().master("local[1]").appName("policy-test")
        .config("spark.ui.enabled", "false").getOrCreate();
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static final String GOOD = """
      party: bank1
      keys: {own: own.key, joint: joint.key}
      tables:
        tx:
          share: [amount]
          public: [region]
          pii: {drop: [name], tokenize: [account], tokenizeJoint: [customer]}
          private: [notes]
          usage:
            amount: {reveal: aggregates, minRows: 10, to: [bank1], shareWith: [bank1, bank2]}
      """;

  private Policy write(String name, String text) throws Exception {
    Files.writeString(dir.resolve("own.key"), "0123456789abcdef0123456789abcdef\n");
    Files.writeString(dir.resolve("joint.key"), "fedcba9876543210fedcba9876543210");
    Path f = dir.resolve(name);
    Files.writeString(f, text);
    return Policy.load(f);
  }

  private static MpcInputException refused(Runnable r) {
    return assertThrows(MpcInputException.class, r::run);
  }

  @Test
  void readsYamlAndJsonAlike() throws Exception {
    Policy yaml = write("p.yaml", GOOD);
    Policy json = write("p.json", """
        {"party": "bank1", "keys": {"own": "own.key", "joint": "joint.key"},
         "tables": {"tx": {"share": ["amount"], "public": ["region"],
           "pii": {"drop": ["name"], "tokenize": ["account"], "tokenizeJoint": ["customer"]},
           "private": ["notes"],
           "usage": {"amount": {"reveal": "aggregates", "minRows": 10, "to": ["bank1"],
                                "shareWith": ["bank1", "bank2"]}}}}}
        """);
    for (Policy p : List.of(yaml, json)) {
      TablePolicy t = p.table("tx");
      assertEquals(TablePolicy.ColumnClass.PII_TOKENIZE_JOINT, t.classOf("customer"));
      assertEquals(TablePolicy.ColumnClass.PRIVATE, t.classOf("notes"));
      assertEquals(10, t.usageOf("amount").minRows());
      assertEquals(List.of("bank1"), t.usageOf("amount").to());
      assertNull(t.classOf("other"));
      assertEquals(Policy.Unlisted.DROP, p.unlisted());
    }
  }

  @Test
  void refusesAMalformedPolicyNamingThePlace() throws Exception {
    String both = GOOD.replace("public: [region]", "public: [region, amount]");
    assertTrue(refused(() -> load("both.yaml", both)).getMessage()
        .contains("tables.tx.public names column 'amount', which is also listed under share"));
    String pii = GOOD.replace("share: [amount]", "share: [amount, name]");
    assertTrue(refused(() -> load("pii.yaml", pii)).getMessage()
        .contains("'name', which is also listed under share"));
    String typo = GOOD.replace("private: [notes]", "privat: [notes]");
    assertTrue(refused(() -> load("typo.yaml", typo)).getMessage()
        .contains("tables.tx.privat is not a key of the policy schema"));
    String usage = GOOD.replace("amount: {reveal", "region: {reveal");
    assertTrue(refused(() -> load("usage.yaml", usage)).getMessage()
        .contains("tables.tx.usage.region sets how column 'region' may be used once shared, but "
            + "the policy lists it under public"));
    String k = GOOD.replace("minRows: 10", "minRows: 0");
    assertTrue(refused(() -> load("k.yaml", k)).getMessage()
        .contains("usage.amount.minRows must be a whole number of at least 1"));
    String rows = GOOD.replace("reveal: aggregates", "reveal: rows");
    assertTrue(refused(() -> load("rows.yaml", rows)).getMessage()
        .contains("minRows applies to reveal: aggregates only"));
    assertTrue(refused(() -> load("none.yaml", "party: bank1\n")).getMessage()
        .contains("tables is missing"));
    assertTrue(refused(() -> load("bad.yaml", "party: [bank1\n")).getMessage()
        .contains("could not be read"));
    Policy p = write("ok.yaml", GOOD);
    assertTrue(refused(() -> p.checkParty("bank2")).getMessage()
        .contains("is the policy of party bank1, and this is party bank2"));
    assertTrue(refused(() -> p.table("accounts")).getMessage()
        .contains("has no rules for table 'accounts'"));
  }

  private void load(String name, String text) {
    try {
      write(name, text);
    } catch (MpcInputException e) {
      throw e;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private Dataset<Row> rows() {
    StructType schema = StructType.fromDDL("region STRING, account STRING, customer STRING, "
        + "name STRING, amount DOUBLE, notes STRING, extra INT");
    return spark.createDataFrame(List.of(
        RowFactory.create("north", "A-1", "C-1", "Ann", 10.0, "vip", 1),
        RowFactory.create("south", "A-2", "c-2", "Bob", 20.0, null, 2),
        RowFactory.create("south", null, "C-3", "Cy", 30.0, "x", 3)), schema);
  }

  @Test
  void ingestionDropsTokenisesAndTags() throws Exception {
    Policy p = write("p.yaml", GOOD);
    Dataset<Row> in = p.ingest("tx", rows());
    assertEquals(List.of("region", "account", "customer", "amount"), List.of(in.columns()));
    List<Row> got = in.collectAsList();
    String token = got.get(0).getString(1);
    assertTrue(token.matches("[0-9a-f]{32}"), token);
    assertNull(got.get(2).get(1), "a null identifier stays null");
    // The own key and the joint key give different pseudonyms of the same text.
    Policy other = write("q.yaml", GOOD.replace("tokenize: [account], tokenizeJoint: [customer]",
        "tokenize: [customer], tokenizeJoint: [account]"));
    List<Row> swapped = other.ingest("tx", rows()).collectAsList();
    assertFalse(swapped.get(0).getString(1).equals(token));
    // Tokens depend on the key only: the same policy gives the same pseudonyms again.
    assertEquals(token, p.ingest("tx", rows()).collectAsList().get(0).getString(1));
    for (String c : in.columns()) {
      assertEquals("tx", in.schema().apply(c).metadata().getString(Policy.TABLE_TAG));
    }
    assertEquals("pii.tokenize", in.schema().apply("account").metadata()
        .getString(Policy.CLASS_TAG));
    String text = got.toString();
    assertFalse(text.contains("A-1") || text.contains("Ann") || text.contains("vip"), text);
  }

  @Test
  void ingestionRefusesMissingColumnsUnlistedOnesAndAMissingKey() throws Exception {
    Policy p = write("p.yaml", GOOD.replace("private: [notes]", "private: [notes, memo]"));
    assertTrue(refused(() -> p.ingest("tx", rows())).getMessage()
        .contains("table tx, rule private names column 'memo', which the table does not have"));
    Policy strict = write("s.yaml", "unlisted: refuse\n" + GOOD);
    assertTrue(refused(() -> strict.ingest("tx", rows())).getMessage()
        .contains("rule unlisted: refuse: column 'extra' is named by no rule"));
    Policy noKey = write("k.yaml", GOOD.replace("keys: {own: own.key, joint: joint.key}",
        "keys: {own: own.key}"));
    assertTrue(refused(() -> noKey.ingest("tx", rows())).getMessage()
        .contains("the policy sets no keys.joint"));
    Files.writeString(dir.resolve("short.key"), "tooshort");
    Policy shortKey = write("sk.yaml", GOOD.replace("own: own.key", "own: short.key"));
    MpcInputException e = refused(() -> shortKey.ingest("tx", rows()));
    assertTrue(e.getMessage().contains("holds 8 bytes"), e.getMessage());
    assertFalse(e.getMessage().contains("tooshort"));
  }

  @Test
  void sharingAllowsOnlyWhatEachColumnsClassAllows() throws Exception {
    Policy p = write("p.yaml", GOOD);
    Dataset<Row> in = p.ingest("tx", rows());
    StructType s = in.schema();
    List<String> two = List.of("bank1", "bank2");
    Map<String, ColumnUsage> rules = p.checkSharing("share", s, List.of("amount"),
        List.of("region", "account", "customer"), two);
    assertEquals(10, rules.get("amount").minRows());
    assertTrue(refused(() -> p.checkSharing("share", s, List.of("amount"), List.of("region"),
        List.of("bank1", "bank2", "bank3"))).getMessage()
        .contains("shareWith [bank1, bank2] does not allow party bank3"));
    assertTrue(refused(() -> p.checkSharing("share", s, List.of(), List.of("amount"), two))
        .getMessage().contains("lists it under share, so it leaves the party only as shares"));
    assertTrue(refused(() -> p.checkSharing("share", s, List.of("account"), List.of(), two))
        .getMessage().contains("lists it under pii.tokenize, so it may not be shared"));
    assertTrue(refused(() -> p.checkSharing("share", s, List.of("notes"), List.of(), two))
        .getMessage().contains("rule private: column 'notes' never leaves the party"));
    assertTrue(refused(() -> p.checkSharing("share", s, List.of("extra"), List.of(), two))
        .getMessage().contains("rule unlisted: drop: column 'extra' is named by no rule"));
    assertTrue(refused(() -> p.checkSharing("share", rows().schema(), List.of("amount"),
        List.of(), two)).getMessage().contains("did not come through it"));
  }

  @Test
  void openingFollowsTheUsageRules() throws Exception {
    Policy p = write("p.yaml", GOOD);
    Map<String, ColumnUsage> amount = Map.of("amount", p.table("tx").usageOf("amount"));
    List<String> two = List.of("bank1", "bank2");
    p.checkOpening("q", amount, List.of("bank1"), two, false, 10);
    assertTrue(refused(() -> p.checkOpening("q", amount, List.of("bank1"), two, true, 0))
        .getMessage().contains("rule usage.amount.reveal: aggregates"));
    assertTrue(refused(() -> p.checkOpening("q", amount, List.of("bank1"), two, false, 9))
        .getMessage().contains("rule usage.amount.minRows"));
    assertTrue(refused(() -> p.checkOpening("q", amount, List.of(), two, false, 10))
        .getMessage().contains("to party bank2"));
    Map<String, ColumnUsage> never = Map.of("amount", new ColumnUsage(
        ColumnUsage.Reveal.NEVER, 1, List.of(), List.of()));
    assertTrue(refused(() -> p.checkOpening("q", never, List.of(), two, false, 100))
        .getMessage().contains("reveal: never"));
    Map<String, ColumnUsage> rows = Map.of("amount", new ColumnUsage(
        ColumnUsage.Reveal.ROWS, 1, List.of(), List.of()));
    p.checkOpening("q", rows, List.of(), two, true, 0);
  }
}
