package org.sparkmpc.protocol;

import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.GramTriple;
import org.sparkmpc.correlation.MatrixTriples;
import org.sparkmpc.ring.Matrices;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.share.Reveal;

/**
 * Matrix products of shared matrices with matrix triples from the dealer, in Z(2^64).
 *
 * <p><b>Gram</b> ({@link #gramPrepare}, {@link #sendMasked}, {@link #gramFinish}): shares of
 * {@code ZᵀZ} for a shared n×m block {@code Z}, with a Gram triple ({@code A}, {@code C = AᵀA}).
 * Each party opens {@code E = Z - A} and computes {@code C + EᵀA + AᵀE} (plus {@code EᵀE} at party
 * 0), which sums to {@code (E + A)ᵀ(E + A)}. Rounds: 1. Bytes sent: {@code 8·n·m} to each other
 * party, so O(n·m) traffic instead of the O(n·m²) of one Beaver triple per product; local work
 * {@code n·m²} multiply-adds. Reveals {@code E}, uniform and independent of {@code Z}.
 *
 * <p><b>Product</b> ({@link #multiply}): shares of {@code X_u Y_u} for {@code count} pairs of a p×q
 * and a q×r matrix with matrix triples ({@code A}, {@code B}, {@code C = AB}): open
 * {@code E = X - A}, {@code F = Y - B}; the result is {@code C + EB + AF} (plus {@code EF} at party
 * 0). Rounds: 1. Bytes sent: {@code 8·(pq + qr)} per product to each other party, not the
 * {@code 16·pqr} of elementwise triples. Reveals {@code E} and {@code F}, uniform.
 */
public final class MatrixProducts {
  private MatrixProducts() {}

  /** State between the halves of a Gram round: the triple and this party's masked block. */
  public record PendingGram(GramTriple triple, long[] masked) {}

  /**
   * The local first half of a Gram round: fetch the triple, mask the block. Deterministic, so a
   * receive stage can recompute it.
   *
   * @param columns the m shared columns, each of {@code rows} elements
   */
  public static PendingGram gramPrepare(CorrelationSource source, long operator, int partition,
      int stream, long[][] columns, int rows) {
    int m = columns.length;
    GramTriple t = source.gramTriple(operator, partition, stream, rows, m);
    long[] e = new long[rows * m];
    long[] a = t.a();
    for (int c = 0; c < m; c++) {
      long[] z = columns[c];
      int off = c * rows;
      for (int i = 0; i < rows; i++) {
        e[off + i] = z[i] - a[off + i];
      }
    }
    return new PendingGram(t, e);
  }

  /** Send this party's masked values to every other computing party. */
  public static void sendMasked(MpcContext ctx, long operator, int partition, int round,
      long[] masked) {
    Reveal.send(ctx, operator, partition, round, masked, masked.length, Reveal.all(ctx));
  }

  /** Sum this party's masked values with every peer's (the opened masked values). */
  static long[] openMasked(MpcContext ctx, long operator, int partition, int round, long[] masked) {
    return Reveal.receive(ctx, operator, partition, round, masked, masked.length);
  }

  /** Second half of a Gram round: this party's share of {@code ZᵀZ}, m×m row-major. */
  public static long[] gramFinish(MpcContext ctx, long operator, int partition, int round,
      PendingGram p) {
    GramTriple t = p.triple();
    int rows = t.rows();
    int m = t.cols();
    long[] e = openMasked(ctx, operator, partition, round, p.masked());
    long[] out = t.c().clone();
    Matrices.crossGramAdd(e, t.a(), rows, m, out);
    if (ctx.self() == 0) {
      long[] ee = Matrices.gram(e, rows, m);
      for (int i = 0; i < out.length; i++) {
        out[i] += ee[i];
      }
    }
    return out;
  }

  /**
   * Shares of the products {@code X_u Y_u} of {@code t.count()} pairs, with the triples
   * {@code t}: {@code x} holds the p×q factors, {@code y} the q×r ones, row-major and
   * concatenated. Result: the p×r products, concatenated.
   */
  public static long[] multiply(MpcContext ctx, long operator, int partition, int round,
      MatrixTriples t, long[] x, long[] y) {
    int count = t.count();
    int p = t.p();
    int q = t.q();
    int r = t.r();
    int nx = count * p * q;
    int ny = count * q * r;
    if (x.length != nx || y.length != ny) {
      throw new IllegalArgumentException("factors do not match the matrix triples' shape");
    }
    long[] masked = new long[nx + ny];
    for (int i = 0; i < nx; i++) {
      masked[i] = x[i] - t.a()[i];
    }
    for (int i = 0; i < ny; i++) {
      masked[nx + i] = y[i] - t.b()[i];
    }
    sendMasked(ctx, operator, partition, round, masked);
    long[] open = openMasked(ctx, operator, partition, round, masked);
    long[] z = t.c().clone();
    for (int u = 0; u < count; u++) {
      int xo = u * p * q;
      int yo = u * q * r;
      int zo = u * p * r;
      // E·B + A·F (+ E·F at party 0); E at open[xo..], F at open[nx + yo..]
      Matrices.multiplyAdd(open, xo, t.b(), yo, z, zo, p, q, r);
      Matrices.multiplyAdd(t.a(), xo, open, nx + yo, z, zo, p, q, r);
      if (ctx.self() == 0) {
        Matrices.multiplyAdd(open, xo, open, nx + yo, z, zo, p, q, r);
      }
    }
    return z;
  }

  /**
   * Shares of the p×r product of a p×q and a q×r matrix (row-major) from {@code pqr} Beaver
   * triples, one per scalar product: one round of {@code 16pqr} bytes to each other party.
   */
  public static long[] elementwise(MpcContext ctx, long operator, int partition, int round,
      org.sparkmpc.correlation.BeaverTriples t, long[] x, long[] y, int p, int q, int r) {
    int n = p * q * r;
    long[] xs = new long[n];
    long[] ys = new long[n];
    int k = 0;
    for (int i = 0; i < p; i++) {
      for (int j = 0; j < r; j++) {
        for (int u = 0; u < q; u++) {
          xs[k] = x[i * q + u];
          ys[k++] = y[u * r + j];
        }
      }
    }
    BeaverMultiplication.Pending pend = BeaverMultiplication.mask(t, xs, ys, n);
    BeaverMultiplication.sendMasked(ctx, operator, partition, round, pend);
    long[] prod = BeaverMultiplication.finish(ctx, operator, partition, round, pend);
    long[] z = new long[p * r];
    k = 0;
    for (int i = 0; i < p * r; i++) {
      long s = 0;
      for (int u = 0; u < q; u++) {
        s += prod[k++];
      }
      z[i] = s;
    }
    return z;
  }
}
