package org.sparkmpc.protocol;

import java.util.List;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.crypto.AesCtrPrg;
import org.sparkmpc.crypto.Hkdf;
import org.sparkmpc.ring.BitSlice;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;

/**
 * Discrete Laplace noise drawn jointly inside MPC, for differential privacy on revealed aggregates:
 * every party ends with additive shares in Z(2^64) of integers {@code X} with
 * {@code P(X = x) = (1-p)/(1+p) · p^|x|}, {@code p = exp(-1/scale)}, and no party (nor any
 * coalition of all but one party, nor the dealer) learns anything about them. Semi-honest, any
 * correlation source, 2-5 parties.
 *
 * <p>Method: {@code X = G1 - G2} for independent geometric {@code G} on {0, 1, ...}
 * ({@code P(G = k) = (1-p) p^k}), whose binary digits are independent:
 * {@code G = Σ 2^i b_i} with {@code b_i ~ Bernoulli(q_i)}, {@code q_i = p^(2^i) / (1 + p^(2^i))}.
 * Each bit is drawn as {@code [c_i + r >= 2^63]} for the public {@code c_i = round(q_i · 2^63)}
 * and {@code r = XOR_j r_j}, where party {@code j} takes the 63-bit {@code r_j} from its own secret
 * seed: {@code r} is uniform in [0, 2^63) and unknown to every party, so the bit is
 * Bernoulli({@code c_i / 2^63}). The bit is computed on XOR shares with the sign circuit
 * ({@link BitConversion#signOfSum}), converted to arithmetic shares with daBits
 * ({@link BitConversion#toArithmetic}); the weighted sums are local.
 *
 * <p>Approximation: {@code G} is truncated to {@link #bits} = L bits, the least L &gt;= 1 with
 * {@code p^(2^L) <= 2^-60}. By the independence of the digits the truncated sum is exactly
 * {@code G} conditioned on {@code G < 2^L}, at total variation distance {@code p^(2^L) <= 2^-60}
 * from {@code G} (at most {@code 2^-59} for {@code X}). Each {@code q_i} is computed in double
 * precision (relative error about {@code 2^-52}) and rounded to a multiple of {@code 2^-63}.
 * Scales needing more than {@value #MAX_BITS} bits (above about 5.5e16) are refused, so
 * {@code |X| < 2^61}.
 *
 * <p>Rounds: {@value #ROUNDS} ({@value BitConversion#SIGN_LEVELS} carry levels, 1 conversion),
 * whatever the number of draws; one message per round per peer. Bytes per draw to each other
 * party: {@code 2L} bits × (29.5 + 0.125) = {@code 59.25 · L} (415 at scale 2.5, L = 7; 948 at
 * scale 1000, L = 16), rounded up to whole words per 64 bits; plus the correlation source's cost
 * for {@code 2L · 118} boolean AND gates and {@code 2L} daBits per draw (the dealer sends the last
 * party about {@code 2L · 22.75} bytes; the OT source exchanges about {@code 3.8 · L} KB each way
 * in its own rounds, 1 KiB per 64 gates). Reveals: Beaver-masked gate inputs and daBit-masked
 * bits, uniform and independent of the noise; the {@code r_j} never leave their party.
 *
 * <p>The caller's duties: {@code ownSeed} is 32 bytes that only this party knows (in Spark
 * {@code PairwiseKeys.ownSecret("dp/" + operator)}), different at every party: two parties with
 * the same seed cancel out of {@code r} (with two parties the noise would then be public). The
 * kernel derives its PRG key from the seed, the operator, the partition and the first stream, so
 * one seed serves every partition and call of an operator; a call with the same seed and
 * coordinates draws the same noise (what a retried task needs), so never open two results of
 * one draw.
 *
 * <p>Coordinates: rounds {@code rounds.round(0..ROUNDS-1)} and streams
 * {@code streams.stream(0..STREAMS-1)} (boolean triples, daBits), whose material was requested
 * with {@link #needs}.
 */
public final class DiscreteLaplace {
  /** Rounds of {@link #sample}: the carry levels and the conversion to arithmetic shares. */
  public static final int ROUNDS = BitConversion.SIGN_LEVELS + BitConversion.B2A_ROUNDS;
  /** Streams of {@link #sample}: boolean triples, daBits. */
  public static final int STREAMS = 2;
  /** The most bits per geometric variable. */
  public static final int MAX_BITS = 61;
  /** Length of the own seed. */
  public static final int SEED_BYTES = 32;
  /** {@code ln 2^60}: the truncated tail {@code p^(2^L) = exp(-2^L / scale)} is below 2^-60. */
  private static final double TAIL = 60 * Math.log(2);

  private DiscreteLaplace() {}

