package org.sparkmpc.protocol;

import java.util.List;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;

/**
 * Secure comparison of additively shared values in Z(2^64), for any correlation source and 2-5
 * parties. Every kernel returns ARITHMETIC shares of bits in {0, 1}, so results multiply into
 * aggregates and feed {@link BitLogic#select}.
 *
 * <p>{@link #ltz}: {@code [x < 0]}, the sign bit in two's complement over the whole 64-bit ring,
 * exact for every {@code x} ({@code Long.MIN_VALUE} included). It opens {@code x + r} for an edaBit
 * {@code r}, extracts the sign bit with a log-depth carry circuit on packed XOR shares
 * ({@link BitConversion#signBits}) and converts it with a daBit ({@link BitConversion#toArithmetic}).
 * The other kernels are {@code ltz} of a local difference, with the precondition that the
 * difference does not wrap: both operands (or the operand and the public constant) lie in
 * {@code (-2^62, 2^62)}, which every value of the project's fixed-point range satisfies.
 *
 * <p>Rounds: {@value #ROUNDS} (1 opening, 6 carry levels, 1 conversion), whatever the batch size;
 * one message per round per peer. Bytes sent per element to each other computing party: 8 (the
 * opening) + 29.5 (118 AND gates, 2 bits each, packed across elements) + 0.125 (the conversion)
 * = 37.625, rounded up to whole words per 64 elements; plus the correlation source's cost (the
 * dealer sends the last party 8 + 14.75 + 8 = 30.75 bytes per element). Reveals: {@code x + r}
 * with {@code r} uniform, Beaver-masked gate inputs and a daBit-masked bit, all uniform and
 * independent of the inputs.
 *
 * <p>Coordinates: rounds {@code rounds.round(0..ROUNDS-1)} and streams
 * {@code streams.stream(0..STREAMS-1)} of the operator, as handed out by
 * {@link org.sparkmpc.session.OperatorScope#rounds} and {@code streams}; the material must have
 * been requested with {@link #needs} (by the driver, {@link CorrelationSource#request}).
 */
public final class Comparison {
  /** Rounds every kernel of this class uses. */
  public static final int ROUNDS = BitConversion.A2B_ROUNDS + BitConversion.B2A_ROUNDS;
  /** Streams every kernel of this class uses: edaBits, boolean triples, daBits. */
  public static final int STREAMS = 3;

  private Comparison() {}

  /**
   * The correlated material one call on {@code n} elements of a partition consumes: {@code n}
   * edaBits on stream 0, {@code 118 * ceil(n / 64)} boolean triple words on stream 1 and {@code n}
   * daBits on stream 2 of {@code streams}.
   */
  public static List<Need> needs(int partition, StreamRange streams, int n) {
    BitConversion.checkCount(n);
    return List.of(Need.edaBits(partition, streams.stream(0), n),
        Need.bitTriples(partition, streams.stream(1), BitConversion.signTripleWords(n)),
        Need.daBits(partition, streams.stream(2), n));
  }

  /** Shares of {@code [x < 0]} for every element of {@code x} (exact over the whole ring). */
  public static long[] ltz(MpcContext ctx, CorrelationSource source, long operator, int partition,
      RoundRange rounds, StreamRange streams, long[] x) {
    long[] v = BitConversion.signBits(ctx, source, operator, partition, rounds, 0, streams, x);
    return BitConversion.toArithmetic(ctx, source, operator, partition,
        rounds.round(BitConversion.A2B_ROUNDS), streams.stream(2), v, x.length);
  }

  /** Shares of {@code [x < y]}; requires {@code |x|, |y| < 2^62}. */
  public static long[] lessThan(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams, long[] x, long[] y) {
    return ltz(ctx, source, operator, partition, rounds, streams, difference(x, y));
  }

  /** Shares of {@code [x > y]}; requires {@code |x|, |y| < 2^62}. */
  public static long[] greaterThan(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams, long[] x, long[] y) {
    return ltz(ctx, source, operator, partition, rounds, streams, difference(y, x));
  }

  /** Shares of {@code [x <= y]}; requires {@code |x|, |y| < 2^62}. */
  public static long[] lessEqual(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams, long[] x, long[] y) {
    return BitLogic.not(ctx, greaterThan(ctx, source, operator, partition, rounds, streams, x, y));
  }

  /** Shares of {@code [x >= y]}; requires {@code |x|, |y| < 2^62}. */
  public static long[] greaterEqual(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams, long[] x, long[] y) {
    return BitLogic.not(ctx, lessThan(ctx, source, operator, partition, rounds, streams, x, y));
  }

  /** Shares of {@code [x < c]} for a public {@code c}; requires {@code |x|, |c| < 2^62}. */
  public static long[] lessThanPublic(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams, long[] x, long c) {
    return ltz(ctx, source, operator, partition, rounds, streams,
        minusPublic(ctx, x, c, false));
  }

  /** Shares of {@code [x > c]} for a public {@code c}; requires {@code |x|, |c| < 2^62}. */
  public static long[] greaterThanPublic(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams, long[] x, long c) {
    return ltz(ctx, source, operator, partition, rounds, streams, minusPublic(ctx, x, c, true));
  }

  /** Shares of {@code [x <= c]} for a public {@code c}; requires {@code |x|, |c| < 2^62}. */
  public static long[] lessEqualPublic(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams, long[] x, long c) {
    return BitLogic.not(ctx,
        greaterThanPublic(ctx, source, operator, partition, rounds, streams, x, c));
  }

  /** Shares of {@code [x >= c]} for a public {@code c}; requires {@code |x|, |c| < 2^62}. */
  public static long[] greaterEqualPublic(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams, long[] x, long c) {
    return BitLogic.not(ctx,
        lessThanPublic(ctx, source, operator, partition, rounds, streams, x, c));
  }

  /** Shares of {@code x - y}; an error naming both lengths when they differ. */
  static long[] difference(long[] x, long[] y) {
    if (x.length != y.length) {
      throw new IllegalArgumentException("the operands have different lengths: " + x.length
          + " and " + y.length);
    }
    long[] d = new long[x.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = x[i] - y[i];
    }
    return d;
  }

  /** Shares of {@code x - c}, or of {@code c - x} when {@code negate}; party 0 adds the constant. */
  static long[] minusPublic(MpcContext ctx, long[] x, long c, boolean negate) {
    long k = ctx.self() == 0 ? c : 0;
    long[] d = new long[x.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = negate ? k - x[i] : x[i] - k;
    }
    return d;
  }
}
