package org.sparkmpc.spark.ml;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.protocol.BeaverMultiplication;
import org.sparkmpc.protocol.MatrixProducts;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.table.SharePartition;

/**
 * The per-partition work of secure regression, each cross-party round split into a send stage
 * whose tasks never wait and a receive stage that recomputes the deterministic first half.
 *
 * <p><b>Gram</b>: shares of {@code ZᵀZ} for the chosen share columns {@code Z} of a partition,
 * and of each column's sum. With Gram triples (the dealer): one round, {@code 8·m} bytes per row to
 * each other party. Without them: one Beaver product per row and pair of columns
 * ({@code m(m+1)/2}), {@code 16} bytes each per other party, one message per pair.
 *
 * <p><b>Prediction</b>: shares of {@code Σ_j x_j w_j + b} per row, for shared coefficients
 * {@code w} at the table's scale: one Beaver round, {@code 16·d} bytes per row to each other
 * party. The result keeps twice the table's scale (no truncation, so it is exact).
 */
final class RegressionTasks implements Serializable {
  private static final long serialVersionUID = 1L;
  private final String session;
  private final long operator;
  /** Product {@code p} (the Gram block, or pair {@code p}): round {@code p}, stream {@code p}. */
  private final RoundRange rounds;
  private final StreamRange streams;
  private final int[] columns;
  private final int[] upShift;
  private final boolean gramTriples;
  private final long[] coefficients;
  private final long intercept;

  private RegressionTasks(String session, long operator, RoundRange rounds, StreamRange streams,
      int[] columns, int[] upShift, boolean gramTriples, long[] coefficients, long intercept) {
    this.session = session;
    this.operator = operator;
    this.rounds = rounds;
    this.streams = streams;
    this.columns = columns;
    this.upShift = upShift;
    this.gramTriples = gramTriples;
    this.coefficients = coefficients;
    this.intercept = intercept;
  }

  /**
   * Gram tasks over share columns {@code columns}, each shifted left by {@code upShift} bits, with
   * {@link #gramProducts} rounds and streams of {@code operator}.
   */
  static RegressionTasks gram(String session, long operator, RoundRange rounds,
      StreamRange streams, int[] columns, int[] upShift, boolean gramTriples) {
    return new RegressionTasks(session, operator, rounds, streams, columns, upShift, gramTriples,
        null, 0);
  }

  /**
   * Prediction tasks with this party's shares of the coefficients and intercept, with one round
   * and one stream of {@code operator}.
   */
  static RegressionTasks predict(String session, long operator, RoundRange rounds,
      StreamRange streams, int[] columns, int[] upShift, long[] coefficients, long intercept) {
    return new RegressionTasks(session, operator, rounds, streams, columns, upShift, false,
        coefficients, intercept);
  }

  /** The products of a Gram of m columns: one with Gram triples, else one per pair of columns. */
  static int gramProducts(int m, boolean gramTriples) {
    return gramTriples ? 1 : m * (m + 1) / 2;
  }

  /** The correlated randomness of a Gram over partitions of {@code rows} rows. */
  static List<Need> gramNeeds(long[] rows, int m, boolean gramTriples, StreamRange streams) {
    List<Need> needs = new ArrayList<>();
    for (int j = 0; j < rows.length; j++) {
      if (gramTriples) {
        needs.add(Need.gram(j, streams.stream(0), (int) rows[j], m));
      } else {
        for (int p = 0; p < m * (m + 1) / 2; p++) {
          needs.add(Need.triples(j, streams.stream(p), (int) rows[j]));
        }
      }
    }
    return needs;
  }

  /** The Beaver triples of a prediction over partitions of {@code rows} rows, d features. */
  static List<Need> predictNeeds(long[] rows, int d, StreamRange streams) {
    List<Need> needs = new ArrayList<>();
    for (int j = 0; j < rows.length; j++) {
      needs.add(Need.triples(j, streams.stream(0), (int) Math.multiplyExact(rows[j], (long) d)));
    }
    return needs;
  }

