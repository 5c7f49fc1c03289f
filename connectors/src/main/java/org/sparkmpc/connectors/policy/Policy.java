package org.sparkmpc.connectors.policy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.connectors.policy.TablePolicy.ColumnClass;

/**
 * A party's data policy: the rules its data steward writes for what of each input table may
 * reach a computation and how (SCQL's column control lists are the model). Read from a YAML or
 * JSON file ({@link #load}); the schema, with an example, is in the README ("Data policies"):
 *
 * <pre>
 * party: bank1
 * unlisted: drop              # a column named nowhere: drop (default) or refuse
 * keys:
 *   own: bank1-token.key      # this party's tokenisation key (a file only it can read)
 *   joint: joint-token.key    # the key the parties hold in common, for PSI and alignBy ids
 * tables:
 *   tx:
 *     share: [amount, items]
 *     public: [region]
 *     pii: {drop: [name], tokenize: [account], tokenizeJoint: [customer]}
 *     private: [notes]
 *     usage:
 *       amount: {reveal: aggregates, minRows: 10, to: [bank1, bank2], shareWith: [bank1, bank2, bank3]}
 * </pre>
 *
 * <p>It is enforced at three points, each at the party whose policy it is, before anything of the
 * operation leaves the party: at ingestion ({@link #ingest}: named columns must exist, removed
 * columns go, identifiers are tokenised, every kept column is tagged with its table and class);
 * at sharing ({@link #checkSharing}: only tagged columns, shared or public as their class allows,
 * with parties their rules allow); and at every operation that opens values ({@link
 * #checkOpening}). A refusal names the rule, the column and the party.
 */
public final class Policy {
  /** Column metadata key: the policy table a column was ingested from. */
  public static final String TABLE_TAG = "sparkmpc.policy.table";
  /** Column metadata key: the column's class ({@link ColumnClass#rule()}). */
  public static final String CLASS_TAG = "sparkmpc.policy.class";

  private final Path file;
  private final String party;
  private final Unlisted unlisted;
  private final Path ownKey;
  private final Path jointKey;
  private final Map<String, TablePolicy> tables;

  Policy(Path file, String party, Unlisted unlisted, Path ownKey, Path jointKey,
      Map<String, TablePolicy> tables) {
    this.file = file;
    this.party = party;
    this.unlisted = unlisted;
    this.ownKey = ownKey;
    this.jointKey = jointKey;
    this.tables = Collections.unmodifiableMap(new LinkedHashMap<>(tables));
  }

  /** Read and check a policy file (YAML, or JSON by its {@code .json} name). */
  public static Policy load(Path file) {
    return PolicyFile.read(file);
  }

  /** The file it was read from. */
  public Path file() {
    return file;
  }

  /** The party it is the policy of. */
  public String party() {
    return party;
  }

  /** What happens to a column the policy names nowhere. */
  public Unlisted unlisted() {
    return unlisted;
  }

  /** The tables it has rules for. */
  public Map<String, TablePolicy> tables() {
    return tables;
  }

  /**
   * Refuse to serve another party: a policy file given to the wrong party's job is a mistake that
   * would apply the wrong rules.
   */
  public void checkParty(String self) {
    if (!party.equals(self)) {
      throw new MpcInputException("data policy " + file + " is the policy of party " + party
          + ", and this is party " + self + " (spark.mpc.party)");
    }
  }

  /** The rules of table {@code name}; a table the policy does not name may not be used. */
  public TablePolicy table(String name) {
    TablePolicy t = tables.get(name);
    if (t == null) {
      throw new MpcInputException("data policy of party " + party + " (" + file + ") has no "
          + "rules for table '" + name + "', so nothing of it may leave the party; its tables "
          + "are " + tables.keySet());
    }
    return t;
  }

  /**
   * Apply the table's ingestion rules to this party's raw rows: every column the rules name must
   * exist; {@code pii.drop} and {@code private} columns are removed, and so are columns named
   * nowhere (or they are refused, with {@code unlisted: refuse}); {@code pii.tokenize} and
   * {@code pii.tokenizeJoint} columns are replaced by a keyed hash (a 32-hex-digit string, null
   * for null) under this party's own key or the joint key. Every kept column is tagged (column
   * metadata) with the table and its class, which sharing and PSI check. Lazy: nothing is read.
   */
  public Dataset<Row> ingest(String tableName, Dataset<Row> raw) {
    TablePolicy t = table(tableName);
    StructType schema = raw.schema();
    List<String> have = List.of(schema.fieldNames());
    for (Map.Entry<String, ColumnClass> e : t.classes().entrySet()) {
      if (!have.contains(e.getKey())) {
        throw new MpcInputException("data policy of party " + party + ", table " + tableName
            + ", rule " + e.getValue().rule() + " names column '" + e.getKey() + "', which the "
            + "table does not have; its columns are " + have);
      }
    }
    List<Column> kept = new ArrayList<>();
    List<String> dropped = new ArrayList<>();
    for (StructField f : schema.fields()) {
      ColumnClass c = t.classOf(f.name());
      if (c == null) {
        if (unlisted == Unlisted.REFUSE) {
          throw new MpcInputException("data policy of party " + party + ", table " + tableName
              + ", rule unlisted: refuse: column '" + f.name() + "' is named by no rule; list it "
              + "under share, public, pii or private");
        }
        dropped.add(f.name());
        continue;
      }
      if (c.removed()) {
        continue;
      }
      Column col = raw.col(quote(f.name()));
      if (c.tokenized()) {
        col = Tokens.column(col, key(c, tableName, f.name()));
      }
      kept.add(col.as(f.name(), tag(f.metadata(), tableName, c)));
    }
    if (kept.isEmpty()) {
      throw new MpcInputException("data policy of party " + party + ", table " + tableName
          + ": every column is removed at ingestion, nothing is left to use");
    }
    return raw.select(kept.toArray(Column[]::new));
  }

