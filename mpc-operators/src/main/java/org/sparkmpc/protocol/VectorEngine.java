package org.sparkmpc.protocol;

import java.util.ArrayList;
import java.util.List;
import org.sparkmpc.correlation.BeaverTriples;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.DaBits;
import org.sparkmpc.correlation.MatrixTriples;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.correlation.TruncationPairs;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;

/**
 * Arithmetic on shared vectors for one (operator, partition) of a deep protocol: products,
 * matrix products, truncations and comparisons, each interactive step the next round and the
 * next stream(s) of the blocks its operator's scope handed out. Written once, an algorithm runs
 * in a Spark task over a partition's rows (logistic regression's passes), on the driver (its
 * small solves, mini-batch training) and in the inference server alike.
 *
 * <p>An algorithm written against this class is data-independent, so running it first on a
 * {@linkplain #counting counting} engine tells exactly how many rounds and streams it takes and
 * which correlated randomness ({@link #needs}); the driver requests that and hands out the blocks,
 * and the live engine ({@link #live}) fetches each step's material when the step runs, so a task
 * holds one step's material at a time.
 *
 * <p>Per step: {@link #mul} one round, 16 bytes per element to each other party, one Beaver
 * triple per element. {@link #matmul} one round, {@code 8·(pq + qr)} bytes to each other party,
 * one matrix triple with the dealer ({@code pqr} Beaver triples without). {@link #gram} one round:
 * with the dealer one Gram triple, {@code 8·m} bytes per row to each other party; without, one
 * Beaver triple per row and pair of columns, {@code 8·m(m+1)} bytes per row. {@link #truncate} one
 * round, 8 bytes per element, one truncation pair (the dealer) or 64 daBits (the OT source,
 * turned into a pair locally: {@code r = Σ 2^j b_j}, {@code r >>> f = Σ_{j≥f} 2^(j-f) b_j}, the
 * top bit {@code b_63}); floor of {@code z/2^f} or one more, for {@code |z| < 2^62}. {@link #ltz}
 * {@value Comparison#ROUNDS} rounds ({@link Comparison#ltz}). {@link #discreteLaplace}
 * {@value DiscreteLaplace#ROUNDS} rounds ({@link DiscreteLaplace#sample}). Reveals nothing but
 * uniformly masked values.
 */
public final class VectorEngine {
  private final MpcContext ctx;
  private final CorrelationSource source;
  private final long operator;
  private final int partition;
  private final RoundRange rounds;
  private final StreamRange streams;
  private final boolean matrixTriples;
  private final boolean truncationPairs;
  private final int self;
  /** Counting: the material asked for, with streams relative to the block's start. */
  private final List<Need> counted;
  private int round;
  private int stream;

  private VectorEngine(MpcContext ctx, CorrelationSource source, long operator, int partition,
      RoundRange rounds, StreamRange streams, boolean matrixTriples, boolean truncationPairs,
      int self, List<Need> counted) {
    this.ctx = ctx;
    this.source = source;
    this.operator = operator;
    this.partition = partition;
    this.rounds = rounds;
    this.streams = streams;
    this.matrixTriples = matrixTriples;
    this.truncationPairs = truncationPairs;
    this.self = self;
    this.counted = counted;
  }

  /**
   * An engine that computes nothing and counts what an algorithm uses with a source of {@code
   * source}'s kind (matrix triples and truncation pairs, or not), for {@code partition}.
   */
  public static VectorEngine counting(CorrelationSource source, int partition) {
    return new VectorEngine(null, null, 0, partition, null, null, source.hasMatrixTriples(),
        source.hasTruncationPairs(), 0, new ArrayList<>());
  }

  /** A live engine for one (operator, partition), with the blocks its counted run asked for. */
  public static VectorEngine live(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams) {
    return new VectorEngine(ctx, source, operator, partition, rounds, streams,
        source.hasMatrixTriples(), source.hasTruncationPairs(), ctx.self(), null);
  }

  /** Whether this engine only counts. */
  public boolean counting() {
    return counted != null;
  }

  /** Rounds used so far. */
  public int rounds() {
    return round;
  }

  /** Streams used so far. */
  public int streams() {
    return stream;
  }

  /** A counted run's material at the streams of {@code block} (which has {@link #streams()}). */
  public List<Need> needs(StreamRange block) {
    if (counted == null) {
      throw new IllegalStateException("the needs of a live engine are not counted");
    }
    List<Need> out = new ArrayList<>(counted.size());
    for (Need n : counted) {
      out.add(new Need(n.kind(), n.partition(), block.stream(n.stream()), n.n(), n.p(), n.q(),
          n.r()));
    }
    return out;
  }

  /** This party's index (0 when counting). */
  public int self() {
    return self;
  }

