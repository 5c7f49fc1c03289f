package org.sparkmpc.protocol;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.sparkmpc.correlation.BeaverTriples;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.MatrixTriples;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.correlation.TruncationPairs;
import org.sparkmpc.crypto.AesCtrPrg;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;

/**
 * Driver-level arithmetic on small shared vectors and matrices for one secure operator: elementwise
 * and matrix products, truncations and public-constant operations, each interactive step one round
 * under the driver partition and the next round of the block the operator's scope handed it.
 *
 * <p>An algorithm written against this class is data-independent, so the same algorithm run on a
 * {@linkplain #counting counting} engine tells exactly which correlated randomness it will use
 * and how many rounds and streams; {@link #plan} takes those from the operator's
 * {@link OperatorScope}, and the live engine ({@link #live}) fetches the material once and consumes
 * it in order. With the dealer: Beaver triples, matrix triples of one square shape and truncation
 * pairs come from the dealer. Without matrix triples, a matrix product spends one Beaver triple
 * per scalar product. Without truncation pairs (the two-party OT source), each pair is built from
 * 64 shared random bits, each bit the XOR of one private bit per party turned arithmetic with one
 * Beaver triple ({@code b = b0 + b1 - 2·b0·b1}), all in one round before the algorithm starts; the
 * truncations are then as exact as with the dealer.
 */
public final class FixedPointEngine {
  private static final int PARTITION = Coordinates.DRIVER_PARTITION;
  /** Layout of a plan's stream block: Beaver triples, matrix triples, one per truncation shift. */
  private static final int TRIPLES_AT = 0;
  private static final int MATRICES_AT = 1;
  private static final int PAIRS_AT = 2;

  private final MpcContext ctx;
  private final CorrelationSource source;
  private final long operator;
  private final int square;
  private final boolean counting;
  private final int self;
  /** Live: the rounds the plan took; counting: null. */
  private final RoundRange roundBlock;
  private int round = 0;

  private int triplesUsed;
  /** Live: where the triples of elementwise square products and of random bits start. */
  private int matrixBase;
  private int bitsBase;
  private int matricesUsed;
  private final TreeMap<Integer, Integer> pairsUsed = new TreeMap<>();

  private BeaverTriples triples;
  private MatrixTriples matrices;
  private final TreeMap<Integer, TruncationPairs> pairs = new TreeMap<>();

  private FixedPointEngine(MpcContext ctx, CorrelationSource source, long operator, int square,
      boolean counting, int self, RoundRange roundBlock) {
    this.ctx = ctx;
    this.source = source;
    this.operator = operator;
    this.square = square;
    this.counting = counting;
    this.self = self;
    this.roundBlock = roundBlock;
  }

  /** An engine that computes nothing and counts the material an algorithm uses. */
  public static FixedPointEngine counting(int square) {
    return new FixedPointEngine(null, null, 0, square, true, 0, null);
  }

  /**
   * What a live run of a counted algorithm under one operator uses: the operator, the streams and
   * rounds its scope handed out, and the correlated randomness to request for it.
   */
  public record Plan(long operator, StreamRange streams, RoundRange rounds, List<Need> needs,
      FixedPointEngine counted) {}

  /**
   * Plan a live run of this counted algorithm under {@code scope}: take its streams and rounds
   * from the scope, and list the material to request from {@code source} ({@link Plan#needs}).
   */
  public Plan plan(OperatorScope scope, CorrelationSource source) {
    if (!counting) {
      throw new IllegalStateException("plan a counted run, not a live one");
    }
    StreamRange streams = scope.streams("fixed-point material", PAIRS_AT + pairsUsed.size());
    boolean bitsRound = !source.hasTruncationPairs() && !pairsUsed.isEmpty();
    RoundRange rounds = scope.rounds("fixed-point algorithm", rounds() + (bitsRound ? 1 : 0));
    return new Plan(scope.id(), streams, rounds, needs(source, streams), this);
  }

