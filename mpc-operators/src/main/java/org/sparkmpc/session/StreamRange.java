package org.sparkmpc.session;

import java.io.Serializable;

/**
 * A block of consecutive stream numbers that {@link Coordinates} handed to one user of an operator.
 * A stream names one piece of randomness of the operator in each partition: a PRG stream keyed by
 * (session, operator, partition, stream) (input sharing) or one batch of correlated randomness
 * (a {@link org.sparkmpc.correlation.Need}). Each stream also owns a block of rounds for the
 * correlation source's own messages ({@link Coordinates#correlationRounds}). No other user of the
 * operator is handed any of these streams, so no two users share randomness or rounds.
 *
 * <p>A small value that Spark tasks carry in their closures; {@link #stream} refuses an index
 * outside the block.
 *
 * @param name  what the streams are for (shown in errors)
 * @param first the first stream of the block
 * @param count the number of streams in the block
 */
public record StreamRange(String name, int first, int count) implements Serializable {

  public StreamRange {
    if (first < 0 || count < 0 || (long) first + count > Coordinates.MAX_STREAMS) {
      throw new IllegalArgumentException("bad stream range '" + name + "': " + count
          + " streams from " + first);
    }
  }

  /**
   * Stream {@code i} of the block.
   *
   * @throws IllegalArgumentException if {@code i} is not in {@code 0..count-1}
   */
  public int stream(int i) {
    if (i < 0 || i >= count) {
      throw new IllegalArgumentException("stream " + i + " of '" + name + "' is outside its block"
          + " of " + count + " streams (" + this + "): ask the operator's scope for more streams");
    }
    return first + i;
  }

  /** Whether {@code stream} is in this block. */
  public boolean contains(int stream) {
    return stream >= first && stream - first < count;
  }

  @Override
  public String toString() {
    return name + " streams [" + first + ", " + (first + count) + ")";
  }
}
