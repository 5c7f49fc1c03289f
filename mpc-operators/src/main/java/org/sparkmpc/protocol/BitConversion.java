package org.sparkmpc.protocol;

import java.util.List;
import org.sparkmpc.correlation.BitTriples;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.DaBits;
import org.sparkmpc.correlation.EdaBits;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.ring.BitSlice;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.share.Reveal;

/**
 * Conversions between arithmetic shares in Z(2^64) and XOR-shared bits, the building blocks of the
 * comparison kernels.
 *
 * <p>{@link #toArithmetic} (boolean to arithmetic, with daBits): for XOR-shared bits {@code v} and
 * a daBit {@code b} the parties open {@code e = v ^ b} and set {@code v = e + b - 2eb}, i.e.
 * {@code b} where {@code e = 0} and {@code 1 - b} where {@code e = 1}. Rounds: 1. Bytes per
 * element: 1/8 (one packed bit) to each other party. Reveals {@code e}, uniform since {@code b} is.
 *
 * <p>{@link #signBits} and {@link #zeroBits} (arithmetic to boolean, with edaBits): the parties
 * open {@code c = x + r} (uniform, since {@code r} is) and evaluate a boolean circuit on the public
 * {@code c} and the XOR-shared bits of {@code r}, bit-sliced ({@link BitSlice}) so that the gates
 * of a level are packed across 64 elements per word:
 * <ul>
 *   <li>sign: {@code x = c + ~r + 1}, so bit 63 of {@code x} is {@code c63 ^ ~r63} XOR the carry
 *       into bit 63 of that sum. The carry is a generate/propagate tree over bits 0..62 (the
 *       {@code +1} folded into bit 0's generate): {@value #SIGN_LEVELS} levels,
 *       {@value #SIGN_GATES} AND gates per element (the lowest group never needs its propagate);
 *   <li>zero: {@code x = 0} exactly when {@code c ^ r} is all zeros: an AND tree over the 64 bits of
 *       {@code ~(c ^ r)}, {@value #ZERO_LEVELS} levels, {@value #ZERO_GATES} gates per element.
 * </ul>
 * Rounds: 1 + 6. Bytes per element to each other party: 8 (the opening) + 2·gates/8 (29.5 for the
 * sign, 15.75 for zero). Reveals only {@code c} and the Beaver-masked gate inputs, all uniform.
 *
 * <p>{@link #signOfSum} is the sign circuit alone, on a public {@code c} and XOR-shared bits that
 * the parties already hold (no opening, no edaBits): 6 rounds, 29.5 bytes per element.
 * {@link DiscreteLaplace} draws biased bits with it.
 */
public final class BitConversion {
  /** AND levels of the sign circuit. */
  public static final int SIGN_LEVELS = 6;
  /** AND gates per element of the sign circuit. */
  public static final int SIGN_GATES = 118;
  /** AND levels of the zero test. */
  public static final int ZERO_LEVELS = 6;
  /** AND gates per element of the zero test. */
  public static final int ZERO_GATES = 63;
  /** Rounds of {@link #toArithmetic}. */
  public static final int B2A_ROUNDS = 1;
  /** Rounds of {@link #signBits} and {@link #zeroBits}: the opening and the AND levels. */
  public static final int A2B_ROUNDS = 1 + SIGN_LEVELS;

  private BitConversion() {}

  /**
   * The daBits {@link #toArithmetic} consumes for {@code n} bits: one batch on stream
   * {@code stream}.
   */
  public static List<Need> toArithmeticNeeds(int partition, int stream, int n) {
    return List.of(Need.daBits(partition, stream, n));
  }

