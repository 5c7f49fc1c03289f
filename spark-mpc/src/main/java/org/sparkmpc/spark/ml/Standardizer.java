package org.sparkmpc.spark.ml;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.protocol.VectorEngine;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.table.SecureTable;

/**
 * Standardisation of secure feature columns inside MPC, as Spark ML's {@code standardization}:
 * every party ends with shares of each column's mean and inverse standard deviation, none of which
 * is opened, and per partition turns its shares of raw values into shares of
 * {@code z = (x - mean) / sd}. Models are fitted on {@code z} and their coefficients brought back
 * to the original scale before they are opened, so raw data as users have it (values from
 * fractions to millions) gives the same model as standardised data.
 *
 * <p><b>Fixed point.</b> Column {@code i}'s public bound {@code |x| < 2^B_i} (at the session's
 * scale) first maps it to the unit interval: {@code x̂ = x · 2^(U - B_i)}, at {@code U} fractional
 * bits ({@code U = min(24, (59 - log2 n) / 2)}, so sums of squares over the {@code n} rows cannot
 * wrap). The mean and the spread are of {@code x̂}; the original units come back through the
 * public factors {@code 2^(f - B_i)}. A column whose sum over the rows could pass 2^63 is refused
 * before any share moves, naming it; a column whose standard deviation is below
 * {@code 2^-(U-4)} of its bound (a constant or ID-like column) is refused after the spread is
 * computed: that one bit per column is opened.
 *
 * <p><b>Protocol.</b> (1) Each party sums its shares of each column (no communication); the
 * driver scales the sums by the public {@code 2^(U-B_i)/n} (products with public constants and
 * truncations: a few rounds of {@code 8d} bytes). (2) One deep stage: {@code x̂} (one truncation
 * round, 8 bytes per value), {@code Σ (x̂ - mean)²} (one Beaver round, 16 bytes per value). (3) On
 * the driver: the variance, {@code U - 3} comparisons per column with powers of four (one batched
 * comparison) that place it in an octave {@code [4^-(j+1), 4^-j)}, its mantissa, four Newton steps
 * of {@code 1/sqrt} on the mantissa in {@code [1, 4)}, times {@code 2^(j+1)}: about 45 rounds of
 * at most {@code 8dU} bytes, and the octave form of the spread ({@link Octaves}, one truncation
 * more, for models that return to the original scale through the label's spread). {@link #apply}
 * per partition: 3 rounds (truncation, product, truncation), 32 bytes per value. Reveals: whether each
 * column's spread is below the threshold.
 */
final class Standardizer implements Serializable {
  private static final long serialVersionUID = 1L;
  /** Fractional bits of the inverse standard deviations. */
  static final int INV = 20;
  private static final int NEWTON_STEPS = 4;

  final String[] names;
  final int[] bound;
  final int unit;
  final int top;
  final int scale;
  /** This party's shares of the means of {@code x̂}, at {@link #unit} bits. */
  final long[] mean;
  /** This party's shares of {@code 1 / sd(x̂)}, at {@link #INV} bits. */
  final long[] inv;
  /** This party's shares of the spreads in octave form (a fitted standardizer only). */
  final Octaves octaves;

  /**
   * Each column's spread as a mantissa and a power of two, shared: {@code sd(x̂) = root · 2^-k}
   * and {@code 1/sd(x̂) = invRoot · 2^k} (so {@code inv = invRoot · pow} exactly), with
   * {@code root} in [1, 2) and {@code invRoot} in (1/2, 1] at {@link #INV} bits, {@code pow = 2^k}
   * and {@code invPow = 2^(bits - k)} integers, {@code 0 <= k <= bits}. A secret power of two is
   * then a product with an integer, exact, so a model can divide by one column's spread and
   * multiply by another's without a fixed scale that has to hold both extremes.
   */
  record Octaves(long[] root, long[] invRoot, long[] pow, long[] invPow, int bits)
      implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  private Standardizer(String[] names, int[] bound, int unit, int scale, long[] mean,
      long[] inv, Octaves octaves) {
    this.names = names;
    this.bound = bound;
    this.unit = unit;
    this.top = Arrays.stream(bound).max().orElse(0);
    this.scale = scale;
    this.mean = mean;
    this.inv = inv;
    this.octaves = octaves;
  }