  /**
   * Bits per geometric variable at {@code scale}: the least {@code L >= 1} with
   * {@code 2^L >= 60 ln 2 · scale}, i.e. {@code p^(2^L) <= 2^-60}.
   *
   * @throws IllegalArgumentException if the scale is not finite and positive, or needs more than
   *     {@value #MAX_BITS} bits
   */
  public static int bits(double scale) {
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("the scale of discrete Laplace noise must be finite and "
          + "positive, was " + scale);
    }
    double need = TAIL * scale;
    int l = 1;
    while (l <= MAX_BITS && Math.scalb(1.0, l) < need) {
      l++;
    }
    if (l > MAX_BITS) {
      throw new IllegalArgumentException("the scale " + scale + " of discrete Laplace noise is "
          + "too large: it needs more than " + MAX_BITS + " bits per geometric variable (the "
          + "largest scale is " + Math.scalb(1.0, MAX_BITS) / TAIL + ")");
    }
    return l;
  }

  /**
   * The correlated material one call of {@code samples} draws at {@code scale} consumes, with
   * {@code m = 2 · bits(scale) · samples} bits: {@code 118 · ceil(m / 64)} boolean triple words on
   * stream 0 and {@code m} daBits on stream 1 of {@code streams}.
   */
  public static List<Need> needs(int partition, StreamRange streams, int samples, double scale) {
    int m = elements(samples, scale);
    return List.of(Need.bitTriples(partition, streams.stream(0), BitConversion.signTripleWords(m)),
        Need.daBits(partition, streams.stream(1), m));
  }

  /**
   * This party's shares of {@code samples} independent discrete Laplace draws of scale
   * {@code scale}, from its own secret {@code ownSeed} (see the class comment). Deterministic in
   * its arguments: a retried task sends byte-identical messages.
   *
   * @throws IllegalArgumentException for a bad scale, {@code samples < 1} or more than one batch
   *     of correlated material holds, a seed that is not {@value #SEED_BYTES} bytes, or blocks of
   *     rounds or streams smaller than {@link #ROUNDS} and {@link #STREAMS}
   */
  public static long[] sample(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams, byte[] ownSeed, int samples,
      double scale) {
    int m = elements(samples, scale);
    checkSeed(ownSeed);
    rounds.round(ROUNDS - 1); // a short block fails here, before any message
    streams.stream(STREAMS - 1);
    int bits = bits(scale);
    long[] thresholds = thresholds(scale, bits);
    // bit i of G_g for draw s is element (g * bits + i) * samples + s
    long[] c = new long[m];
    for (int gi = 0; gi < 2 * bits; gi++) {
      java.util.Arrays.fill(c, gi * samples, (gi + 1) * samples, thresholds[gi % bits]);
    }
    long[] r = ownBits(ownSeed, operator, partition, streams, m);
    long[] v = BitConversion.signOfSum(ctx, source, operator, partition, rounds, 0,
        streams.stream(0), c, r);
    long[] b = BitConversion.toArithmetic(ctx, source, operator, partition,
        rounds.round(BitConversion.SIGN_LEVELS), streams.stream(1), v, m);
    long[] out = new long[samples];
    for (int gi = 0; gi < 2 * bits; gi++) {
      long weight = gi < bits ? 1L << gi : -(1L << (gi - bits)); // X = G1 - G2
      int at = gi * samples;
      for (int s = 0; s < samples; s++) {
        out[s] += weight * b[at + s];
      }
    }
    return out;
  }

  /**
   * This party's {@code m} words {@code r_j} (63 bits each, so {@code c + r < 2^64} cannot wrap),
   * from a key derived from its own seed and the coordinates. Secret: never leaves the party.
   */
  static long[] ownBits(byte[] ownSeed, long operator, int partition, StreamRange streams,
      int m) {
    long[] r = new AesCtrPrg(Hkdf.derive(ownSeed, null, "sparkmpc/discrete-laplace/" + operator
        + "/" + partition + "/" + streams.stream(0), SEED_BYTES)).next(m);
    for (int e = 0; e < m; e++) {
      r[e] >>>= 1;
    }
    return r;
  }

  /**
   * The public thresholds {@code c_i = round(q_i · 2^63)}, {@code q_i = t / (1 + t)} with
   * {@code t = p^(2^i) = exp(-2^i / scale)}; {@code q_i <= 1/2}, so {@code c_i <= 2^62}.
   */
  static long[] thresholds(double scale, int bits) {
    long[] c = new long[bits];
    for (int i = 0; i < bits; i++) {
      double t = Math.exp(-Math.scalb(1.0, i) / scale);
      c[i] = Math.round(Math.scalb(t / (1 + t), 63));
    }
    return c;
  }

  /** Bits drawn for {@code samples} draws at {@code scale}, checked against one batch's limit. */
  private static int elements(int samples, double scale) {
    int bits = bits(scale);
    if (samples < 1) {
      throw new IllegalArgumentException("the number of samples of discrete Laplace noise must be "
          + ">= 1, was " + samples);
    }
    long m = 2L * bits * samples;
    long most = Need.MAX_ELEMENTS / (3L * BitConversion.SIGN_GATES) * 64 / (2L * bits);
    if (m > Integer.MAX_VALUE || 3L * BitConversion.SIGN_GATES * BitSlice.blocks((int) m)
        > Need.MAX_ELEMENTS) {
      throw new IllegalArgumentException("the number of samples " + samples + " of discrete "
          + "Laplace noise at scale " + scale + " is more than one batch of correlated material "
          + "holds (" + most + "): split the draws");
    }
    return (int) m;
  }

  private static void checkSeed(byte[] ownSeed) {
    if (ownSeed == null || ownSeed.length != SEED_BYTES) {
      throw new IllegalArgumentException("the own seed of discrete Laplace noise must be "
          + SEED_BYTES + " bytes, was " + (ownSeed == null ? "null" : ownSeed.length + " bytes"));
    }
  }
}