  /**
   * Check what an operation would send of this party's rows: {@code secret} columns as shares to
   * {@code sessionParties}, {@code clear} columns as they are. Every column must come from
   * {@link #ingest}; a shared column must be of class {@code share} or {@code public}, and every
   * party of the session must be allowed its shares; a column sent in the clear must be
   * {@code public} or a pseudonym ({@code pii.tokenize}, {@code pii.tokenizeJoint}). Returns the
   * usage rule of each shared column, for {@link #checkOpening} later.
   *
   * @param operation what is asked, for the error ("share", "shareAligned", "PSI")
   */
  public Map<String, ColumnUsage> checkSharing(String operation, StructType schema,
      List<String> secret, List<String> clear, List<String> sessionParties) {
    Map<String, ColumnUsage> rules = new LinkedHashMap<>();
    for (String s : secret) {
      if (schema.getFieldIndex(s).isEmpty()) {
        throw removedOrMissing(operation, schema, s);
      }
      Tag tag = tag(operation, schema.apply(s));
      if (tag.cls() == ColumnClass.PUBLIC) {
        rules.put(s, new ColumnUsage(ColumnUsage.Reveal.ROWS, 1, List.of(), List.of()));
        continue;
      }
      if (tag.cls() != ColumnClass.SHARE) {
        throw refusal(operation, tag, s, "lists it under " + tag.cls().rule() + ", so it may not "
            + "be shared");
      }
      ColumnUsage u = table(tag.table()).usageOf(s);
      for (String p : sessionParties) {
        if (!u.mayHoldShares(p)) {
          throw refusal(operation, tag, s, "rule usage." + s + ".shareWith " + u.shareWith()
              + " does not allow party " + p + " to hold its shares, and " + p + " is in the "
              + "session");
        }
      }
      rules.put(s, u);
    }
    for (String s : clear) {
      if (schema.getFieldIndex(s).isEmpty()) {
        throw removedOrMissing(operation, schema, s);
      }
      Tag tag = tag(operation, schema.apply(s));
      if (tag.cls() == ColumnClass.SHARE) {
        throw refusal(operation, tag, s, "lists it under share, so it leaves the party only as "
            + "shares: name it among the shared columns or leave it out");
      }
    }
    return rules;
  }

  /**
   * Check an operation that opens values computed from this party's shared columns, before any
   * share of it moves: {@code columns} with their usage rules, opened to {@code recipients} (all
   * parties if empty, of {@code sessionParties}); {@code rowByRow} when values are opened per
   * row, else aggregates whose smallest opened group has at least {@code minGroup} rows (the
   * session's {@code spark.mpc.reveal.minGroupSize}, or the rows a model is fitted on).
   *
   * @param operation what opens, for the error
   */
  public void checkOpening(String operation, Map<String, ColumnUsage> columns,
      List<String> recipients, List<String> sessionParties, boolean rowByRow, long minGroup) {
    checkOpening(party, operation, columns, recipients, sessionParties, rowByRow, minGroup);
  }

