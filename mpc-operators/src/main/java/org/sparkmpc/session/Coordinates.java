package org.sparkmpc.session;

/**
 * The one allocator of protocol coordinates of a session: rounds are assigned, not chosen (as
 * FRESCO's batched evaluator assigns the rounds of a program). A message is keyed by (operator,
 * partition, round) and a piece of randomness by (operator, partition, stream); this class hands
 * out every operator id, round and stream, and holds every coordinate the session reserves for
 * itself, so no other class keeps a constant range and no two users can meet on a coordinate.
 *
 * <p><b>Operators.</b> {@link #operator} hands out ids {@value #FIRST_OPERATOR}, 2, 3, ... in
 * program order. The parties run the same program in lockstep, so each party's allocator hands the
 * same id to the same operator (and the dealer, which serves operators in that order, follows the
 * same sequence with an allocator of its own). Ids are allocated on the driver only; Spark tasks
 * receive the id and their ranges in their closures, so a retried task uses the same coordinates.
 *
 * <p><b>Rounds of an operator</b> (the same layout in every partition, the driver's
 * {@link #DRIVER_PARTITION} included):
 * <ul>
 *   <li>{@value #AGREEMENT_ROUND}: the plan agreement ({@link MpcContext#agree}, driver partition);
 *   <li>{@value #FIRST_KERNEL_ROUND} to {@value #KERNEL_ROUND_LIMIT}{@code - 1}: kernel rounds,
 *       handed out in named blocks by {@link OperatorScope#rounds};
 *   <li>from {@value #KERNEL_ROUND_LIMIT}: one block of {@value #ROUNDS_PER_STREAM} rounds per
 *       stream for the correlation source's own messages ({@link #correlationRounds}): a stream is
 *       handed to one user only, and so is its block.
 * </ul>
 * Streams {@code 0..}{@value #MAX_STREAMS}{@code - 1} of an operator are handed out in named
 * blocks by {@link OperatorScope#streams}.
 *
 * <p><b>Reserved session-level coordinates</b>, never handed to an operator: operator
 * {@value #SESSION_OPERATOR} (the session hello and key confirmation, round {@value #CONFIRM_ROUND},
 * and the dealer-free OT source's base OTs, {@link #baseOtRounds}, all under the driver partition); partition
 * {@value #ABORT_PARTITION} of every operator (abort notices) and partition
 * {@value #DEALER_REQUEST_PARTITION} of every operator (the request to the dealer). Data partitions
 * are {@code >= 0}.
 *
 * <p>Thread-safe. The allocator is cheap: its state is one counter, and the values it hands out
 * are plain longs and small serialisable records.
 */
public final class Coordinates {
  /** Operator of the session's own messages: hello, key confirmation, base OTs. */
  public static final long SESSION_OPERATOR = 0;
  /** The first operator id handed out. */
  public static final long FIRST_OPERATOR = 1;
  /** Partition of driver-level rounds (plan agreement, driver-side protocols, the session's own). */
  public static final int DRIVER_PARTITION = -1;
  /** Partition of abort notices, round 0, under the aborted operator (see the channel). */
  public static final int ABORT_PARTITION = -2;
  /** Partition of an operator's request to the dealer, round 0. */
  public static final int DEALER_REQUEST_PARTITION = -4;
  /** Round of the session hello, under the session operator in the hello session. */
  public static final int HELLO_ROUND = 0;
  /** Round of the key confirmation, under the session operator. */
  public static final int CONFIRM_ROUND = 0;
  /** Round of an operator's plan agreement, in the driver partition. */
  public static final int AGREEMENT_ROUND = 0;
  /** The first round of an operator handed to a kernel. */
  public static final int FIRST_KERNEL_ROUND = 1;
  /** Kernel rounds of an operator are below this; correlation-source rounds start here. */
  public static final int KERNEL_ROUND_LIMIT = 1 << 20;
  /** Rounds of the correlation source's messages per stream. */
  public static final int ROUNDS_PER_STREAM = 1 << 13;
  /** Streams of one operator. */
  public static final int MAX_STREAMS = 1 << 16;

  private static final RoundRange BASE_OT = new RoundRange("base OT", CONFIRM_ROUND + 1, 2);

  static {
    // The correlation rounds of the last stream must fit in an int.
    if ((long) KERNEL_ROUND_LIMIT + (long) MAX_STREAMS * ROUNDS_PER_STREAM > Integer.MAX_VALUE) {
      throw new AssertionError("round layout overflows");
    }
  }

  private long next = FIRST_OPERATOR;

  /**
   * The next operator of the session, in program order: a fresh id, never handed out before in
   * this session and never {@link #SESSION_OPERATOR}, with no round or stream taken yet. Call it on
   * the driver only, at the same point of the program at every party.
   *
   * @param kind what the operator computes (shown in errors and logs)
   */
  public synchronized OperatorScope operator(String kind) {
    return new OperatorScope(next++, kind);
  }

  /** The number of operators handed out so far. */
  public synchronized long operators() {
    return next - FIRST_OPERATOR;
  }

  /** The two driver-partition rounds of the base OTs, under {@link #SESSION_OPERATOR}. */
  public static RoundRange baseOtRounds() {
    return BASE_OT;
  }

  /**
   * The block of rounds of stream {@code stream} of an operator, for the correlation source's own
   * messages about that stream (the dealer's corrections, the OT extension's rounds), in the
   * partition of the stream's batch. Disjoint from every kernel round and from every other stream's
   * block; the stream itself is handed to one user only ({@link OperatorScope#streams}).
   */
  public static RoundRange correlationRounds(int stream) {
    if (stream < 0 || stream >= MAX_STREAMS) {
      throw new IllegalArgumentException("stream " + stream + " is outside 0.." + (MAX_STREAMS - 1));
    }
    return new RoundRange("correlations of stream " + stream,
        KERNEL_ROUND_LIMIT + stream * ROUNDS_PER_STREAM, ROUNDS_PER_STREAM);
  }

  /**
   * Check that an operator's message may use (operator, partition, round): the operator was
   * handed out by an allocator, the partition is a data partition or the driver's, the round is
   * not negative. The session-level reserved coordinates fail.
   *
   * @throws IllegalArgumentException naming the coordinate and what reserves it
   */
  public static void checkOperatorMessage(long operator, int partition, int round) {
    if (operator < FIRST_OPERATOR) {
      throw new IllegalArgumentException("operator " + operator + " is not an operator id: ids "
          + "below " + FIRST_OPERATOR + " are reserved for the session");
    }
    if (partition < DRIVER_PARTITION) {
      throw new IllegalArgumentException("partition " + partition + " is reserved ("
          + (partition == ABORT_PARTITION ? "abort notices"
              : partition == DEALER_REQUEST_PARTITION ? "dealer requests" : "session use")
          + "); operators use data partitions (>= 0) and the driver partition ("
          + DRIVER_PARTITION + ")");
    }
    if (round < 0) {
      throw new IllegalArgumentException("round " + round + " is negative");
    }
  }
}
