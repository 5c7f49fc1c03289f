package org.sparkmpc.spark.catalyst;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.BasePredicate;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Predicate;
import org.apache.spark.sql.types.DataType;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.protocol.BeaverMultiplication;
import org.sparkmpc.protocol.GroupExtremes;
import org.sparkmpc.ring.Ring64;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.spark.table.SharePartition;

/**
 * The per-partition work of a {@link SecureDeepAggregateExec}, every round in one task: the secret
 * predicate and each aggregate's argument evaluated over all rows ({@link SecureExprEval}), the
 * predicate's bit folded into every argument with one batched Beaver round (rows that fail it add
 * 0 to a sum and a count, and a sentinel beyond the fixed-point range to a minimum or maximum),
 * then the sums per public group (local) and the minimum or maximum per group (a tournament,
 * {@link GroupExtremes}).
 *
 * <p>Also the census ({@link #census}): the public row count of each group of each partition, which
 * the driver needs before any round to ask for the tournaments' material.
 */
final class DeepPartials implements Serializable {
  private static final long serialVersionUID = 1L;
  /** The sentinel a failing row takes in a MIN (its negation in a MAX): beyond every value. */
  static final long SENTINEL = 1L << 62;

  /** One partition's result at this party. */
  record Partial(List<byte[]> keys, int[] sizes, long[][] sums, long[] counts,
      long[][] extremes) implements Serializable {}

  /** What the exec decided on the driver, shipped to the tasks. */
  record Plan(int[] keyColumns, DataType[] keyTypes, Expression publicCondition,
      List<Attribute> publicColumns, String[] kinds, SecureExpr condition, int[] conditionColumns,
      Expression[] conditionPublic, SecureExprEval.Layout conditionLayout, SecureExpr[] args,
      int[][] argColumns, Expression[][] argPublic, SecureExprEval.Layout[] argLayouts,
      RoundRange foldRound, StreamRange foldStream, RoundRange[] tournamentRounds,
      StreamRange[] tournamentStreams) implements Serializable {}

  private final Plan plan;
  private final long op;

  DeepPartials(Plan plan, long op) {
    this.plan = plan;
    this.op = op;
  }

  /** The public grouping of one partition: its group keys and sizes, in group-id order. */
  static Partial census(Plan plan, SharePartition p) {
    PartitionGroups pg = groups(plan, p);
    long[] counts = pg.counts();
    int[] used = pg.used(counts);
    int[] sizes = new int[used.length];
    for (int j = 0; j < used.length; j++) {
      sizes[j] = (int) counts[used[j]];
    }
    return new Partial(pg.keys(p, plan.keyColumns(), plan.keyTypes(), used), sizes, null, null,
        null);
  }

  private static PartitionGroups groups(Plan plan, SharePartition p) {
    boolean[] keep = null;
    if (plan.publicCondition() != null) {
      BasePredicate f = Predicate.create(plan.publicCondition(),
          ScalaInterop.seq(plan.publicColumns()));
      f.initialize(0);
      keep = TablePartials.kept(p, f);
    }
    return PartitionGroups.of(p, plan.keyColumns(), keep);
  }

  /** Every round of the operator over one partition. */
  Partial run(int partition, SharePartition p, MpcContext ctx, CorrelationSource source) {
    int n = p.rows();
    SecureExprEval.Env env = new SecureExprEval.Env(ctx, source, op, partition);
    PartitionGroups pg = groups(plan, p);
    long[] rowCounts = pg.counts();
    int[] used = pg.used(rowCounts);
    int[] gid = pg.gid();
    int groups = pg.groups();
    String[] kinds = plan.kinds();
    long[] w = plan.condition() == null ? null : SecureExprEval.eval(plan.condition(),
        plan.conditionLayout(), env, columns(p, plan.conditionColumns()),
        publicBits(p, plan.condition(), plan.conditionPublic(), plan.publicColumns()), n);
    long[][] v = new long[kinds.length][];
    int folded = 0;
    for (int i = 0; i < kinds.length; i++) {
      if (plan.args()[i] != null) {
        v[i] = SecureExprEval.eval(plan.args()[i], plan.argLayouts()[i], env,
            columns(p, plan.argColumns()[i]), publicBits(p, plan.args()[i], plan.argPublic()[i],
            plan.publicColumns()), n);
        folded++;
      }
    }
    boolean first = ctx.self() == 0;
    if (w != null && folded > 0) {
      // One round for every argument: w * v, or w * (v - S) + S for a MIN (S negated for a MAX).
      long[] x = new long[folded * n];
      long[] y = new long[folded * n];
      int k = 0;
      for (int i = 0; i < kinds.length; i++) {
        if (v[i] != null) {
          long s = sentinel(kinds[i], first);
          System.arraycopy(w, 0, x, k * n, n);
          for (int r = 0; r < n; r++) {
            y[k * n + r] = v[i][r] - s;
          }
          k++;
        }
      }
      long[] z = BeaverMultiplication.multiply(ctx, source, op, partition,
          plan.foldRound().first(), plan.foldStream().first(), x, y, folded * n);
      k = 0;
      for (int i = 0; i < kinds.length; i++) {
        if (v[i] != null) {
          long s = sentinel(kinds[i], first);
          long[] out = new long[n];
          for (int r = 0; r < n; r++) {
            out[r] = z[k * n + r] + s;
          }
          v[i] = out;
          k++;
        }
      }
    }
    long[][] sums = new long[kinds.length][];
    long[][] extremes = new long[kinds.length][];
    int[] sizes = new int[used.length];
    for (int j = 0; j < used.length; j++) {
      sizes[j] = (int) rowCounts[used[j]];
    }
    for (int i = 0; i < kinds.length; i++) {
      if (kinds[i].equals("SUM") || kinds[i].equals("AVG")) {
        sums[i] = pick(groupSum(v[i], gid, n, groups), used);
      } else if (kinds[i].equals("MIN") || kinds[i].equals("MAX")) {
        extremes[i] = GroupExtremes.extremes(ctx, source, op, partition,
            plan.tournamentRounds()[i], plan.tournamentStreams()[i], byGroup(v[i], gid, used,
                sizes), starts(sizes), sizes, kinds[i].equals("MAX"));
      }
    }
    long[] counts = new long[used.length];
    if (w != null) {
      counts = pick(groupSum(w, gid, n, groups), used);
    } else {
      for (int j = 0; j < used.length; j++) {
        counts[j] = rowCounts[used[j]];
      }
    }
    return new Partial(pg.keys(p, plan.keyColumns(), plan.keyTypes(), used), sizes, sums,
        counts, extremes);
  }

