package org.sparkmpc.spark.ml;

import java.io.Serializable;
import java.util.Arrays;
import org.sparkmpc.protocol.Sigmoid;
import org.sparkmpc.protocol.VectorEngine;

/**
 * The algorithms of secure logistic regression, written once against {@link VectorEngine}: the
 * per-partition pass of a Newton step, the Newton step on the driver, the return to the original
 * scale, and the per-partition prediction. Coefficients {@code β} are indexed intercept first,
 * over standardised features ({@link Standardizer}).
 *
 * <p><b>Pass</b> (per partition, {@code r} rows, {@code d} features): standardise (3 rounds),
 * {@code η = Zβ} (one matrix product, {@code 8(rd + d)} bytes; a truncation, {@code 8r}),
 * {@code p = σ(η)} ({@link Sigmoid}: {@value Sigmoid#ROUNDS} rounds, about 351 bytes per row),
 * {@code q = p(1-p)} and {@code V = q·Z} (2 products with truncations, {@code 24(d+1)} bytes per
 * row), and {@code Zᵀ[V | p - y]} (one matrix product, {@code 8(rd + r(d+1))} bytes): about
 * {@code 24 + 14} rounds and {@code 400 + 80d} bytes per row to each other party. Returns shares of
 * the partition's Hessian and gradient sums (nothing is opened).
 *
 * <p><b>Step</b> (driver, {@code k = d + 1}): the sums over {@code n}, the L2 term, the inverse
 * of the Hessian by Newton–Schulz iterations from {@code I / trace} (their number a public
 * function of {@code k} and the largest condition number allowed), {@code β ← β - H⁻¹g}: about
 * {@code 4·log2(15·k·maxCondition) + 40} rounds of at most {@code 16k²} bytes.
 */
final class LogisticSteps {
  /** Fractional bits of the driver's solve. */
  static final int F = 20;

  private LogisticSteps() {}