  /** Bits of {@code n}: {@code ceil(log2(n + 1))}. */
  static int rowBits(long n) {
    return 64 - Long.numberOfLeadingZeros(n);
  }

  /** The unit-interval precision {@code U} for {@code n} rows. */
  static int unitBits(long n) {
    return Math.min(24, (59 - rowBits(n)) / 2);
  }

  /**
   * Refuse, before any share moves, columns whose sums over {@code n} rows could pass 2^63.
   *
   * @param bound {@code B_i}: {@code |x| < 2^B_i} at the session's scale
   */
  static void checkBounds(String caller, String[] names, int[] bound, long n, int scale) {
    int l = rowBits(n);
    for (int i = 0; i < names.length; i++) {
      if (bound[i] + l > 62) {
        throw new MpcInputException(caller + ": column '" + names[i] + "' has values up to 2^"
            + (bound[i] - scale) + " (2^" + bound[i] + " at the session's scale 2^" + scale
            + "), whose sum over " + n + " rows could pass 2^63 and wrap; rescale the column "
            + "(e.g. thousands instead of units) or lower spark.mpc.fixedPoint.scaleBits");
      }
    }
  }

  /**
   * Fit on the named secure columns of {@code t} (share indices {@code index}, shifted left by
   * {@code up} to the session's scale, with bounds {@code bound}). Every party calls it alike.
   */
  static Standardizer fit(MpcRuntime rt, SecureTable t, String caller, String[] names,
      int[] index, int[] up, int[] bound, String description) {
    long n = t.rows();
    int f = rt.defaultScaleBits();
    checkBounds(caller, names, bound, n, f);
    int d = names.length;
    int u = unitBits(n);
    int l = rowBits(n);
    // (1) local sums of the shares, one Spark job without communication
    List<long[]> parts = t.partitions().map(p -> {
      long[][] cols = EngineRuns.columns(p, index, up);
      long[] s = new long[cols.length];
      for (int c = 0; c < cols.length; c++) {
        for (long v : cols[c]) {
          s[c] += v;
        }
      }
      return s;
    }).collect();
    long[] sums = new long[d];
    for (long[] p : parts) {
      for (int c = 0; c < d; c++) {
        sums[c] += p[c];
      }
    }
    String what = caller + " standardise " + Arrays.toString(names) + " " + description;
    long[] mean = EngineRuns.onDriver(rt, "Standardize.mean", what,
        e -> means(e, sums, bound, u, l, n));
    Standardizer pre = new Standardizer(names, bound, u, f, mean, null, null);
    // (2) sums of squared deviations, one deep stage
    List<long[]> sq = EngineRuns.onPartitions(rt, t, "Standardize.spread", what, index, up,
        (e, cols) -> pre.squaredDeviations(e, cols));
    long[] s2 = new long[d];
    for (long[] p : sq) {
      for (int c = 0; p != null && c < d; c++) {
        s2[c] += p[c];
      }
    }
    // (3) inverse standard deviations on the driver
    Spread spread = EngineRuns.onDriver(rt, "Standardize.scale", what,
        e -> inverseSd(e, s2, u, l, n, names, caller));
    return new Standardizer(names, bound, u, f, mean, spread.inv(), spread.octaves());
  }

  /**
   * No standardisation ({@code standardization = false}): mean 0 and scale 1, so the model is fitted
   * on {@code x̂} (each column divided by its public bound only).
   */
  static Standardizer unscaled(int self, String caller, String[] names, int[] bound, long n,
      int scale) {
    checkBounds(caller, names, bound, n, scale);
    long[] inv = new long[names.length];
    if (self == 0) {
      Arrays.fill(inv, 1L << INV);
    }
    return new Standardizer(names, bound, unitBits(n), scale, new long[names.length], inv, null);
  }

