package org.sparkmpc.protocol;

import java.util.ArrayList;
import java.util.List;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;

/**
 * The minimum or maximum of each group of secret-shared values, the groups public (their sizes
 * and which elements belong to which): a tournament, every group at once. At each level the
 * candidates of a group are paired in order, each pair compared ({@link Comparison#ltz}) and the
 * winner selected obliviously ({@code a + c·(b - a)}, one Beaver product); an odd one out goes up
 * unchanged. Which element wins is never known to anyone.
 *
 * <p>Levels: {@code ceil(log2(largest group))}; rounds per level {@value #ROUNDS_PER_LEVEL}
 * ({@link Comparison#ROUNDS} + 1); bytes per level and comparison: those of one comparison plus
 * 16 per peer. Values must satisfy {@code |v| < 2^62} (the fixed-point range), so that differences
 * do not wrap. Reveals nothing.
 *
 * <p>Coordinates: level {@code l} uses rounds {@code rounds.round(l * ROUNDS_PER_LEVEL ...)} and
 * streams {@code streams.stream(l * STREAMS_PER_LEVEL ...)}; the material of every level is
 * listed by {@link #needs}, so the driver can ask for it before the tasks run.
 */
public final class GroupExtremes {
  /** Rounds one level uses: a comparison and a selection. */
  public static final int ROUNDS_PER_LEVEL = Comparison.ROUNDS + 1;
  /** Streams one level uses: the comparison's and the selection's triples. */
  public static final int STREAMS_PER_LEVEL = Comparison.STREAMS + 1;

  private GroupExtremes() {}

  /** Tournament levels for groups of these sizes. */
  public static int levels(int[] sizes) {
    int max = 0;
    for (int s : sizes) {
      max = Math.max(max, s);
    }
    return max <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(max - 1);
  }

  /** Comparisons at each level of the tournament over groups of these sizes. */
  public static int[] comparisons(int[] sizes) {
    int[] out = new int[levels(sizes)];
    int[] s = sizes.clone();
    for (int l = 0; l < out.length; l++) {
      for (int g = 0; g < s.length; g++) {
        out[l] += s[g] / 2;
        s[g] = (s[g] + 1) / 2;
      }
    }
    return out;
  }

  /** The material a tournament over groups of {@code sizes} consumes in a partition. */
  public static List<Need> needs(int partition, StreamRange streams, int[] sizes) {
    List<Need> out = new ArrayList<>();
    int[] m = comparisons(sizes);
    for (int l = 0; l < m.length; l++) {
      if (m[l] > 0) {
        out.addAll(Comparison.needs(partition, level(streams, l), m[l]));
        out.add(Need.triples(partition, streams.stream(l * STREAMS_PER_LEVEL
            + Comparison.STREAMS), m[l]));
      }
    }
    return out;
  }

  private static StreamRange level(StreamRange s, int l) {
    return new StreamRange(s.name() + ", level " + l, s.stream(l * STREAMS_PER_LEVEL),
        Comparison.STREAMS);
  }

  private static RoundRange levelRounds(RoundRange r, int l) {
    return new RoundRange(r.name() + ", level " + l, r.round(l * ROUNDS_PER_LEVEL),
        Comparison.ROUNDS);
  }

  /**
   * This party's shares of each group's minimum ({@code max} false) or maximum.
   *
   * @param values shares, the elements of group {@code g} at {@code values[start[g] ..
   *     start[g] + sizes[g] - 1]}
   * @return one share per group, in group order (0 for an empty group)
   */
  public static long[] extremes(MpcContext ctx, CorrelationSource source, long operator,
      int partition, RoundRange rounds, StreamRange streams, long[] values, int[] start,
      int[] sizes, boolean max) {
    int groups = sizes.length;
    long[][] cand = new long[groups][];
    for (int g = 0; g < groups; g++) {
      cand[g] = java.util.Arrays.copyOfRange(values, start[g], start[g] + sizes[g]);
    }
    int levels = levels(sizes);
    for (int l = 0; l < levels; l++) {
      int m = 0;
      for (long[] c : cand) {
        m += c.length / 2;
      }
      if (m == 0) {
        continue;
      }
      long[] a = new long[m];
      long[] b = new long[m];
      for (int g = 0, k = 0; g < groups; g++) {
        long[] c = cand[g];
        for (int j = 0; j + 1 < c.length; j += 2, k++) {
          a[k] = c[j];
          b[k] = c[j + 1];
        }
      }
      // MIN: take b when b < a, i.e. [b - a < 0]; MAX: take b when a < b, i.e. [a - b < 0].
      long[] d = new long[m];
      for (int k = 0; k < m; k++) {
        d[k] = max ? a[k] - b[k] : b[k] - a[k];
      }
      long[] takeB = Comparison.ltz(ctx, source, operator, partition, levelRounds(rounds, l),
          level(streams, l), d);
      long[] diff = new long[m];
      for (int k = 0; k < m; k++) {
        diff[k] = b[k] - a[k];
      }
      long[] win = BeaverMultiplication.multiply(ctx, source, operator, partition,
          rounds.round(l * ROUNDS_PER_LEVEL + Comparison.ROUNDS),
          streams.stream(l * STREAMS_PER_LEVEL + Comparison.STREAMS), takeB, diff, m);
      for (int g = 0, k = 0; g < groups; g++) {
        long[] c = cand[g];
        long[] next = new long[(c.length + 1) / 2];
        for (int j = 0; j + 1 < c.length; j += 2, k++) {
          next[j / 2] = a[k] + win[k];
        }
        if (c.length % 2 == 1) {
          next[next.length - 1] = c[c.length - 1];
        }
        cand[g] = next;
      }
    }
    long[] out = new long[groups];
    for (int g = 0; g < groups; g++) {
      out[g] = cand[g].length == 0 ? 0 : cand[g][0];
    }
    return out;
  }
}