  /** The per-partition pass over features then label (label last in {@code cols}). */
  record Pass(Standardizer std, long[] beta, int scale) implements
      EngineRuns.PartitionAlgorithm<long[]> {
    private static final long serialVersionUID = 1L;

    @Override
    public long[] run(VectorEngine e, long[][] cols) {
      int d = cols.length - 1;
      int rows = cols[0].length;
      long[][] z = std.apply(e, Arrays.copyOf(cols, d));
      long[] y = cols[d];
      long[] p = probabilities(e, z, beta, scale);
      long one = 1L << scale;
      long[] omp = new long[rows];
      long[] r = new long[rows];
      for (int i = 0; i < rows; i++) {
        omp[i] = e.constant(one) - p[i];
        r[i] = p[i] - y[i];
      }
      long[] q = e.mulTrunc(p, omp, scale);
      long[] qs = new long[rows * d];
      long[] zf = new long[rows * d];
      for (int j = 0; j < d; j++) {
        System.arraycopy(q, 0, qs, j * rows, rows);
        System.arraycopy(z[j], 0, zf, j * rows, rows);
      }
      long[] v = e.mulTrunc(qs, zf, scale); // column-major: V_j = q·z_j
      long[] right = new long[rows * (d + 1)];
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < d; j++) {
          right[i * (d + 1) + j] = v[j * rows + i];
        }
        right[i * (d + 1) + d] = r[i];
      }
      long[] g = e.matmul(zf, right, d, rows, d + 1); // zf is Zᵀ, d×rows row-major
      long[] out = new long[d * (d + 1) + d + 2];
      System.arraycopy(g, 0, out, 0, g.length);
      int at = g.length;
      for (int j = 0; j < d; j++) {
        long s = 0;
        for (int i = j * rows; i < (j + 1) * rows; i++) {
          s += v[i];
        }
        out[at + j] = s;
      }
      long sr = 0;
      long sq = 0;
      for (int i = 0; i < rows; i++) {
        sr += r[i];
        sq += q[i];
      }
      out[at + d] = sr;
      out[at + d + 1] = sq;
      return out;
    }
  }

  /** Shares of {@code σ(β_0 + Σ β_j z_j)} at {@code scale} bits. */
  static long[] probabilities(VectorEngine e, long[][] z, long[] beta, int scale) {
    return Sigmoid.apply(e, logits(e, z, beta, scale), scale);
  }

  /** Shares of {@code β_0 + Σ β_j z_j} at {@code scale} bits, {@code z} at {@code scale}. */
  static long[] logits(VectorEngine e, long[][] z, long[] beta, int scale) {
    int d = z.length;
    int rows = z[0].length;
    long[] zr = new long[rows * d];
    for (int j = 0; j < d; j++) {
      long[] c = z[j];
      for (int i = 0; i < rows; i++) {
        zr[i * d + j] = c[i];
      }
    }
    long[] eta = e.truncate(e.matmul(zr, Arrays.copyOfRange(beta, 1, d + 1), rows, d, 1), scale);
    for (int i = 0; i < rows; i++) {
      eta[i] += beta[0];
    }
    return eta;
  }

  /**
   * One Newton step on the driver from the summed pass results: shares of the new {@code β} at
   * {@code scale} bits.
   */
  static long[] newtonStep(VectorEngine e, long[] sums, long[] beta, int d, long n, int scale,
      double[] regParam, double maxCondition) {
    int k = d + 1;
    int l = Standardizer.rowBits(n);
    // H and g at F bits: entries at 2·scale (the matrix product) or at scale (the sums)
    long[] wide = Arrays.copyOf(sums, d * (d + 1));
    long[] narrow = Arrays.copyOfRange(sums, d * (d + 1), sums.length);
    long[] all = new long[wide.length + narrow.length];
    System.arraycopy(perRow(e, wide, 2 * scale, l, n), 0, all, 0, wide.length);
    System.arraycopy(perRow(e, narrow, scale, l, n), 0, all, wide.length, narrow.length);
    long[] h = new long[k * k];
    long[] g = new long[k];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        h[(i + 1) * k + j + 1] = all[i * (d + 1) + j];
      }
      g[i + 1] = all[i * (d + 1) + d];
      long sv = all[d * (d + 1) + i];
      h[i + 1] = sv;
      h[(i + 1) * k] = sv;
    }
    g[0] = all[d * (d + 1) + d];
    h[0] = all[d * (d + 1) + d + 1];
    // L2: λ_j/2 · β_j² per feature (public λ_j), never on the intercept
    long[] lb = new long[d];
    for (int i = 0; i < d; i++) {
      long lam = Math.round(Math.scalb(regParam[i], F));
      h[(i + 1) * k + i + 1] += e.constant(lam);
      lb[i] = (beta[i + 1] << (F - scale)) * lam;
    }
    e.truncate(lb, F);
    for (int i = 0; i < d; i++) {
      g[i + 1] += lb[i];
    }
    long[] x = inverse(e, h, k, maxCondition);
    long[] step = e.truncate(e.matmul(x, g, k, k, 1), 2 * F - scale);
    long[] next = beta.clone();
    for (int i = 0; i < k; i++) {
      next[i] -= step[i];
    }
    return next;
  }

  /**
   * Mini-batch gradient descent on the driver over the standardised rows {@code z} (columns) and
   * labels {@code y} at {@code scale} bits: {@code epochs} passes over the rows in order, in batches
   * of {@code batch} (the last one smaller), each step {@code β ← β - stepSize·(∇ + λβ)} with the
   * batch's mean gradient. Per step: the logits (a matrix product), σ of them untruncated
   * ({@link org.sparkmpc.protocol.ProductSigmoid}: 10 rounds, its powers on {@code side} beside
   * the comparisons), the gradient (a matrix product) and the update (a truncation): 13 rounds of
   * about {@code 16·batch·(d+25)} bytes. Returns shares of β at {@code scale} bits.
   */
  static long[] miniBatch(VectorEngine e, VectorEngine side, java.util.concurrent.Executor helper,
      long[][] z, long[] y, int scale, int batch, int epochs, double stepSize,
      double[] regParam) {
    int d = z.length;
    int n = y.length;
    long[] beta = new long[d + 1];
    int k = 16;
    for (int ep = 0; ep < epochs; ep++) {
      for (int from = 0; from < n; from += batch) {
        int b = Math.min(batch, n - from);
        long[] zr = new long[b * d];
        long[] zt = new long[d * b];
        for (int j = 0; j < d; j++) {
          long[] c = z[j];
          for (int i = 0; i < b; i++) {
            zr[i * d + j] = c[from + i];
            zt[j * b + i] = c[from + i];
          }
        }
        // the logits at twice the scale, untruncated: the sigmoid compares them as they are
        long[] u = e.matmul(zr, Arrays.copyOfRange(beta, 1, d + 1), b, d, 1);
        for (int i = 0; i < b; i++) {
          u[i] += beta[0] << scale;
        }
        long[] p = org.sparkmpc.protocol.ProductSigmoid.apply(e, side, helper, u, scale, scale);
        long[] r = new long[b];
        long sr = 0;
        for (int i = 0; i < b; i++) {
          r[i] = p[i] - y[from + i];
          sr += r[i];
        }
        long[] g = e.matmul(zt, r, d, b, 1); // at 2·scale
        long c = Math.round(Math.scalb(stepSize / b, k));
        long[] delta = new long[d + 1];
        delta[0] = (sr << scale) * c;
        for (int j = 0; j < d; j++) {
          long c2 = Math.round(Math.scalb(stepSize * regParam[j], k));
          delta[j + 1] = g[j] * c + (beta[j + 1] << scale) * c2;
        }
        e.truncate(delta, scale + k);
        for (int j = 0; j <= d; j++) {
          beta[j] -= delta[j];
        }
      }
    }
    return beta;
  }

  /** The standardised features and the label of one partition, for mini-batch training. */
  record Rows(Standardizer std) implements EngineRuns.PartitionAlgorithm<long[][]> {
    private static final long serialVersionUID = 1L;

    @Override
    public long[][] run(VectorEngine e, long[][] cols) {
      int d = cols.length - 1;
      long[][] z = std.apply(e, Arrays.copyOf(cols, d));
      long[][] out = Arrays.copyOf(z, d + 1);
      out[d] = cols[d];
      return out;
    }
  }

  /**
   * Shares of {@code E / n} at {@link #F} bits for shares {@code E} at {@code s} bits (in place):
   * a truncation so that at most 20 + log2(n) bits remain above the point, a product with the
   * public {@code 2^(40 - s + shift) / n} (at least 2^20) and a truncation by 20. Two rounds.
   */
  static long[] perRow(VectorEngine e, long[] v, int s, int l, long n) {
    int sh = Math.max(0, s + l - 20);
    e.truncate(v, sh);
    long mu = Math.round(Math.scalb(1.0, 40 - s + sh) / n);
    for (int i = 0; i < v.length; i++) {
      v[i] *= mu;
    }
    return e.truncate(v, 40 - F);
  }

  /**
   * Shares of the inverse of the symmetric positive definite k×k matrix {@code h} (at {@link #F}
   * bits), by Newton–Schulz iterations {@code X ← X(2I - HX)} from {@code X = I/trace(H)}.
   */
  static long[] inverse(VectorEngine e, long[] h, int k, double maxCondition) {
    long one = 1L << F;
    long trace = 0;
    for (int i = 0; i < k; i++) {
      trace += h[i * k + i];
    }
    int k0 = 32 - Integer.numberOfLeadingZeros(k) + 2;
    long alpha = reciprocal(e, trace, k0, k0 + 18);
    long[] x = new long[k * k];
    for (int i = 0; i < k; i++) {
      x[i * k + i] = alpha;
    }
    int steps = (int) Math.ceil(Math.log(15.0 * k * Math.max(1, maxCondition)) / Math.log(2));
    for (int it = 0; it < steps; it++) {
      long[] p = e.truncate(e.matmul(h, x, k, k, k), F);
      for (int i = 0; i < p.length; i++) {
        p[i] = -p[i];
      }
      for (int i = 0; i < k; i++) {
        p[i * k + i] += e.constant(2 * one);
      }
      x = e.truncate(e.matmul(x, p, k, k, k), F);
    }
    return x;
  }

  /**
   * Shares of {@code 1/t} at {@link #F} bits by Newton's iteration from {@code 2^-k0}; converges
   * for {@code 0 < t < 2^(k0+1)}, to full precision after about {@code k0 - log2(t) + 5} steps.
   */
  static long reciprocal(VectorEngine e, long t, int k0, int steps) {
    long[] y = {e.constant(1L << (F - k0))};
    long[] tt = {t};
    for (int i = 0; i < steps; i++) {
      long[] u = e.mulTrunc(tt, y, F);
      long[] twoMinus = {e.constant(2L << F) - u[0]};
      y = e.mulTrunc(y, twoMinus, F);
    }
    return y[0];
  }

  /**
   * The model on the original scale: shares of {@code γ_j = β_j / sd_j} (per unit of the
   * unit-interval feature {@code x̂_j}) and of the intercept {@code β_0 - Σ γ_j mean_j}, all at
   * {@link #F} bits: {@code [b, γ_1..γ_d]}.
   */
  static long[] originalScale(VectorEngine e, long[] beta, Standardizer std, int scale) {
    int d = beta.length - 1;
    long[] g = e.truncate(e.mul(Arrays.copyOfRange(beta, 1, d + 1), std.inv), scale);
    long[] gm = e.truncate(e.mul(g, std.mean), std.unit);
    long[] out = new long[d + 1];
    out[0] = beta[0] << (F - scale);
    for (int j = 0; j < d; j++) {
      out[0] -= gm[j];
      out[j + 1] = g[j];
    }
    return out;
  }

  /**
   * Per-partition prediction with the model on the original scale ({@link #originalScale}):
   * shares of the probability (at {@code scale} bits) and of the label {@code [η >= 0]}.
   */
  record Predict(Standardizer std, long[] model, int scale, boolean probability, boolean label)
      implements Serializable {
    private static final long serialVersionUID = 1L;

    long[][] run(VectorEngine e, long[][] cols) {
      int d = cols.length;
      int rows = cols[0].length;
      long[][] xh = std.toUnit(e, cols);
      long[] xr = new long[rows * d];
      for (int j = 0; j < d; j++) {
        for (int i = 0; i < rows; i++) {
          xr[i * d + j] = xh[j][i];
        }
      }
      long[] eta = e.matmul(xr, Arrays.copyOfRange(model, 1, d + 1), rows, d, 1);
      for (int i = 0; i < rows; i++) {
        eta[i] += model[0] << std.unit;
      }
      e.truncate(eta, F + std.unit - scale);
      long[] p = probability ? Sigmoid.apply(e, eta, scale) : null;
      long[] lab = null;
      if (label) {
        lab = e.ltz(eta);
        for (int i = 0; i < rows; i++) {
          lab[i] = e.constant(1) - lab[i];
        }
      }
      return new long[][] {p, lab};
    }
  }
}
