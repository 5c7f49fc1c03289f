package org.sparkmpc.spark.ml;

import java.io.Serializable;
import java.util.Arrays;
import org.sparkmpc.protocol.SecureLinearSolve;
import org.sparkmpc.protocol.VectorEngine;

/**
 * The algorithms of secure linear regression on standardised columns, written once against
 * {@link VectorEngine}: the per-partition Gram, the return to the original scale on the driver and
 * the per-partition prediction. The features and the label are standardised alike
 * ({@link Standardizer}, label last), so the solve sees a correlation matrix, well conditioned
 * whatever the units of the raw columns.
 *
 * <p><b>Gram</b> (per partition, {@code r} rows, {@code m = d + 1} columns): standardise (3 rounds,
 * 32 bytes per value) and {@code ZᵀZ} ({@link VectorEngine#gram}: one round, a Gram triple and
 * {@code 8m} bytes per row with the dealer, {@code 8m(m+1)} bytes per row without), and the column
 * sums (local). Nothing is opened.
 *
 * <p><b>Convergence</b> (driver): {@link #converged} opens one bit, whether the solve's inverse
 * converged; a system whose condition number is beyond what {@code maxCondition} allows, (nearly)
 * collinear features, is refused instead of returning a silently inaccurate model.
 *
 * <p><b>Original scale</b> (driver, 10 rounds of at most {@code 16(2d+1)} bytes): with
 * {@code x̂ = x·2^(f-B_j)} and {@code ŷ = y·2^(f-B_y)} the unit-interval values, {@code mean} and
 * {@code sd} their means and spreads and {@code β} the standardised solution, the model on
 * {@code x̂} is {@code γ_j = β_j · sd_y / sd_j} and {@code c = mean_y + sd_y·β_0 - Σ γ_j mean_j}.
 * The spreads enter in {@link Standardizer.Octaves} form: a mantissa product at 20 bits, then the
 * secret powers of two {@code 2^-k_y} and {@code 2^k_j} as products with integers, exact, so a
 * column whose spread is a millionth of its bound costs no precision. {@code |γ_j| < 2^30} and
 * {@code |c| < 2^30} (always, for {@code |β_j| < 2^10}: any system with a condition number below
 * 10^6). On the original scale {@code w_j = γ_j · 2^(B_y - B_j)} and the intercept is
 * {@code c · 2^(B_y - f)}: public powers of two applied after opening.
 *
 * <p><b>Predict</b> (per partition): {@code x̂} (one truncation round), {@code c + Σ γ_j x̂_j}
 * (one matrix product, {@code 8(d + 1)} bytes per row) and one truncation to the label's encoding:
 * 3 rounds, about {@code 8d + 24} bytes per row. The result is secret-shared at the session's
 * scale, like the label; it is right while {@code |prediction| < 2^13} times the label's bound.
 */
final class LinearSteps {
  /** Fractional bits of the opened model {@code [γ_1..γ_d, c]}. */
  static final int OPEN = 32;
  /** Fractional bits of the shares of the model kept for predictions. */
  static final int KEEP = 24;
  /** The solve converged when {@code ||I - C·X||² < 2^-16} ({@code 2^24} at 40 bits). */
  static final long CONVERGED = 1L << 24;

  private LinearSteps() {}

  /**
   * One partition's shares of {@code ZᵀZ} (m×m, row-major) then of the m column sums, for the
   * standardised columns {@code Z} (features, then the label), at twice the session's scale.
   */
  record Gram(Standardizer std) implements EngineRuns.PartitionAlgorithm<long[]> {
    private static final long serialVersionUID = 1L;

    @Override
    public long[] run(VectorEngine e, long[][] cols) {
      long[][] z = std.apply(e, cols);
      int m = z.length;
      long[] out = Arrays.copyOf(e.gram(z), m * m + m);
      for (int c = 0; c < m; c++) {
        long s = 0;
        for (long v : z[c]) {
          s += v;
        }
        out[m * m + c] = s;
      }
      return out;
    }
  }

  /**
   * Whether the solve converged: its measure {@code ||I - C·X||²} (at 40 bits, {@link
   * SecureLinearSolve#solveChecked}) lies in {@code [0, 2^-16)}. Two comparisons in one batch and
   * one opening of a single bit, the only thing revealed ({@code true} when counting).
   */
  static boolean converged(VectorEngine e, long measure) {
    long[] lt = e.ltz(new long[] {measure - e.constant(CONVERGED), measure});
    long[] bad = e.open(new long[] {e.constant(1) - lt[0] + lt[1]});
    return bad[0] == 0;
  }

