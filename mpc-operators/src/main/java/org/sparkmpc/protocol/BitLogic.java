package org.sparkmpc.protocol;

import java.util.List;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;

/**
 * Logic on ARITHMETIC shares of bits in {0, 1} (as the comparison kernels return), and oblivious
 * selection. Public constants are added by party 0 only.
 *
 * <p>{@link #not}: {@code 1 - a}, local. {@link #and}: {@code a * b}, {@link #or}:
 * {@code a + b - a b}, {@link #select}: {@code c ? a : b = b + c (a - b)}: one Beaver
 * multiplication each ({@link BeaverMultiplication}). Rounds: {@value #ROUNDS}. Bytes per element:
 * 16 to each other party, plus the source's cost of one Beaver triple. Reveals only the
 * triple-masked operands, uniform. The bit kernels assume their inputs are bits; {@code select}
 * works for any {@code a}, {@code b} in Z(2^64).
 *
 * <p>Coordinates: round {@code rounds.round(0)}, Beaver triples on {@code streams.stream(0)};
 * material requested with {@link #needs}.
 */
public final class BitLogic {
  /** Rounds of {@link #and}, {@link #or} and {@link #select}. */
  public static final int ROUNDS = 1;
  /** Streams of {@link #and}, {@link #or} and {@link #select}: Beaver triples. */
  public static final int STREAMS = 1;

  private BitLogic() {}

  /** The material of one call on {@code n} elements: {@code n} Beaver triples on stream 0. */
  public static List<Need> needs(int partition, StreamRange streams, int n) {
    BitConversion.checkCount(n);
    return List.of(Need.triples(partition, streams.stream(0), n));
  }

  /** Shares of {@code 1 - a}. Local. */
  public static long[] not(MpcContext ctx, long[] a) {
    long one = ctx.self() == 0 ? 1 : 0;
    long[] out = new long[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = one - a[i];
    }
    return out;
  }

  /** Shares of {@code a AND b} ({@code a * b}) for bits {@code a}, {@code b}. */
  public static long[] and(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams, long[] a, long[] b) {
    sameLength(a, b, "and");
    return BeaverMultiplication.multiply(ctx, source, operator, partition, rounds.round(0),
        streams.stream(0), a, b, a.length);
  }

  /** Shares of {@code a OR b} ({@code a + b - a b}) for bits {@code a}, {@code b}. */
  public static long[] or(MpcContext ctx, CorrelationSource source, long operator, int partition,
      RoundRange rounds, StreamRange streams, long[] a, long[] b) {
    long[] ab = and(ctx, source, operator, partition, rounds, streams, a, b);
    for (int i = 0; i < ab.length; i++) {
      ab[i] = a[i] + b[i] - ab[i];
    }
    return ab;
  }

  /** Shares of {@code c ? a : b} for a bit {@code c} and any {@code a}, {@code b}. */
  public static long[] select(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams, long[] c, long[] a, long[] b) {
    sameLength(c, a, "select");
    long[] diff = Comparison.difference(a, b);
    long[] z = BeaverMultiplication.multiply(ctx, source, operator, partition, rounds.round(0),
        streams.stream(0), c, diff, c.length);
    for (int i = 0; i < z.length; i++) {
      z[i] += b[i];
    }
    return z;
  }

  private static void sameLength(long[] a, long[] b, String what) {
    if (a.length != b.length) {
      throw new IllegalArgumentException(what + ": the operands have different lengths: "
          + a.length + " and " + b.length);
    }
  }
}
