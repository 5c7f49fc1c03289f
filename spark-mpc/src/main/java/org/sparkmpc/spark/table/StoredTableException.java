package org.sparkmpc.spark.table;

import org.sparkmpc.MpcInputException;

/**
 * A stored share table refused at this party: a missing, altered, truncated or swapped file, a
 * manifest that does not verify, or another table or version than the peers load. Its message names
 * the table and the file with its path (for this party's own log and error); {@link #forPeers()} is
 * what the peers are told: the table and the file name, never a path or a value.
 */
public class StoredTableException extends MpcInputException {
  private static final long serialVersionUID = 1L;
  private final String forPeers;

  public StoredTableException(String message, String forPeers) {
    super(message);
    this.forPeers = forPeers;
  }

  /** The reason as the other parties are told it: no path, no value. */
  public String forPeers() {
    return forPeers;
  }

  /** The first {@code StoredTableException} in {@code t}'s causes (Spark wraps task failures). */
  static StoredTableException in(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof StoredTableException s) {
        return s;
      }
    }
    return null;
  }
}