  /** The public shape only (a loaded model's): no shares of means or spreads. */
  static Standardizer shape(String[] names, int[] bound, int unit, int scale) {
    return new Standardizer(names, bound, unit, scale, null, null, null);
  }

  /** Shares of the means of {@code x̂} at {@code u} bits from the sums at the session's scale. */
  private static long[] means(VectorEngine e, long[] sums, int[] bound, int u, int l, long n) {
    int d = sums.length;
    long[] mean = new long[d];
    // the sum of column i is below n·2^B_i; after a shift by sh it is multiplied by the public
    // 2^(36 + sh - B_i + u) / n (at least 2^16) and truncated by 36
    int[] shift = new int[d];
    for (int i = 0; i < d; i++) {
      shift[i] = Math.max(0, bound[i] - u + l - 20);
    }
    for (int sh : Arrays.stream(shift).distinct().sorted().toArray()) {
      int[] at = java.util.stream.IntStream.range(0, d).filter(i -> shift[i] == sh).toArray();
      long[] v = new long[at.length];
      for (int k = 0; k < at.length; k++) {
        v[k] = sums[at[k]];
      }
      e.truncate(v, sh);
      for (int k = 0; k < at.length; k++) {
        int i = at[k];
        long mu = Math.round(Math.scalb(1.0, 36 + sh - bound[i] + u) / n);
        v[k] *= mu;
      }
      e.truncate(v, 36);
      for (int k = 0; k < at.length; k++) {
        mean[at[k]] = v[k];
      }
    }
    return mean;
  }

  /** {@code x̂ = x · 2^(U - B_i)} for every column: one truncation round (none if U >= top). */
  long[][] toUnit(VectorEngine e, long[][] x) {
    int d = x.length;
    int rows = d == 0 ? 0 : x[0].length;
    long[] flat = new long[d * rows];
    int m = Math.max(top, unit);
    for (int c = 0; c < d; c++) {
      int sh = m - bound[c];
      for (int i = 0; i < rows; i++) {
        flat[c * rows + i] = x[c][i] << sh;
      }
    }
    e.truncate(flat, m - unit);
    long[][] out = new long[d][];
    for (int c = 0; c < d; c++) {
      out[c] = Arrays.copyOfRange(flat, c * rows, (c + 1) * rows);
    }
    return out;
  }

  /** One partition's sums of {@code (x̂ - mean)²} per column, at {@code 2U} bits. */
  long[] squaredDeviations(VectorEngine e, long[][] x) {
    long[][] xh = toUnit(e, x);
    int d = xh.length;
    int rows = xh[0].length;
    long[] c = new long[d * rows];
    for (int j = 0; j < d; j++) {
      long m = mean[j];
      for (int i = 0; i < rows; i++) {
        c[j * rows + i] = xh[j][i] - m;
      }
    }
    long[] sq = e.mul(c, c);
    long[] out = new long[d];
    for (int j = 0; j < d; j++) {
      long s = 0;
      for (int i = j * rows; i < (j + 1) * rows; i++) {
        s += sq[i];
      }
      out[j] = s;
    }
    return out;
  }

  /** Shares of {@code 1/sd} at {@link #INV} bits and of its octave form. */
  private record Spread(long[] inv, Octaves octaves) {}

