package org.sparkmpc.session;

import java.io.Serializable;

/**
 * A block of consecutive protocol rounds that {@link Coordinates} handed to one user (a kernel of
 * an operator, or a correlation-source stream). The same rounds are valid in every partition of
 * the operator; no other user of the operator or of the session is handed any of them.
 *
 * <p>A small value: a Spark task carries it in its closure and so uses exactly the rounds the
 * driver allocated, also when it is retried. {@link #round} refuses an index outside the block, so
 * a kernel that runs more rounds than it asked for fails instead of stepping on another's.
 *
 * @param name  what the rounds are for (shown in errors)
 * @param first the first round of the block
 * @param count the number of rounds in the block
 */
public record RoundRange(String name, int first, int count) implements Serializable {

  public RoundRange {
    if (first < 0 || count < 0 || (long) first + count > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("bad round range '" + name + "': " + count
          + " rounds from " + first);
    }
  }

  /**
   * Round {@code i} of the block.
   *
   * @throws IllegalArgumentException if {@code i} is not in {@code 0..count-1}
   */
  public int round(int i) {
    if (i < 0 || i >= count) {
      throw new IllegalArgumentException("round " + i + " of '" + name + "' is outside its block"
          + " of " + count + " rounds (" + this + "): ask the operator's scope for more rounds");
    }
    return first + i;
  }

  /** Whether {@code round} is in this block. */
  public boolean contains(int round) {
    return round >= first && round - first < count;
  }

  @Override
  public String toString() {
    return name + " rounds [" + first + ", " + (first + count) + ")";
  }
}
