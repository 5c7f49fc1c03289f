package org.sparkmpc.session;

import java.util.ArrayList;
import java.util.List;

/**
 * The coordinates of one secure operator, handed out by {@link Coordinates#operator}: its id, and
 * within it disjoint named blocks of rounds and of streams for the kernels and batches of
 * correlated randomness that run under it.
 *
 * <p>Guarantees: no two blocks of one scope share a round or a stream; no block holds the
 * operator's agreement round ({@link Coordinates#AGREEMENT_ROUND}) or a correlation-source round
 * ({@link Coordinates#correlationRounds}); other operators have other ids. Blocks are handed out
 * in call order, so the parties, which run the same program, get the same blocks. Asking for more
 * than the operator has left fails with an error naming the operator and the block.
 *
 * <p>Driver-side only, and deliberately not serialisable: tasks get {@link #id()} and the
 * {@link RoundRange}s and {@link StreamRange}s they use, as values.
 */
public final class OperatorScope {
  private final long id;
  private final String kind;
  private final List<Object> blocks = new ArrayList<>();
  private int nextRound = Coordinates.FIRST_KERNEL_ROUND;
  private int nextStream = 0;

  OperatorScope(long id, String kind) {
    this.id = id;
    this.kind = kind;
  }

  /** The operator id: the operator coordinate of every message and stream of this operator. */
  public long id() {
    return id;
  }

  /** What the operator computes. */
  public String kind() {
    return kind;
  }

  /**
   * A block of {@code count} rounds no other user of this operator (or of the session) gets.
   *
   * @param name what they are for (shown in errors)
   * @throws IllegalStateException if the operator has fewer than {@code count} kernel rounds left
   */
  public synchronized RoundRange rounds(String name, int count) {
    if (count < 0) {
      throw new IllegalArgumentException("cannot take " + count + " rounds for '" + name + "'");
    }
    if (count > Coordinates.KERNEL_ROUND_LIMIT - nextRound) {
      throw new IllegalStateException(this + " cannot take " + count + " more rounds for '"
          + name + "': " + (nextRound - Coordinates.FIRST_KERNEL_ROUND) + " of its "
          + (Coordinates.KERNEL_ROUND_LIMIT - Coordinates.FIRST_KERNEL_ROUND)
          + " kernel rounds are taken");
    }
    RoundRange r = new RoundRange(name, nextRound, count);
    nextRound += count;
    blocks.add(r);
    return r;
  }

  /** One round no other user gets: {@code rounds(name, 1).first()}. */
  public int round(String name) {
    return rounds(name, 1).first();
  }

  /**
   * A block of {@code count} streams no other user of this operator gets (see {@link StreamRange}).
   *
   * @param name what they are for (shown in errors)
   * @throws IllegalStateException if the operator has fewer than {@code count} streams left
   */
  public synchronized StreamRange streams(String name, int count) {
    if (count < 0) {
      throw new IllegalArgumentException("cannot take " + count + " streams for '" + name + "'");
    }
    if (count > Coordinates.MAX_STREAMS - nextStream) {
      throw new IllegalStateException(this + " cannot take " + count + " more streams for '"
          + name + "': " + nextStream + " of its " + Coordinates.MAX_STREAMS
          + " streams are taken");
    }
    StreamRange s = new StreamRange(name, nextStream, count);
    nextStream += count;
    blocks.add(s);
    return s;
  }

  /** The blocks handed out so far, in order: the operator's layout, for logs. */
  public synchronized String layout() {
    return this + ": " + blocks;
  }

  @Override
  public String toString() {
    return "operator " + id + " (" + kind + ")";
  }
}