  /**
   * Arithmetic shares of {@code n} XOR-shared bits {@code v} (packed: bit {@code i % 64} of word
   * {@code i / 64}), using daBits of (operator, partition, stream). One round under
   * (operator, partition, round).
   */
  public static long[] toArithmetic(MpcContext ctx, CorrelationSource source, long operator,
      int partition, int round, int stream, long[] v, int n) {
    checkCount(n);
    int words = BitSlice.blocks(n);
    if (v.length < words) {
      throw new IllegalArgumentException(n + " packed bits need " + words + " words, got "
          + v.length);
    }
    DaBits d = source.daBits(operator, partition, stream, n);
    if (d.size() != n) {
      throw new IllegalStateException("the correlation source returned " + d.size()
          + " daBits for " + n + " bits");
    }
    if (n == 0) {
      return new long[0];
    }
    long[] e = new long[words];
    long[] db = d.bits();
    for (int w = 0; w < words; w++) {
      e[w] = v[w] ^ db[w];
    }
    e[words - 1] &= BitSlice.tailMask(n);
    e = BooleanGates.open(ctx, operator, partition, round, e, words);
    long[] b = d.arith();
    long one = ctx.self() == 0 ? 1 : 0;
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      long bit = (e[i >>> 6] >>> (i & 63)) & 1;
      out[i] = b[i] + bit * (one - 2 * b[i]);
    }
    return out;
  }

  /** Words of boolean triples {@link #signBits} uses for {@code n} elements. */
  public static int signTripleWords(int n) {
    return SIGN_GATES * BitSlice.blocks(n);
  }

  /** Words of boolean triples {@link #zeroBits} uses for {@code n} elements. */
  public static int zeroTripleWords(int n) {
    return ZERO_GATES * BitSlice.blocks(n);
  }

  /**
   * XOR shares of the sign bits of {@code x} (bit 63, i.e. {@code [x < 0]} in two's complement),
   * packed (bit {@code i % 64} of word {@code i / 64}). Uses edaBits of {@code streams.stream(0)}
   * and {@link #signTripleWords} boolean triple words of {@code streams.stream(1)};
   * {@value #A2B_ROUNDS} rounds from {@code rounds.round(first)}.
   */
  public static long[] signBits(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, int first, StreamRange streams, long[] x) {
    int n = x.length;
    if (n == 0) {
      return new long[0];
    }
    int nb = BitSlice.blocks(n);
    long[][] opened = openMasked(ctx, source, operator, partition, rounds.round(first),
        streams.stream(0), x);
    BitTriples t = triples(source, operator, partition, streams.stream(1), signTripleWords(n));
    long flip = ctx.self() == 0 ? -1L : 0L;
    // x = c + ~r + 1: party 0 holds the NOT of its share of r, and the +1 is the carry into bit 0.
    return sumBit63(ctx, operator, partition, rounds, first + 1, t, opened[0], opened[1], flip,
        true, nb);
  }

  /**
   * XOR shares of bit 63 of {@code c[i] + r[i]} (mod 2^64) for public {@code c} and XOR-shared
   * {@code r} (this party's share words), packed as {@link #signBits}: the carry circuit of
   * {@link #signBits} on a public and a shared addend, without an opening and so without edaBits.
   * For {@code c, r < 2^63} the sum cannot wrap and the bit is {@code [c + r >= 2^63]}.
   * Uses {@link #signTripleWords} boolean triple words of {@code stream}; {@value #SIGN_LEVELS}
   * rounds from {@code rounds.round(first)}, {@code 2 * SIGN_GATES / 8} bytes per element to each
   * other party. Reveals only Beaver-masked gate inputs, uniform.
   */
  public static long[] signOfSum(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, int first, int stream, long[] c, long[] r) {
    int n = c.length;
    if (r.length != n) {
      throw new IllegalArgumentException("the addends have different lengths: " + n + " and "
          + r.length);
    }
    if (n == 0) {
      return new long[0];
    }
    BitTriples t = triples(source, operator, partition, stream, signTripleWords(n));
    return sumBit63(ctx, operator, partition, rounds, first, t, BitSlice.toPlanes(c, n),
        BitSlice.toPlanes(r, n), 0L, false, BitSlice.blocks(n));
  }

  /**
   * XOR shares of bit 63 of {@code c + y (+ 1 when carryIn)} on planes ({@code nb} words each):
   * {@code c} public, {@code y} XOR-shared with this party's share planes {@code r ^ yFlip}. The
   * carry into bit 63 is a generate/propagate tree over bits 0..62, {@value #SIGN_LEVELS} rounds
   * from {@code rounds.round(firstRound)}.
   */
  private static long[] sumBit63(MpcContext ctx, long operator, int partition, RoundRange rounds,
      int firstRound, BitTriples t, long[] c, long[] r, long yFlip, boolean carryIn, int nb) {
    long flip = ctx.self() == 0 ? -1L : 0L;
    // generate g = c & y, propagate p = c ^ y (party 0 XORs the public c), for bits 0..62
    long[][] g = new long[63][];
    long[][] p = new long[63][];
    for (int j = 0; j < 63; j++) {
      long[] gj = new long[nb];
      long[] pj = new long[nb];
      int at = j * nb;
      for (int b = 0; b < nb; b++) {
        long cj = c[at + b];
        long yj = r[at + b] ^ yFlip;
        if (j == 0 && carryIn) {
          gj[b] = (yj & ~cj) ^ (cj & flip); // c0 | y0, the carry out of c0 + y0 + 1
        } else {
          gj[b] = cj & yj;
          pj[b] = yj ^ (cj & flip);
        }
      }
      g[j] = gj;
      p[j] = pj;
    }
    long[] carry = carryTree(ctx, operator, partition, rounds, firstRound, t, g, p, nb);
    long[] out = new long[nb];
    int at = 63 * nb;
    for (int b = 0; b < nb; b++) {
      out[b] = carry[b] ^ r[at + b] ^ yFlip ^ (c[at + b] & flip);
    }
    return out;
  }

  /**
   * XOR shares of {@code [x == 0]}, packed as {@link #signBits}. Uses edaBits of
   * {@code streams.stream(0)} and {@link #zeroTripleWords} boolean triple words of
   * {@code streams.stream(1)}; {@value #A2B_ROUNDS} rounds from {@code rounds.round(first)}.
   */
  public static long[] zeroBits(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, int first, StreamRange streams, long[] x) {
    int n = x.length;
    if (n == 0) {
      return new long[0];
    }
    int nb = BitSlice.blocks(n);
    long[][] opened = openMasked(ctx, source, operator, partition, rounds.round(first),
        streams.stream(0), x);
    BitTriples t = triples(source, operator, partition, streams.stream(1), zeroTripleWords(n));
    long[] c = opened[0];
    long[] r = opened[1];
    long flip = ctx.self() == 0 ? -1L : 0L;
    long[][] w = new long[64][];
    for (int j = 0; j < 64; j++) {
      long[] wj = new long[nb];
      int at = j * nb;
      for (int b = 0; b < nb; b++) {
        wj[b] = r[at + b] ^ (~c[at + b] & flip); // ~(c ^ r): all ones exactly when x == 0
      }
      w[j] = wj;
    }
    int off = 0;
    for (int level = 0, m = 64; m > 1; level++, m >>>= 1) {
      int pairs = m >>> 1;
      long[][] xs = new long[pairs][];
      long[][] ys = new long[pairs][];
      for (int i = 0; i < pairs; i++) {
        xs[i] = w[2 * i];
        ys[i] = w[2 * i + 1];
      }
      long[][] z = BooleanGates.and(ctx, operator, partition, rounds.round(first + 1 + level), t,
          off, xs, ys, pairs, nb);
      off += pairs * nb;
      System.arraycopy(z, 0, w, 0, pairs);
    }
    return w[0];
  }

  /**
   * Open {@code c = x + r} with the edaBits of {@code stream}; returns the planes of {@code c}
   * (public) and of this party's XOR shares of {@code r}.
   */
  private static long[][] openMasked(MpcContext ctx, CorrelationSource source, long operator,
      int partition, int round, int stream, long[] x) {
    int n = x.length;
    EdaBits e = source.edaBits(operator, partition, stream, n);
    if (e.size() != n) {
      throw new IllegalStateException("the correlation source returned " + e.size()
          + " edaBits for " + n + " elements");
    }
    long[] r = e.r();
    long[] masked = new long[n];
    for (int i = 0; i < n; i++) {
      masked[i] = x[i] + r[i];
    }
    long[] c = Reveal.toAll(ctx, operator, partition, round, masked, n);
    return new long[][] {BitSlice.toPlanes(c, n), BitSlice.toPlanes(e.bits(), n)};
  }

  private static BitTriples triples(CorrelationSource source, long operator, int partition,
      int stream, int words) {
    BitTriples t = source.bitTriples(operator, partition, stream, words);
    if (t.size() != words) {
      throw new IllegalStateException("the correlation source returned " + t.size()
          + " boolean triple words for " + words);
    }
    return t;
  }

  /**
   * The carry out of the groups {@code g[0..m)}, {@code p[0..m)} (each {@code nb} plane words)
   * combined by a balanced tree: {@code G = G_hi ^ (P_hi & G_lo)}, {@code P = P_hi & P_lo}, all
   * AND gates of a level in one round. The lowest group's propagate is never needed.
   */
  private static long[] carryTree(MpcContext ctx, long operator, int partition,
      RoundRange rounds, int firstRound, BitTriples t, long[][] g, long[][] p, int nb) {
    int m = g.length;
    int off = 0;
    for (int level = 0; m > 1; level++) {
      int pairs = m >>> 1;
      int gates = 2 * pairs - 1;
      long[][] xs = new long[gates][];
      long[][] ys = new long[gates][];
      for (int i = 0, k = 0; i < pairs; i++) {
        xs[k] = p[2 * i + 1];
        ys[k++] = g[2 * i];
        if (i > 0) {
          xs[k] = p[2 * i + 1];
          ys[k++] = p[2 * i];
        }
      }
      long[][] z = BooleanGates.and(ctx, operator, partition, rounds.round(firstRound + level), t,
          off, xs, ys, gates, nb);
      off += gates * nb;
      for (int i = 0, k = 0; i < pairs; i++) {
        long[] hiG = g[2 * i + 1];
        long[] ng = z[k++]; // G = G_hi ^ (P_hi & G_lo), in place over the AND's output
        for (int b = 0; b < nb; b++) {
          ng[b] ^= hiG[b];
        }
        g[i] = ng;
        p[i] = i > 0 ? z[k++] : null;
      }
      if ((m & 1) == 1) {
        g[pairs] = g[m - 1];
        p[pairs] = p[m - 1];
      }
      m = pairs + (m & 1);
    }
    return g[0];
  }

  static void checkCount(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("the number of elements must be >= 0, was " + n);
    }
  }
}