  private long[][] block(SharePartition part) {
    long[][] z = new long[columns.length][];
    for (int c = 0; c < columns.length; c++) {
      long[] s = part.shares(columns[c]); // a copy of the partition's vector: shifted in place
      for (int i = 0; upShift[c] != 0 && i < s.length; i++) {
        s[i] <<= upShift[c];
      }
      z[c] = s;
    }
    return z;
  }

  private static SharePartition only(Iterator<SharePartition> it) {
    return it.hasNext() ? it.next() : null;
  }

  private static int[][] pairs(int m) {
    int[][] out = new int[m * (m + 1) / 2][];
    int k = 0;
    for (int i = 0; i < m; i++) {
      for (int j = i; j < m; j++) {
        out[k++] = new int[] {i, j};
      }
    }
    return out;
  }

  // ---- Gram ----

  /** Send stage of the Gram: mask and send; never waits. */
  Iterator<Integer> gramSend(int partition, Iterator<SharePartition> it) {
    SharePartition part = only(it);
    if (part == null) {
      return List.<Integer>of().iterator();
    }
    MpcContext ctx = MpcRuntime.context(session);
    CorrelationSource source = MpcRuntime.correlations(session);
    long[][] z = block(part);
    int rows = part.rows();
    if (gramTriples) {
      MatrixProducts.sendMasked(ctx, operator, partition, rounds.round(0),
          MatrixProducts.gramPrepare(source, operator, partition, streams.stream(0), z, rows)
              .masked());
    } else {
      int[][] pr = pairs(z.length);
      for (int p = 0; p < pr.length; p++) {
        BeaverMultiplication.sendMasked(ctx, operator, partition, rounds.round(p),
            BeaverMultiplication.prepare(source, operator, partition, streams.stream(p),
                z[pr[p][0]], z[pr[p][1]], rows));
      }
    }
    return List.of(rows).iterator();
  }

  /**
   * Receive stage: this party's shares of the partition's ZᵀZ (m×m, row-major) followed by the m
   * column sums.
   */
  Iterator<long[]> gramFinish(int partition, Iterator<SharePartition> it) {
    SharePartition part = only(it);
    int m = columns.length;
    long[] out = new long[m * m + m];
    if (part == null) {
      return List.of(out).iterator();
    }
    MpcContext ctx = MpcRuntime.context(session);
    CorrelationSource source = MpcRuntime.correlations(session);
    long[][] z = block(part);
    int rows = part.rows();
    if (gramTriples) {
      long[] g = MatrixProducts.gramFinish(ctx, operator, partition, rounds.round(0),
          MatrixProducts.gramPrepare(source, operator, partition, streams.stream(0), z, rows));
      System.arraycopy(g, 0, out, 0, m * m);
    } else {
      int[][] pr = pairs(m);
      for (int p = 0; p < pr.length; p++) {
        long[] prod = BeaverMultiplication.finish(ctx, operator, partition, rounds.round(p),
            BeaverMultiplication.prepare(source, operator, partition, streams.stream(p),
                z[pr[p][0]], z[pr[p][1]], rows));
        pairSum(prod, pr[p], m, out);
      }
    }
    columnSums(z, m, out);
    return List.of(out).iterator();
  }

  /** This party's share of the sum of a pair's products into both of its Gram entries. */
  private static void pairSum(long[] prod, int[] pair, int m, long[] out) {
    long s = 0;
    for (long v : prod) {
      s += v;
    }
    out[pair[0] * m + pair[1]] = s;
    out[pair[1] * m + pair[0]] = s;
  }

  /** This party's shares of each column's sum, after the Gram entries. */
  private static void columnSums(long[][] z, int m, long[] out) {
    for (int c = 0; c < m; c++) {
      long s = 0;
      for (long v : z[c]) {
        s += v;
      }
      out[m * m + c] = s;
    }
  }