  /** The inverse spreads from the sums of squared deviations. */
  private static Spread inverseSd(VectorEngine e, long[] s2, int u, int l, long n, String[] names,
      String caller) {
    int d = s2.length;
    // variance at 2U bits: below 4, so the sums stay below n·2^(2U+2) < 2^61
    int k2 = 58 - 2 * u;
    // the sample variance (n - 1), as Spark ML's summarizer
    long mu = Math.round(Math.scalb(1.0, k2 + l) / (n - 1));
    long[] var = e.truncate(s2.clone(), l);
    for (int i = 0; i < d; i++) {
      var[i] *= mu;
    }
    e.truncate(var, k2);
    int octaves = u - 4;
    // e_j = [var < 4^-j] for j = 0..octaves
    long[] diff = new long[d * (octaves + 1)];
    for (int j = 0; j <= octaves; j++) {
      long t = e.constant(1L << (2 * u - 2 * j));
      for (int i = 0; i < d; i++) {
        diff[j * d + i] = var[i] - t;
      }
    }
    long[] lt = e.ltz(diff);
    long[] tiny = e.open(Arrays.copyOfRange(lt, octaves * d, (octaves + 1) * d));
    for (int i = 0; i < d; i++) {
      if (tiny[i] != 0) {
        throw new MpcInputException(caller + ": column '" + names[i] + "' has (almost) no "
            + "spread: its standard deviation is below 2^-" + octaves + " of its largest "
            + "magnitude (a constant or identifier-like column); drop it, or subtract a typical "
            + "value before sharing it");
      }
    }
    // octave h_j (var in [4^-(j+1), 4^-j)), j = -1..octaves-1: P = Σ h_j 4^(j+1),
    // Q = Σ h_j 2^(j+1), R = Σ h_j 2^(octaves-j-1)
    long[] p = new long[d];
    long[] q = new long[d];
    long[] r = new long[d];
    for (int i = 0; i < d; i++) {
      long prev = e.constant(1) - lt[i]; // h_-1 = 1 - e_0
      p[i] += prev;
      q[i] += prev;
      r[i] += prev << octaves;
      for (int j = 0; j < octaves; j++) {
        long h = lt[j * d + i] - lt[(j + 1) * d + i];
        p[i] += h << (2 * (j + 1));
        q[i] += h << (j + 1);
        r[i] += h << (octaves - j - 1);
      }
    }
    long[] a = e.truncate(e.mul(var, p), 2 * u - INV); // mantissa in [1, 4) at INV bits
    long one = 1L << INV;
    long[] y = e.truncate(mulPublic(a, Math.round(0.2 * one)), INV);
    for (int i = 0; i < d; i++) {
      y[i] = e.constant(Math.round(1.2 * one)) - y[i];
    }
    for (int it = 0; it < NEWTON_STEPS; it++) {
      long[] y2 = e.mulTrunc(y, y, INV);
      long[] ay2 = e.mulTrunc(a, y2, INV);
      for (int i = 0; i < d; i++) {
        ay2[i] = e.constant(3 * one) - ay2[i];
      }
      y = e.mulTrunc(y, ay2, INV + 1);
    }
    // in one round: 1/sd = y·q and the mantissa of sd, a·y
    long[] both = new long[2 * d];
    long[] by = new long[2 * d];
    System.arraycopy(y, 0, both, 0, d);
    System.arraycopy(q, 0, by, 0, d);
    System.arraycopy(a, 0, both, d, d);
    System.arraycopy(y, 0, by, d, d);
    long[] prod = e.mul(both, by);
    long[] root = e.truncate(Arrays.copyOfRange(prod, d, 2 * d), INV);
    return new Spread(Arrays.copyOf(prod, d), new Octaves(root, y, q, r, octaves));
  }

  private static long[] mulPublic(long[] x, long c) {
    long[] out = new long[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i] * c;
    }
    return out;
  }

  /**
   * Shares of the standardised columns {@code (x̂ - mean)/sd} at the session's scale: 3 rounds.
   */
  long[][] apply(VectorEngine e, long[][] x) {
    long[][] xh = toUnit(e, x);
    int d = xh.length;
    int rows = xh[0].length;
    long[] c = new long[d * rows];
    long[] s = new long[d * rows];
    for (int j = 0; j < d; j++) {
      for (int i = 0; i < rows; i++) {
        c[j * rows + i] = xh[j][i] - mean[j];
      }
      Arrays.fill(s, j * rows, (j + 1) * rows, inv[j]);
    }
    long[] z = e.mulTrunc(c, s, unit + INV - scale);
    long[][] out = new long[d][];
    for (int j = 0; j < d; j++) {
      out[j] = Arrays.copyOfRange(z, j * rows, (j + 1) * rows);
    }
    return out;
  }
}
