package org.sparkmpc.protocol;

import java.util.List;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;

/**
 * Secure equality of additively shared values in Z(2^64), exact over the whole ring (no range
 * precondition), for any correlation source and 2-5 parties. Returns ARITHMETIC shares of bits in
 * {0, 1}.
 *
 * <p>{@code x == y} exactly when {@code z = x - y} is 0: the parties open {@code c = z + r} for an
 * edaBit {@code r}, and {@code z = 0} exactly when every bit of {@code ~(c ^ r)} is 1, an AND tree
 * of 63 gates in 6 levels on packed XOR shares ({@link BitConversion#zeroBits}); a daBit converts
 * the result. Rounds: {@value #ROUNDS}. Bytes sent per element to each other computing party:
 * 8 (the opening) + 15.75 (63 gates) + 0.125 = 23.875, rounded up to whole words per 64 elements;
 * plus the correlation source's cost (the dealer: 8 + 7.875 + 8 bytes per element to the last
 * party). Reveals: {@code z + r} with {@code r} uniform and Beaver- or daBit-masked values, all
 * uniform.
 *
 * <p>Coordinates: rounds {@code rounds.round(0..ROUNDS-1)}, streams
 * {@code streams.stream(0..STREAMS-1)}; material requested with {@link #needs}.
 */
public final class Equality {
  /** Rounds of every kernel of this class. */
  public static final int ROUNDS = BitConversion.A2B_ROUNDS + BitConversion.B2A_ROUNDS;
  /** Streams of every kernel of this class: edaBits, boolean triples, daBits. */
  public static final int STREAMS = 3;

  private Equality() {}

  /**
   * The material of one call on {@code n} elements of a partition: {@code n} edaBits (stream 0),
   * {@code 63 * ceil(n / 64)} boolean triple words (stream 1), {@code n} daBits (stream 2).
   */
  public static List<Need> needs(int partition, StreamRange streams, int n) {
    BitConversion.checkCount(n);
    return List.of(Need.edaBits(partition, streams.stream(0), n),
        Need.bitTriples(partition, streams.stream(1), BitConversion.zeroTripleWords(n)),
        Need.daBits(partition, streams.stream(2), n));
  }

  /** Shares of {@code [x == y]}, elementwise. */
  public static long[] equal(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams, long[] x, long[] y) {
    return isZero(ctx, source, operator, partition, rounds, streams,
        Comparison.difference(x, y));
  }

  /** Shares of {@code [x == c]} for a public {@code c}. */
  public static long[] equalPublic(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams, long[] x, long c) {
    return isZero(ctx, source, operator, partition, rounds, streams,
        Comparison.minusPublic(ctx, x, c, false));
  }

  /** Shares of {@code [z == 0]}, elementwise. */
  public static long[] isZero(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams, long[] z) {
    long[] v = BitConversion.zeroBits(ctx, source, operator, partition, rounds, 0, streams, z);
    return BitConversion.toArithmetic(ctx, source, operator, partition,
        rounds.round(BitConversion.A2B_ROUNDS), streams.stream(2), v, z.length);
  }
}