  /**
   * The whole Gram round of one partition inside one task ({@link
   * org.sparkmpc.spark.exec.DeepStage}): mask and send, then finish, preparing the triples once.
   * The same messages as {@link #gramSend} and {@link #gramFinish}; returns what the latter does.
   */
  long[] gramDeep(org.sparkmpc.spark.exec.DeepPartition dp) {
    SharePartition part = dp.data();
    int partition = dp.partition();
    MpcContext ctx = dp.mpc();
    CorrelationSource source = dp.correlations();
    int m = columns.length;
    long[] out = new long[m * m + m];
    long[][] z = block(part);
    int rows = part.rows();
    if (gramTriples) {
      MatrixProducts.PendingGram g = MatrixProducts.gramPrepare(source, operator, partition,
          streams.stream(0), z, rows);
      MatrixProducts.sendMasked(ctx, operator, partition, rounds.round(0), g.masked());
      System.arraycopy(MatrixProducts.gramFinish(ctx, operator, partition, rounds.round(0), g), 0,
          out, 0, m * m);
    } else {
      int[][] pr = pairs(m);
      BeaverMultiplication.Pending[] pending = new BeaverMultiplication.Pending[pr.length];
      for (int p = 0; p < pr.length; p++) {
        pending[p] = BeaverMultiplication.prepare(source, operator, partition, streams.stream(p),
            z[pr[p][0]], z[pr[p][1]], rows);
        BeaverMultiplication.sendMasked(ctx, operator, partition, rounds.round(p), pending[p]);
      }
      for (int p = 0; p < pr.length; p++) {
        long[] prod = BeaverMultiplication.finish(ctx, operator, partition, rounds.round(p),
            pending[p]);
        pending[p] = null;
        pairSum(prod, pr[p], m, out);
      }
    }
    columnSums(z, m, out);
    return out;
  }

  // ---- Prediction ----

  private BeaverMultiplication.Pending predictPrepare(int partition, SharePartition part) {
    CorrelationSource source = MpcRuntime.correlations(session);
    long[][] z = block(part);
    int rows = part.rows();
    int d = columns.length;
    long[] x = new long[rows * d];
    long[] w = new long[rows * d];
    for (int c = 0; c < d; c++) {
      System.arraycopy(z[c], 0, x, c * rows, rows);
      java.util.Arrays.fill(w, c * rows, (c + 1) * rows, coefficients[c]);
    }
    return BeaverMultiplication.prepare(source, operator, partition, streams.stream(0), x, w,
        rows * d);
  }

  /** Send stage of the prediction round. */
  Iterator<Integer> predictSend(int partition, Iterator<SharePartition> it) {
    SharePartition part = only(it);
    if (part == null) {
      return List.<Integer>of().iterator();
    }
    BeaverMultiplication.sendMasked(MpcRuntime.context(session), operator, partition,
        rounds.round(0), predictPrepare(partition, part));
    return List.of(part.rows()).iterator();
  }

  /** Receive stage: the partition with one more share column, the predictions. */
  Iterator<SharePartition> predictFinish(int partition, Iterator<SharePartition> it) {
    SharePartition part = only(it);
    if (part == null) {
      return List.<SharePartition>of().iterator();
    }
    MpcContext ctx = MpcRuntime.context(session);
    long[] prod = BeaverMultiplication.finish(ctx, operator, partition, rounds.round(0),
        predictPrepare(partition, part));
    int rows = part.rows();
    long[] pred = new long[rows];
    java.util.Arrays.fill(pred, intercept);
    for (int c = 0; c < columns.length; c++) {
      int off = c * rows;
      for (int i = 0; i < rows; i++) {
        pred[i] += prod[off + i];
      }
    }
    return List.of(PredictionTables.append(part, new long[][] {pred}, new int[] {0}))
        .iterator();
  }
}
