package org.sparkmpc.spark.catalyst;

import java.util.List;
import java.util.TreeMap;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.protocol.Comparison;
import org.sparkmpc.protocol.GroupExtremes;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.share.Reveal;
import org.sparkmpc.spark.types.ShareType;

/**
 * The driver's half of a {@link SecureDeepAggregateExec}: the partitions' partials merged per
 * group (sums and secret counts by ring addition, minima and maxima by a last tournament over the
 * partitions, on the driver's channel), the secure comparison of each secret count with the
 * minimum group size (only its bit is opened, to every party), and the opening of the qualifying
 * groups' outputs to the recipients.
 *
 * @param sums     per output, this party's shares of each group's sum (null for other kinds)
 * @param counts   each group's count: shares under a secret predicate, else public
 * @param extremes per output, this party's shares of each group's minimum or maximum
 */
record DeepMerge(List<String> kinds, long[][] sums, long[] counts, long[][] extremes,
    MpcContext ctx, CorrelationSource source, long op) {

  static DeepMerge of(List<String> kinds, TreeMap<byte[], Integer> order, int ng, int[] spread,
      List<DeepPartials.Partial> partials, MpcContext ctx, CorrelationSource source, long op,
      RoundRange[] mergeRounds, StreamRange[] mergeStreams) {
    int outs = kinds.size();
    long[][] sums = new long[outs][];
    long[][] cands = new long[outs][];
    int total = java.util.Arrays.stream(spread).sum();
    for (int i = 0; i < outs; i++) {
      if (kinds.get(i).equals("SUM") || kinds.get(i).equals("AVG")) {
        sums[i] = new long[ng];
      } else if (mergeRounds[i] != null) {
        cands[i] = new long[total];
      }
    }
    long[] counts = new long[ng];
    int[] start = DeepPartials.starts(spread);
    int[] next = start.clone();
    for (DeepPartials.Partial p : partials) {
      for (int j = 0; j < p.keys().size(); j++) {
        Integer g = order.get(p.keys().get(j));
        if (g == null) {
          throw new IllegalStateException("a partition's group is missing from the census");
        }
        counts[g] += p.counts()[j];
        for (int i = 0; i < outs; i++) {
          if (sums[i] != null) {
            sums[i][g] += p.sums()[i][j];
          } else if (cands[i] != null) {
            cands[i][next[g]] = p.extremes()[i][j];
          }
        }
        next[g]++;
      }
    }
    long[][] extremes = new long[outs][];
    for (int i = 0; i < outs; i++) {
      if (cands[i] != null) {
        extremes[i] = GroupExtremes.extremes(ctx, source, op, Coordinates.DRIVER_PARTITION,
            mergeRounds[i], mergeStreams[i], cands[i], start, spread,
            kinds.get(i).equals("MAX"));
      }
    }
    return new DeepMerge(kinds, sums, counts, extremes, ctx, source, op);
  }

  /**
   * Whether each group's secret count reaches {@code least}: one comparison per group, and the
   * bits opened to every party (so that every party opens the same groups).
   */
  boolean[] reaches(int least, RoundRange rounds, StreamRange streams, int openRound) {
    int ng = counts.length;
    long[] d = new long[ng];
    for (int g = 0; g < ng; g++) {
      d[g] = counts[g] - (ctx.self() == 0 ? least : 0);
    }
    long[] below = Comparison.ltz(ctx, source, op, Coordinates.DRIVER_PARTITION, rounds, streams,
        d);
    return openBits(SecureExprEval.not(below, ctx.self() == 0), null, openRound, "group-size");
  }

  /**
   * Open shared bits, one per group, to every party: those of the groups in {@code only} (null:
   * all); the others read false. An error if an opened bit is not 0 or 1.
   */
  private boolean[] openBits(long[] bit, boolean[] only, int round, String what) {
    int ng = bit.length;
    int m = 0;
    long[] chosen = new long[ng];
    for (int g = 0; g < ng; g++) {
      if (only == null || only[g]) {
        chosen[m++] = bit[g];
      }
    }
    boolean[] out = new boolean[ng];
    if (m == 0) {
      return out; // every party knows no bit is opened: no message
    }
    long[] open = Reveal.toAll(ctx, op, Coordinates.DRIVER_PARTITION, round, chosen, m);
    for (int g = 0, j = 0; g < ng; g++) {
      if (only != null && !only[g]) {
        continue;
      }
      long v = open[j++];
      if (v != 0 && v != 1) {
        throw new org.sparkmpc.net.ProtocolException("operator " + op + ": a " + what + " bit "
            + "opened to a value other than 0 or 1");
      }
      out[g] = v == 1;
    }
    return out;
  }

  /**
   * Whether each group meets the secret HAVING condition {@code having}, whose inputs are the
   * outputs {@code hidden} (outputs {@code visible..} of this merge): evaluated over the groups'
   * shares on the driver's channel, and only the bit per group opened, to every party (so that
   * every party leaves out the same groups). Only for the groups in {@code large}, which reach
   * the minimum group size: a smaller group's bit stays closed (it would tell something of its
   * few rows) and the group is kept, its values NULL as without HAVING.
   *
   * @param secretCounts whether the counts are shares (else public, shared here as party 0's)
   */
  boolean[] meets(SecureExpr having, SecureExprEval.Layout layout, int openRound,
      List<org.apache.spark.sql.catalyst.expressions.Attribute> hidden, int visible,
      boolean secretCounts, boolean[] large) {
    int ng = counts.length;
    if (ng == 0) {
      return new boolean[0];
    }
    long[][] columns = new long[having.inputs.size()][];
    for (int c = 0; c < columns.length; c++) {
      org.apache.spark.sql.catalyst.expressions.ExprId id = having.inputs.get(c).exprId();
      int h = 0;
      while (h < hidden.size() && !hidden.get(h).exprId().equals(id)) {
        h++;
      }
      if (h == hidden.size()) {
        throw new IllegalStateException("the HAVING condition reads an aggregate it lacks");
      }
      int i = visible + h;
      if (kinds.get(i).equals("COUNT")) {
        columns[c] = secretCounts ? counts : ctx.self() == 0 ? counts : new long[ng];
      } else {
        columns[c] = sums[i] != null ? sums[i] : extremes[i];
      }
    }
    long[] bit = SecureExprEval.eval(having, layout, new SecureExprEval.Env(ctx, source, op,
        Coordinates.DRIVER_PARTITION), columns, new boolean[having.size()][], ng);
    boolean[] meets = openBits(bit, large, openRound, "HAVING");
    for (int g = 0; g < ng; g++) {
      meets[g] |= !large[g];
    }
    return meets;
  }

  /**
   * Open the first {@code visible} outputs of the groups in {@code open} to {@code recipients}:
   * per output and group (index {@code kinds.size()} holds the secret counts; the outputs only a
   * HAVING condition reads are never opened); null at a party that is not one.
   */
  long[][] open(boolean[] open, boolean secretCounts, int[] recipients, int round, int visible) {
    int ng = counts.length;
    int outs = kinds.size();
    int m = 0;
    for (boolean o : open) {
      m += o ? 1 : 0;
    }
    int slots = outs + 1;
    long[] v = new long[slots * m];
    for (int s = 0; s < slots; s++) {
      long[] src = s == outs ? (secretCounts ? counts : null) : s >= visible ? null
          : sums[s] != null ? sums[s] : extremes[s];
      for (int g = 0, j = 0; g < ng && src != null; g++) {
        if (open[g]) {
          v[s * m + j++] = src[g];
        }
      }
    }
    long[] got = Reveal.toParties(ctx, op, Coordinates.DRIVER_PARTITION, round, v, v.length,
        recipients);
    if (got == null) {
      return null;
    }
    long[][] out = new long[slots][ng];
    for (int s = 0; s < slots; s++) {
      for (int g = 0, j = 0; g < ng; g++) {
        if (open[g]) {
          out[s][g] = s == outs && !secretCounts ? counts[g] : got[s * m + j++];
        } else if (s == outs && !secretCounts) {
          out[s][g] = counts[g];
        }
      }
    }
    return out;
  }

  /** The value of output {@code i} for group {@code g} at a recipient. */
  Object value(String kind, int i, int g, boolean open, int least, long[][] opened,
      UnsafeRow keyRow, List<Attribute> groups, Attribute secure, boolean secretCounts) {
    if (kind.startsWith("GROUP:")) {
      int j = Integer.parseInt(kind.substring(6));
      return keyRow.get(j, groups.get(j).dataType());
    }
    long count = opened[kinds.size()][g];
    if (kind.equals("COUNT")) {
      if (!secretCounts || open) {
        return count;
      }
      return least == 1 ? (Object) 0L : null; // known empty, or too small to open
    }
    if (!open) {
      return null; // SUM, AVG, MIN and MAX of no rows are NULL, as in Spark
    }
    ShareType type = (ShareType) secure.dataType();
    return type.decode(opened[i][g], kind.equals("AVG") ? count : 1, secure.name());
  }
}