  /**
   * The model on the unit-interval values from shares of the standardised solution
   * {@code beta = [β_1..β_d, β_0]} at {@link SecureLinearSolve#SCALE} bits: shares of
   * {@code [γ_1..γ_d, c]} at {@link #OPEN} bits (to open) and at {@link #KEEP} bits (to predict).
   *
   * @param std the standardizer of the features and the label (last), fitted
   */
  static long[][] originalScale(VectorEngine e, long[] beta, Standardizer std) {
    Standardizer.Octaves o = std.octaves;
    int d = std.names.length - 1;
    int s = SecureLinearSolve.SCALE;
    // u_j = invRoot_j · root_y, in (1/2, 2) at INV bits
    long[] rootY = new long[d];
    Arrays.fill(rootY, o.root()[d]);
    long[] u = e.mulTrunc(Arrays.copyOf(o.invRoot(), d), rootY, Standardizer.INV);
    // M = [β_j · u_j, β_0 · root_y] at s bits
    long[] uu = Arrays.copyOf(u, d + 1);
    uu[d] = o.root()[d];
    long[] m = e.mulTrunc(Arrays.copyOf(beta, d + 1), uu, Standardizer.INV);
    // P_j = M_j · mean_j at s bits
    long[] p = e.mulTrunc(Arrays.copyOf(m, d), Arrays.copyOf(std.mean, d), std.unit);
    // V = [M_1..M_d, P_1..P_d, M_0] · 2^-k_y: a product with the integer 2^(bits - k_y)
    long[] v = new long[2 * d + 1];
    System.arraycopy(m, 0, v, 0, d);
    System.arraycopy(p, 0, v, d, d);
    v[2 * d] = m[d];
    long[] down = new long[v.length];
    Arrays.fill(down, o.invPow()[d]);
    v = e.mul(v, down);
    int at = s + o.bits();
    if (at > OPEN) {
      e.truncate(v, at - OPEN);
    } else {
      for (int i = 0; i < v.length; i++) {
        v[i] <<= OPEN - at;
      }
    }
    // times 2^k_j: γ_j and γ_j · mean_j at OPEN bits
    long[] up = new long[v.length];
    System.arraycopy(o.pow(), 0, up, 0, d);
    System.arraycopy(o.pow(), 0, up, d, d);
    up[2 * d] = e.constant(1);
    long[] g = e.mul(v, up);
    long[] open = new long[d + 1];
    System.arraycopy(g, 0, open, 0, d);
    long c = (std.mean[d] << (OPEN - std.unit)) + g[2 * d];
    for (int j = 0; j < d; j++) {
      c -= g[d + j];
    }
    open[d] = c;
    long[] keep = e.truncate(open.clone(), OPEN - KEEP);
    return new long[][] {open, keep};
  }

  /**
   * Per-partition prediction with the shares {@code model = [γ_1..γ_d, c]} at {@link #KEEP} bits:
   * shares of the prediction in the label's encoding (at the session's scale, where
   * {@code |y| < 2^labelBound} on the training rows).
   *
   * @param shape the features' public shape: bounds and unit precision
   */
  record Predict(Standardizer shape, long[] model, int labelBound) implements Serializable {
    private static final long serialVersionUID = 1L;

    long[] run(VectorEngine e, long[][] cols) {
      int d = cols.length;
      int rows = cols[0].length;
      long[][] xh = shape.toUnit(e, cols);
      long[] xr = new long[rows * d];
      for (int j = 0; j < d; j++) {
        for (int i = 0; i < rows; i++) {
          xr[i * d + j] = xh[j][i];
        }
      }
      long[] y = e.matmul(xr, Arrays.copyOf(model, d), rows, d, 1);
      for (int i = 0; i < rows; i++) {
        y[i] += model[d] << shape.unit;
      }
      // ŷ at KEEP + unit bits; the label's encoding y·2^scale is ŷ·2^labelBound
      int at = KEEP + shape.unit;
      if (at > labelBound) {
        e.truncate(y, at - labelBound);
      } else {
        for (int i = 0; i < rows; i++) {
          y[i] <<= labelBound - at;
        }
      }
      return y;
    }
  }
}