  /**
   * The correlated randomness a counted run used, as requests to {@code source}: native matrix
   * triples and truncation pairs where it has them, Beaver triples otherwise.
   */
  private List<Need> needs(CorrelationSource source, StreamRange streams) {
    List<Need> out = new ArrayList<>();
    boolean nativeMatrices = source.hasMatrixTriples();
    boolean nativePairs = source.hasTruncationPairs();
    int t = triplesUsed;
    if (nativeMatrices) {
      if (matricesUsed > 0) {
        out.add(Need.matrix(PARTITION, streams.stream(MATRICES_AT), matricesUsed, square, square,
            square));
      }
    } else {
      t += elementwiseSquareTriples();
    }
    int stream = PAIRS_AT;
    for (var e : pairsUsed.entrySet()) {
      if (nativePairs) {
        out.add(Need.truncation(PARTITION, streams.stream(stream++), e.getValue(), e.getKey()));
      } else {
        t += 64 * e.getValue();
      }
    }
    if (t > 0) {
      out.add(Need.triples(PARTITION, streams.stream(TRIPLES_AT), t));
    }
    return out;
  }

  /**
   * A live engine for a {@link #plan} of a counted run of the same algorithm, whose
   * {@link Plan#needs} were requested from {@code source}. Without native truncation pairs, this
   * builds them now (the plan's first round).
   */
  public static FixedPointEngine live(MpcContext ctx, CorrelationSource source, Plan plan) {
    FixedPointEngine counted = plan.counted();
    long operator = plan.operator();
    FixedPointEngine e = new FixedPointEngine(ctx, source, operator, counted.square, false,
        ctx.self(), plan.rounds());
    // One batch of Beaver triples: scalar products, then elementwise square products (without
    // matrix triples), then random bits (without truncation pairs).
    e.matrixBase = counted.triplesUsed;
    e.bitsBase = counted.triplesUsed + (source.hasMatrixTriples() ? 0
        : counted.elementwiseSquareTriples());
    for (Need need : plan.needs()) {
      switch (need.kind()) {
        case Need.TRIPLES -> e.triples = source.triples(operator, PARTITION, need.stream(),
            need.n());
        case Need.MATRIX -> e.matrices = source.matrixTriples(operator, PARTITION, need.stream(),
            need.n(), need.p(), need.q(), need.r());
        case Need.TRUNCATION -> e.pairs.put(need.q(), source.truncationPairs(operator,
            PARTITION, need.stream(), need.n(), need.q()));
        default -> throw new IllegalStateException("unexpected need " + need);
      }
    }
    if (!source.hasTruncationPairs() && !counted.pairsUsed.isEmpty()) {
      e.pairsFromBits(counted.pairsUsed);
    }
    return e;
  }

  /** Rounds used so far. */
  public int rounds() {
    return round;
  }

  /**
   * The next round: live, of the plan's block (which refuses a round beyond the counted ones);
   * counting, only counted.
   */
  private int nextRound() {
    if (counting) {
      round++;
      return -1;
    }
    return roundBlock.round(round++);
  }

  /** Shares of a public constant {@code v} (already scaled): party 0 holds it. */
  public long constant(long v) {
    return self == 0 ? v : 0;
  }

  /** Shares of the elementwise products {@code x[i]·y[i]} (no truncation). One round. */
  public long[] multiply(long[] x, long[] y) {
    int n = x.length;
    int at = triplesUsed;
    triplesUsed += n;
    if (counting) {
      nextRound();
      return new long[n];
    }
    BeaverTriples t = slice(triples, at, n);
    return finishRound(t, x, y, n);
  }

  private long[] finishRound(BeaverTriples t, long[] x, long[] y, int n) {
    int rd = nextRound();
    return BeaverMultiplication.finish(ctx, operator, PARTITION, rd, sendPrepared(t, x, y, n, rd));
  }

  private BeaverMultiplication.Pending sendPrepared(BeaverTriples t, long[] x, long[] y, int n,
      int rd) {
    BeaverMultiplication.Pending p = BeaverMultiplication.mask(t, x, y, n);
    BeaverMultiplication.sendMasked(ctx, operator, PARTITION, rd, p);
    return p;
  }