  /** This party's part of the sentinel: party 0 holds it. */
  private static long sentinel(String kind, boolean first) {
    if (!first) {
      return 0;
    }
    return kind.equals("MIN") ? SENTINEL : kind.equals("MAX") ? -SENTINEL : 0;
  }

  private static long[] groupSum(long[] v, int[] gid, int n, int groups) {
    long[] s = new long[groups + 1];
    Ring64.groupSum(v, gid, n, s);
    return s;
  }

  private static long[] pick(long[] perGroup, int[] used) {
    long[] out = new long[used.length];
    for (int j = 0; j < used.length; j++) {
      out[j] = perGroup[used[j]];
    }
    return out;
  }

  /** Offsets of consecutive groups of these sizes. */
  static int[] starts(int[] sizes) {
    int[] s = new int[sizes.length];
    for (int g = 1; g < sizes.length; g++) {
      s[g] = s[g - 1] + sizes[g - 1];
    }
    return s;
  }

  /** The values of the used groups' rows, group after group, rows in order within a group. */
  private static long[] byGroup(long[] v, int[] gid, int[] used, int[] sizes) {
    int max = 0;
    for (int g : used) {
      max = Math.max(max, g);
    }
    int[] slot = new int[max + 2];
    java.util.Arrays.fill(slot, -1);
    for (int j = 0; j < used.length; j++) {
      slot[used[j]] = j;
    }
    int[] next = starts(sizes);
    long[] out = new long[java.util.Arrays.stream(sizes).sum()];
    for (int r = 0; r < gid.length; r++) {
      int j = gid[r] < slot.length ? slot[gid[r]] : -1;
      if (j >= 0) {
        out[next[j]++] = v[r];
      }
    }
    return out;
  }

  private static long[][] columns(SharePartition p, int[] cols) {
    long[][] out = new long[cols.length][];
    for (int c = 0; c < cols.length; c++) {
      out[c] = p.shares(cols[c]);
    }
    return out;
  }

  /**
   * Per node of {@code e}, the plaintext value of its public predicate on each row. A predicate
   * that is NULL on a row (a null in a public column) is refused, naming it: a secret predicate
   * has two values, and a NULL under NOT or OR would count rows SQL's three-valued logic drops.
   */
  static boolean[][] publicBits(SharePartition p, SecureExpr e, Expression[] preds,
      List<Attribute> publicColumns) {
    boolean[][] out = new boolean[e.size()][];
    for (int i = 0; i < e.size(); i++) {
      if (preds[i] != null) {
        BasePredicate isNull = Predicate.create(
            new org.apache.spark.sql.catalyst.expressions.IsNull(preds[i]),
            ScalaInterop.seq(publicColumns));
        isNull.initialize(0);
        for (boolean b : TablePartials.kept(p, isNull)) {
          if (b) {
            throw new org.sparkmpc.MpcInputException("the public condition "
                + e.predicate.get(i).sql() + " inside the secret predicate " + e.sql + " is NULL "
                + "on some rows (a null in a public column): filter those rows out first (WHERE "
                + "... IS NOT NULL AND ...)");
          }
        }
        BasePredicate f = Predicate.create(preds[i], ScalaInterop.seq(publicColumns));
        f.initialize(0);
        out[i] = TablePartials.kept(p, f);
      }
    }
    return out;
  }

  /** The census task over a table's partitions. */
  static Iterator<Partial> censusTask(Plan plan, Iterator<SharePartition> it) {
    List<Partial> out = new ArrayList<>();
    while (it.hasNext()) {
      out.add(census(plan, it.next()));
    }
    return out.iterator();
  }
}
