package org.sparkmpc.connectors.policy;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One table's rules in a party's data policy: the class of each column it names, and how each
 * shared column may be used. A column the policy does not name is handled by the policy's
 * {@code unlisted} rule.
 *
 * @param name    the table's name (as the runner's {@code input.<name>} and
 *                {@code SparkMpc.ingest(name, rows)} call it)
 * @param classes each named column's class, in the file's order
 * @param usage   the usage rules of shared columns (a shared column without one has
 *                {@link ColumnUsage#DEFAULT})
 */
public record TablePolicy(String name, Map<String, ColumnClass> classes,
    Map<String, ColumnUsage> usage) {

  public TablePolicy {
    classes = Collections.unmodifiableMap(new LinkedHashMap<>(classes));
    usage = Collections.unmodifiableMap(new LinkedHashMap<>(usage));
  }

  /** The class of {@code column}, or {@code null} if this table's rules do not name it. */
  public ColumnClass classOf(String column) {
    return classes.get(column);
  }

  /** The usage rule of shared column {@code column}. */
  public ColumnUsage usageOf(String column) {
    return usage.getOrDefault(column, ColumnUsage.DEFAULT);
  }

  /** What a party's policy says a column is. */
  public enum ColumnClass {
    /** May be secret-shared, and leaves the party only as shares ({@code share}). */
    SHARE("share"),
    /** May be sent to the other parties in the clear ({@code public}). */
    PUBLIC("public"),
    /** Personal data removed at ingestion ({@code pii.drop}). */
    PII_DROP("pii.drop"),
    /**
     * Personal data replaced at ingestion by a keyed hash under this party's own key
     * ({@code pii.tokenize}): a pseudonym no other party can compute or invert.
     */
    PII_TOKENIZE("pii.tokenize"),
    /**
     * Personal data replaced at ingestion by a keyed hash under a key the parties hold in common
     * ({@code pii.tokenizeJoint}), so that PSI or {@code alignBy} matches it across parties.
     */
    PII_TOKENIZE_JOINT("pii.tokenizeJoint"),
    /** Never leaves the party in any form: removed at ingestion ({@code private}). */
    PRIVATE("private");

    private final String rule;

    ColumnClass(String rule) {
      this.rule = rule;
    }

    /** The rule's name in the policy file. */
    public String rule() {
      return rule;
    }

    /** Whether the column is gone after ingestion. */
    public boolean removed() {
      return this == PII_DROP || this == PRIVATE;
    }

    /** Whether the column is replaced by a pseudonym at ingestion. */
    public boolean tokenized() {
      return this == PII_TOKENIZE || this == PII_TOKENIZE_JOINT;
    }
  }
}