  /** Shares of a public constant {@code v} (already scaled): party 0 holds it. */
  public long constant(long v) {
    return self == 0 ? v : 0;
  }

  /** Shares of {@code x + c} for a public {@code c}, in place. */
  public long[] addPublic(long[] x, long c) {
    if (self == 0) {
      for (int i = 0; i < x.length; i++) {
        x[i] += c;
      }
    }
    return x;
  }

  private int nextRound() {
    return counted != null ? round++ : rounds.round(round++);
  }

  private int nextStream() {
    return counted != null ? stream++ : streams.stream(stream++);
  }

  /** Shares of the elementwise products {@code x[i]·y[i]}, no truncation. One round. */
  public long[] mul(long[] x, long[] y) {
    int n = x.length;
    if (y.length != n) {
      throw new IllegalArgumentException("products of vectors of " + n + " and " + y.length
          + " elements");
    }
    int s = nextStream();
    int rd = nextRound();
    if (counted != null) {
      counted.add(Need.triples(partition, s, n));
      return new long[n];
    }
    if (n == 0) {
      return new long[0];
    }
    BeaverTriples t = source.triples(operator, partition, s, n);
    BeaverMultiplication.Pending p = BeaverMultiplication.mask(t, x, y, n);
    BeaverMultiplication.sendMasked(ctx, operator, partition, rd, p);
    return BeaverMultiplication.finish(ctx, operator, partition, rd, p);
  }

  /** {@link #mul} then {@link #truncate} by {@code f}: two rounds. */
  public long[] mulTrunc(long[] x, long[] y, int f) {
    return truncate(mul(x, y), f);
  }

  /**
   * Shares of the p×r product of a p×q and a q×r matrix (row-major), no truncation. One round.
   */
  public long[] matmul(long[] x, long[] y, int p, int q, int r) {
    if (x.length != p * q || y.length != q * r) {
      throw new IllegalArgumentException("a " + p + "x" + q + " by " + q + "x" + r + " product "
          + "of " + x.length + " and " + y.length + " elements");
    }
    int s = nextStream();
    int rd = nextRound();
    if (counted != null) {
      counted.add(matrixTriples ? Need.matrix(partition, s, 1, p, q, r)
          : Need.triples(partition, s, Math.multiplyExact(Math.multiplyExact(p, q), r)));
      return new long[p * r];
    }
    if (matrixTriples) {
      MatrixTriples t = source.matrixTriples(operator, partition, s, 1, p, q, r);
      return MatrixProducts.multiply(ctx, operator, partition, rd, t, x, y);
    }
    return MatrixProducts.elementwise(ctx, operator, partition, rd,
        source.triples(operator, partition, s, p * q * r), x, y, p, q, r);
  }

  /**
   * Shares of {@code ZᵀZ} (m×m, row-major) for the m shared columns {@code z} of equal length, no
   * truncation. One round: a Gram triple when the source has matrix triples (the dealer), else one
   * Beaver product per row and pair of columns, all in one message.
   */
  public long[] gram(long[][] z) {
    int m = z.length;
    int rows = m == 0 ? 0 : z[0].length;
    int s = nextStream();
    int rd = nextRound();
    int pairs = m * (m + 1) / 2;
    if (counted != null) {
      counted.add(matrixTriples ? Need.gram(partition, s, rows, m)
          : Need.triples(partition, s, Math.multiplyExact(pairs, rows)));
      return new long[m * m];
    }
    if (rows == 0) {
      return new long[m * m];
    }
    if (matrixTriples) {
      MatrixProducts.PendingGram g = MatrixProducts.gramPrepare(source, operator, partition, s, z,
          rows);
      MatrixProducts.sendMasked(ctx, operator, partition, rd, g.masked());
      return MatrixProducts.gramFinish(ctx, operator, partition, rd, g);
    }
    long[] xs = new long[pairs * rows];
    long[] ys = new long[pairs * rows];
    int k = 0;
    for (int i = 0; i < m; i++) {
      for (int j = i; j < m; j++, k++) {
        System.arraycopy(z[i], 0, xs, k * rows, rows);
        System.arraycopy(z[j], 0, ys, k * rows, rows);
      }
    }
    BeaverTriples t = source.triples(operator, partition, s, xs.length);
    BeaverMultiplication.Pending pend = BeaverMultiplication.mask(t, xs, ys, xs.length);
    BeaverMultiplication.sendMasked(ctx, operator, partition, rd, pend);
    long[] prod = BeaverMultiplication.finish(ctx, operator, partition, rd, pend);
    long[] out = new long[m * m];
    k = 0;
    for (int i = 0; i < m; i++) {
      for (int j = i; j < m; j++, k++) {
        long sum = 0;
        for (int r = k * rows; r < (k + 1) * rows; r++) {
          sum += prod[r];
        }
        out[i * m + j] = sum;
        out[j * m + i] = sum;
      }
    }
    return out;
  }

