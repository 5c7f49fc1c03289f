package org.sparkmpc.connectors.policy;

import java.util.List;

/**
 * How one secure column of a party may be used once shared: whether and how values computed from
 * it may be opened, to whom, and which parties may hold its shares. Only the party whose policy
 * it is checks it, on its own copy of every plan, before any share of the operation moves.
 *
 * @param reveal    {@link Reveal#AGGREGATES} (the default): opened only inside aggregates over
 *                  at least {@code minRows} rows (SQL aggregates under
 *                  {@code spark.mpc.reveal.minGroupSize >= minRows}, a model fitted over at least
 *                  {@code minRows} rows); {@link Reveal#ROWS}: row by row too (a revealed
 *                  column, predictions opened to a party); {@link Reveal#NEVER}: never opened in
 *                  any form, not even aggregated (it may still be computed on in shares)
 * @param minRows   the least number of rows an opened aggregate may cover (1: any)
 * @param to        the parties that may receive a value computed from the column; empty: any
 * @param shareWith the parties that may hold shares of the column; empty: any party of the
 *                  session
 */
public record ColumnUsage(Reveal reveal, int minRows, List<String> to, List<String> shareWith)
    implements java.io.Serializable {

  /** The usage of a shared column that the policy says nothing more of. */
  public static final ColumnUsage DEFAULT = new ColumnUsage(Reveal.AGGREGATES, 1, List.of(),
      List.of());

  public ColumnUsage {
    to = List.copyOf(to);
    shareWith = List.copyOf(shareWith);
  }

  /** Whether {@code party} may receive values computed from the column. */
  public boolean mayReceive(String party) {
    return to.isEmpty() || to.contains(party);
  }

  /** Whether {@code party} may hold shares of the column. */
  public boolean mayHoldShares(String party) {
    return shareWith.isEmpty() || shareWith.contains(party);
  }

  /** How values of a secure column may be opened. */
  public enum Reveal {
    /** Only inside aggregates over at least {@code minRows} rows. */
    AGGREGATES,
    /** Row by row too. */
    ROWS,
    /** Never, in any form. */
    NEVER;

    /** The policy file's spelling. */
    public String spelling() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