  /**
   * {@link #checkOpening(String, Map, List, List, boolean, long)} for rules of {@code party}'s
   * policy that came with a stored table, whether or not a policy is in force now.
   */
  public static void checkOpening(String party, String operation,
      Map<String, ColumnUsage> columns, List<String> recipients, List<String> sessionParties,
      boolean rowByRow, long minGroup) {
    List<String> to = recipients.isEmpty() ? sessionParties : recipients;
    for (Map.Entry<String, ColumnUsage> e : columns.entrySet()) {
      String col = e.getKey();
      ColumnUsage u = e.getValue();
      String where = "data policy of party " + party + ", rule usage." + col + ".";
      if (u.reveal() == ColumnUsage.Reveal.NEVER) {
        throw new MpcInputException(where + "reveal: never: column '" + col + "' may not be "
            + "opened in any form, and " + operation + " opens values computed from it");
      }
      if (rowByRow && u.reveal() != ColumnUsage.Reveal.ROWS) {
        throw new MpcInputException(where + "reveal: " + u.reveal().spelling() + ": column '"
            + col + "' may be opened only inside aggregates, never row by row, and " + operation
            + " opens it row by row");
      }
      if (!rowByRow && u.minRows() > Math.max(1, minGroup)) {
        throw new MpcInputException(where + "minRows: column '" + col + "' may be opened only "
            + "in aggregates of at least " + u.minRows() + " rows, and " + operation + " may open "
            + "an aggregate of " + (minGroup <= 1 ? "a single row or a few"
            : "as few as " + minGroup + " rows") + " (set spark.mpc.reveal.minGroupSize to at "
            + "least " + u.minRows() + " at every party, so that smaller groups are never opened)");
      }
      for (String p : to) {
        if (!u.mayReceive(p)) {
          throw new MpcInputException(where + "to: column '" + col + "' may be opened only to "
              + u.to() + ", and " + operation + " opens values computed from it to party " + p);
        }
      }
    }
  }

  private MpcInputException removedOrMissing(String operation, StructType schema, String col) {
    for (StructField f : schema.fields()) {
      if (f.metadata().contains(TABLE_TAG)) {
        TablePolicy t = tables.get(f.metadata().getString(TABLE_TAG));
        ColumnClass c = t == null ? null : t.classOf(col);
        if (c != null && c.removed()) {
          return new MpcInputException("data policy of party " + party + ", table " + t.name()
              + ", rule " + c.rule() + ": column '" + col + "' never leaves the party, and "
              + operation + " asks for it");
        }
      }
    }
    for (StructField f : schema.fields()) {
      TablePolicy t = f.metadata().contains(TABLE_TAG)
          ? tables.get(f.metadata().getString(TABLE_TAG)) : null;
      if (t != null && unlisted == Unlisted.DROP && t.classOf(col) == null) {
        return new MpcInputException("data policy of party " + party + ", table " + t.name()
            + ", rule unlisted: drop: column '" + col + "' is named by no rule, so it was "
            + "dropped at ingestion, and " + operation + " asks for it; list it under share or "
            + "public if it may leave the party");
      }
    }
    return new MpcInputException(operation + ": party " + party + " has no column '" + col
        + "'; its columns are " + List.of(schema.fieldNames()));
  }

  private Tag tag(String operation, StructField f) {
    Metadata m = f.metadata();
    if (!m.contains(TABLE_TAG) || !m.contains(CLASS_TAG)) {
      throw new MpcInputException("party " + party + " has a data policy (" + file + "), and "
          + "column '" + f.name() + "' given to " + operation + " did not come through it: read "
          + "the table through the policy (SparkMpc.ingest(table, rows), or the runner's "
          + "input.<table>), and compute no new column from ingested ones");
    }
    String table = m.getString(TABLE_TAG);
    String cls = m.getString(CLASS_TAG);
    for (ColumnClass c : ColumnClass.values()) {
      if (c.rule().equals(cls) && tables.containsKey(table)
          && tables.get(table).classOf(f.name()) == c) {
        return new Tag(table, c);
      }
    }
    throw new MpcInputException("party " + party + ": column '" + f.name() + "' given to "
        + operation + " carries a policy tag (" + table + ", " + cls + ") that its data policy "
        + "(" + file + ") does not give it; ingest the table again");
  }

  private MpcInputException refusal(String operation, Tag tag, String col, String why) {
    return new MpcInputException("data policy of party " + party + ", table " + tag.table()
        + ": column '" + col + "': the policy " + why + " (" + operation + ")");
  }

  private byte[] key(ColumnClass c, String table, String col) {
    Path k = c == ColumnClass.PII_TOKENIZE ? ownKey : jointKey;
    String name = c == ColumnClass.PII_TOKENIZE ? "keys.own" : "keys.joint";
    if (k == null) {
      throw new MpcInputException("data policy of party " + party + ", table " + table + ", rule "
          + c.rule() + " names column '" + col + "', and the policy sets no " + name + " (a key "
          + "file to hash it with)");
    }
    return Tokens.readKey(k, "data policy of party " + party + ", " + name);
  }

  private static Metadata tag(Metadata base, String table, ColumnClass c) {
    return new MetadataBuilder().withMetadata(base).putString(TABLE_TAG, table)
        .putString(CLASS_TAG, c.rule()).build();
  }

  private static String quote(String name) {
    return "`" + name.replace("`", "``") + "`";
  }

  private record Tag(String table, ColumnClass cls) { }

  /** What happens at ingestion to a column the policy names nowhere. */
  public enum Unlisted {
    /** It is removed, like a {@code private} column. */
    DROP,
    /** The ingestion is refused, naming it. */
    REFUSE
  }
}