  /**
   * Shares of {@code z / 2^f} (floor or one more) in place, for {@code |z| < 2^62}. One round;
   * {@code f = 0} is free.
   */
  public long[] truncate(long[] z, int f) {
    if (f == 0) {
      return z;
    }
    if (f < 0 || f > 62) {
      throw new IllegalArgumentException("a truncation by " + f + " bits");
    }
    int n = z.length;
    int s = nextStream();
    int rd = nextRound();
    if (counted != null) {
      counted.add(truncationPairs ? Need.truncation(partition, s, n, f)
          : Need.daBits(partition, s, Math.multiplyExact(64, n)));
      return z;
    }
    if (n == 0) {
      return z;
    }
    TruncationPairs pairs = truncationPairs ? source.truncationPairs(operator, partition, s, n, f)
        : pairsFromDaBits(source.daBits(operator, partition, s, 64 * n), n, f);
    Truncation.withPairs(ctx, operator, partition, rd, pairs, 0, z, n);
    return z;
  }

  /** Truncation pairs from 64 daBits each: no interaction. */
  static TruncationPairs pairsFromDaBits(DaBits bits, int n, int f) {
    long[] b = bits.arith();
    long[] r = new long[n];
    long[] shifted = new long[n];
    long[] msb = new long[n];
    for (int i = 0; i < n; i++) {
      int at = i * 64;
      long rv = 0;
      long sv = 0;
      for (int j = 0; j < 64; j++) {
        long bit = b[at + j];
        rv += bit << j;
        if (j >= f) {
          sv += bit << (j - f);
        }
      }
      r[i] = rv;
      shifted[i] = sv;
      msb[i] = b[at + 63];
    }
    return new TruncationPairs(r, shifted, msb, f);
  }

  /** Open {@code x} to every party: one round, 8 bytes per element to each other party. */
  public long[] open(long[] x) {
    int rd = nextRound();
    if (counted != null || x.length == 0) {
      return new long[x.length];
    }
    return org.sparkmpc.share.Reveal.toAll(ctx, operator, partition, rd, x, x.length);
  }

  /**
   * Arithmetic shares of {@code [x < 0]} (0 or 1) for every element, exact over the ring.
   * {@value Comparison#ROUNDS} rounds, {@value Comparison#STREAMS} streams.
   */
  public long[] ltz(long[] x) {
    int n = x.length;
    int s0 = stream;
    int r0 = round;
    for (int i = 0; i < Comparison.STREAMS; i++) {
      nextStream();
    }
    for (int i = 0; i < Comparison.ROUNDS; i++) {
      nextRound();
    }
    if (counted != null) {
      counted.addAll(Comparison.needs(partition, new StreamRange("ltz", s0, Comparison.STREAMS),
          n));
      return new long[n];
    }
    if (n == 0) {
      return new long[0];
    }
    RoundRange rr = new RoundRange(rounds.name(), rounds.round(r0), Comparison.ROUNDS);
    StreamRange sr = new StreamRange(streams.name(), streams.stream(s0), Comparison.STREAMS);
    return Comparison.ltz(ctx, source, operator, partition, rr, sr, x);
  }

  /**
   * Shares of {@code samples} independent discrete Laplace draws of scale {@code scale}
   * ({@link DiscreteLaplace#sample}), from this party's own secret {@code ownSeed} (32 bytes,
   * different at every party; not read by a counting engine). {@value DiscreteLaplace#ROUNDS}
   * rounds, {@value DiscreteLaplace#STREAMS} streams.
   */
  public long[] discreteLaplace(int samples, double scale, byte[] ownSeed) {
    int s0 = stream;
    int r0 = round;
    List<Need> needs = DiscreteLaplace.needs(partition,
        new StreamRange("discrete Laplace", s0, DiscreteLaplace.STREAMS), samples, scale);
    for (int i = 0; i < DiscreteLaplace.STREAMS; i++) {
      nextStream();
    }
    for (int i = 0; i < DiscreteLaplace.ROUNDS; i++) {
      nextRound();
    }
    if (counted != null) {
      counted.addAll(needs);
      return new long[samples];
    }
    RoundRange rr = new RoundRange(rounds.name(), rounds.round(r0), DiscreteLaplace.ROUNDS);
    StreamRange sr = new StreamRange(streams.name(), streams.stream(s0), DiscreteLaplace.STREAMS);
    return DiscreteLaplace.sample(ctx, source, operator, partition, rr, sr, ownSeed, samples,
        scale);
  }
}
