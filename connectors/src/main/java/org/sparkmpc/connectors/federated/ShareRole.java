package org.sparkmpc.connectors.federated;

/** What a party receives of one client's submission: a 32-byte seed, or the full (masked) vector. */
public enum ShareRole {
  /** A 32-byte PRG seed; the party expands it (wire code 0). */
  SEED(0),
  /** The quantised update minus the expansions of the other parties' seeds (wire code 1). */
  FULL(1);

  private final int code;

  ShareRole(int code) {
    this.code = code;
  }

  /** The byte that stands for this role in uploads and stored files. */
  public int code() {
    return code;
  }

  /** The role of a wire or file code, or {@code null} for an unknown code. */
  public static ShareRole ofCode(int code) {
    for (ShareRole r : values()) {
      if (r.code == code) {
        return r;
      }
    }
    return null;
  }
}
