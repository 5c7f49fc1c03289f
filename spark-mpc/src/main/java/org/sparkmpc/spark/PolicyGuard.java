package org.sparkmpc.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.connectors.policy.ColumnUsage;
import org.sparkmpc.connectors.policy.Policy;

/**
 * This party's data policy ({@code spark.mpc.policy}) at work in its session: it ingests raw
 * tables through the policy, checks every sharing, keeps the usage rules of the secure columns
 * this party contributed (by secure table id and column), and checks every operation that opens
 * values computed from them. Without a policy every check passes and ingestion changes nothing.
 *
 * <p>A refusal happens before any share of the operation moves: the refusing party begins the
 * operator the peers are beginning too and aborts it, so every party fails at once with the
 * refusal, which names the rule, the column and this party (and no value).
 */
public final class PolicyGuard {
  private final MpcRuntime rt;
  private final String launched;
  private String file;
  private Policy loaded;
  private final Map<String, Map<String, Map<String, ColumnUsage>>> rules =
      new ConcurrentHashMap<>();

  PolicyGuard(MpcRuntime rt, String file, Policy policy) {
    this.rt = rt;
    this.file = file;
    this.launched = file;
    this.loaded = policy;
  }

  /**
   * The policy in force, or null when this party has none: the file {@code spark.mpc.policy} of
   * the active Spark session names now (read again when the setting changes, and checked to be
   * this party's). A policy given at launch can be replaced by another file, never turned off.
   */
  public synchronized Policy policy() {
    org.apache.spark.sql.SparkSession s = org.apache.spark.sql.SparkSession.getActiveSession()
        .getOrElse(() -> org.apache.spark.sql.SparkSession.getDefaultSession().getOrElse(
            () -> null));
    String now = s == null ? file : MpcConf.POLICY.get(s).trim();
    if (now.isEmpty()) {
      now = launched; // a policy given at launch cannot be turned off from the job's code
    }
    if (!now.equals(file)) {
      Policy p = now.isEmpty() ? null : Policy.load(java.nio.file.Path.of(now));
      if (p != null) {
        p.checkParty(rt.context().directory().self().name());
      }
      file = now;
      loaded = p;
    }
    return loaded;
  }

  /** Raw rows of input table {@code table} through the policy's ingestion rules. */
  public Dataset<Row> ingest(String table, Dataset<Row> raw) {
    Policy policy = policy();
    if (policy == null) {
      return raw;
    }
    try {
      return policy.ingest(table, raw);
    } catch (MpcInputException e) {
      // The peers are about to share: they fail at once too, with this refusal.
      throw rt.refuse("ingest", e);
    }
  }

  /**
   * Check a sharing of this party's rows before its operator begins; a refusal aborts the
   * operator {@code kind} at every party. Returns the usage rules of the shared columns (empty
   * without a policy), to {@link #register} with the table.
   */
  public Map<String, ColumnUsage> beforeSharing(String kind, StructType schema,
      List<String> secret, List<String> clear) {
    Policy policy = policy();
    if (policy == null) {
      return Map.of();
    }
    try {
      return policy.checkSharing(kind, schema, secret, clear, parties());
    } catch (MpcInputException e) {
      throw rt.refuse(kind, e);
    }
  }

  /** Keep the usage rules of the columns this party contributed to secure table {@code id}. */
  public void register(String tableId, Map<String, ColumnUsage> columns) {
    Map<String, Map<String, ColumnUsage>> t = new LinkedHashMap<>();
    columns.forEach((c, u) -> t.put(c, Map.of(c, u)));
    if (!t.isEmpty()) {
      rules.put(tableId, t);
    }
  }

  /**
   * Give secure table {@code tableId} (a stored table just loaded) the rules its columns had when
   * it was saved (column, then the shared column each rule comes from).
   */
  public void restore(String tableId, Map<String, Map<String, ColumnUsage>> columns) {
    if (!columns.isEmpty()) {
      Map<String, Map<String, ColumnUsage>> t = new ConcurrentHashMap<>();
      columns.forEach((c, u) -> t.put(c, Map.copyOf(u)));
      rules.put(tableId, t);
    }
  }

  /**
   * Secure table {@code tableId}'s columns {@code derived} are computed from columns {@code from}
   * of table {@code fromTable} (a model's predictions from its features): they carry all of
   * those columns' rules, each named by the column it comes from.
   */
  public void derive(String tableId, List<String> derived, String fromTable, List<String> from) {
    Map<String, ColumnUsage> inherited = new LinkedHashMap<>();
    for (String f : from) {
      inherited.putAll(uses(fromTable, f));
    }
    if (inherited.isEmpty()) {
      return;
    }
    Map<String, Map<String, ColumnUsage>> t = rules.computeIfAbsent(tableId,
        k -> new ConcurrentHashMap<>());
    for (String d : derived) {
      t.put(d, Map.copyOf(inherited));
    }
  }

  /**
   * The usage rules that govern column {@code column} of secure table {@code tableId}, by the
   * name of the shared column each comes from (empty: none).
   */
  public Map<String, ColumnUsage> uses(String tableId, String column) {
    Map<String, Map<String, ColumnUsage>> t = rules.get(tableId);
    Map<String, ColumnUsage> u = t == null ? null : t.get(column);
    return u == null ? Map.of() : u;
  }

  /**
   * Check an operation that opens values computed from {@code columns} (usage rules by the name
   * of the shared column each comes from), before its operator {@code kind} begins.
   *
   * @param recipients who receives (empty: every party)
   * @param rowByRow   whether values are opened per row
   * @param minGroup   the smallest aggregate that may be opened, in rows (when not row by row)
   */
  public void beforeOpening(String kind, Map<String, ColumnUsage> columns,
      List<String> recipients, boolean rowByRow, long minGroup) {
    if (columns.isEmpty()) {
      return;
    }
    // Rules stay in force without a policy now: a stored table brings the rules it was saved under.
    try {
      Policy.checkOpening(rt.context().directory().self().name(), kind, columns, recipients,
          parties(), rowByRow, minGroup);
    } catch (MpcInputException e) {
      throw rt.refuse(kind, e);
    }
  }

  /** The rules that govern the named columns of secure table {@code tableId}. */
  public Map<String, ColumnUsage> rules(String tableId, List<String> columns) {
    Map<String, ColumnUsage> out = new LinkedHashMap<>();
    for (String c : columns) {
      out.putAll(uses(tableId, c));
    }
    return out;
  }

  /** Release the rules of a dropped table. */
  void forget(String tableId) {
    rules.remove(tableId);
  }

  private List<String> parties() {
    // The computing parties: a dealer, listed last, holds no shares of any column.
    List<String> out = new ArrayList<>();
    for (int i = 0; i < rt.context().parties(); i++) {
      out.add(rt.context().directory().name(i));
    }
    return out;
  }
}