  private static BeaverTriples slice(BeaverTriples t, int at, int n) {
    return new BeaverTriples(java.util.Arrays.copyOfRange(t.a(), at, at + n),
        java.util.Arrays.copyOfRange(t.b(), at, at + n),
        java.util.Arrays.copyOfRange(t.c(), at, at + n));
  }

  /**
   * Shares of the p×r product of a p×q and a q×r matrix (row-major, no truncation). One round.
   * Square products of the engine's size use a matrix triple when the source has them.
   */
  public long[] matmul(long[] x, long[] y, int p, int q, int r) {
    if (p == square && q == square && r == square) {
      int at = matricesUsed++;
      if (counting) {
        nextRound();
        return new long[p * r];
      }
      if (matrices != null) {
        int s2 = square * square;
        MatrixTriples one = new MatrixTriples(
            java.util.Arrays.copyOfRange(matrices.a(), at * s2, (at + 1) * s2),
            java.util.Arrays.copyOfRange(matrices.b(), at * s2, (at + 1) * s2),
            java.util.Arrays.copyOfRange(matrices.c(), at * s2, (at + 1) * s2), 1, p, q, r);
        return MatrixProducts.multiply(ctx, operator, PARTITION, nextRound(), one, x, y);
      }
      // elementwise: the triples of the counted matrices follow the counted scalar products
      return elementwiseMatmul(x, y, p, q, r, matrixBase + at * p * q * r);
    }
    int at = triplesUsed;
    triplesUsed += p * q * r;
    if (counting) {
      nextRound();
      return new long[p * r];
    }
    return elementwiseMatmul(x, y, p, q, r, at);
  }

  private long[] elementwiseMatmul(long[] x, long[] y, int p, int q, int r, int tripleAt) {
    return MatrixProducts.elementwise(ctx, operator, PARTITION, nextRound(),
        slice(triples, tripleAt, p * q * r), x, y, p, q, r);
  }

  /**
   * Shares of {@code z / 2^f} (floor or one more) in place; requires {@code |z| < 2^62}. One round.
   */
  public long[] truncate(long[] z, int f) {
    int at = pairsUsed.getOrDefault(f, 0);
    pairsUsed.put(f, at + z.length);
    if (counting) {
      nextRound();
      return z;
    }
    Truncation.withPairs(ctx, operator, PARTITION, nextRound(), pairs.get(f), at, z, z.length);
    return z;
  }

  /** Beaver triples that the square matrix products take without matrix triples. */
  private int elementwiseSquareTriples() {
    return matricesUsed * square * square * square;
  }

  /** Build the truncation pairs from shared random bits (two parties, one round). */
  private void pairsFromBits(TreeMap<Integer, Integer> wanted) {
    if (ctx.parties() != 2) {
      throw new IllegalArgumentException("truncation pairs from random bits need two parties");
    }
    int total = 0;
    for (int v : wanted.values()) {
      total += v;
    }
    byte[] seed = new byte[32];
    new SecureRandom().nextBytes(seed);
    long[] mine = new AesCtrPrg(seed).next(total);
    int nb = 64 * total;
    long[] own = new long[nb];
    for (int i = 0; i < nb; i++) {
      own[i] = (mine[i >>> 6] >>> (i & 63)) & 1;
    }
    // The XOR of the two parties' bits: x holds party 0's bit, y party 1's (the other is zero).
    long[] x = ctx.self() == 0 ? own : new long[nb];
    long[] y = ctx.self() == 0 ? new long[nb] : own;
    BeaverTriples t = slice(triples, bitsBase, nb);
    long[] prod = finishRound(t, x, y, nb);
    int at = 0;
    for (var e : wanted.entrySet()) {
      int f = e.getKey();
      int n = e.getValue();
      long[] r = new long[n];
      long[] s = new long[n];
      long[] m = new long[n];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < 64; j++) {
          int k = (at + i) * 64 + j;
          long b = own[k] - 2 * prod[k];
          r[i] += b << j;
          if (j >= f) {
            s[i] += b << (j - f);
          }
          if (j == 63) {
            m[i] = b;
          }
        }
      }
      pairs.put(f, new TruncationPairs(r, s, m, f));
      at += n;
    }
  }
}
