package org.sparkmpc.spark.catalyst;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.catalyst.plans.physical.Partitioning;
import org.apache.spark.sql.catalyst.plans.physical.SinglePartition$;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.types.DataType;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.protocol.Comparison;
import org.sparkmpc.protocol.GroupExtremes;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.share.Reveal;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.exec.DeepStage;
import org.sparkmpc.spark.table.SecureTable;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * Physical operator of a revealed {@link SecureDeepAggregate}: SUM, COUNT, AVG, MIN and MAX grouped
 * by public columns, under a secret predicate and over arguments with secret conditions.
 *
 * <p>Driver: a census job (the public size of each group in each partition, so the tournaments'
 * material can be asked for before any round), the plan agreement, then one deep stage in which
 * each partition runs every round of {@link DeepPartials} in one task. The partials are merged by
 * ring addition (sums, secret counts) and by a last tournament over the partitions' minima and
 * maxima, on the driver's channel. Under a secret predicate a group's count is secret: one secure
 * comparison per group decides whether it reaches {@code max(1, spark.mpc.reveal.minGroupSize)},
 * and only that bit is opened to every party; the group's outputs are opened to the recipients only
 * when it does. A group that does not gives NULL (its COUNT 0 when the minimum is 1: it is then
 * known to be empty).
 *
 * <p>A secret {@code HAVING} condition is evaluated on the driver over the merged shares of its
 * hidden aggregates (one secure comparison per group and comparison), and its bit per group is
 * opened to every party: a group that fails it is left out, and its values are never opened.
 *
 * <p>Reveals: the declared aggregates of each qualifying group (an AVG under a secret predicate
 * also opens its count), whether each group qualifies and, with HAVING, whether each group meets
 * it (to every party, whoever the recipients). Rounds: those of the predicate and the
 * arguments, 1 to fold the predicate in, {@code ceil(log2(rows))} tournament levels of
 * {@value GroupExtremes#ROUNDS_PER_LEVEL} rounds, on the driver the partitions' tournament, the
 * threshold comparison and 2 to open.
 */
public final class SecureDeepAggregateExec extends SecureExec {
  private static final long serialVersionUID = 1L;

  private final Seq<Attribute> grouping;
  private final Seq<String> kinds;
  private final List<SecureExpr> args;
  private final SecureExpr condition;
  private final SecureExpr having;
  private final Seq<Attribute> hidden;
  private final Seq<Attribute> secureOutput;
  private final Seq<Attribute> output;
  private final Seq<String> recipients;
  private final SparkPlan child;

  public SecureDeepAggregateExec(Seq<Attribute> grouping, Seq<String> kinds, List<SecureExpr> args,
      SecureExpr condition, SecureExpr having, Seq<Attribute> hidden, Seq<Attribute> secureOutput,
      Seq<Attribute> output, Seq<String> recipients, SparkPlan child) {
    this.grouping = grouping;
    this.kinds = kinds;
    this.args = args;
    this.condition = condition;
    this.having = having;
    this.hidden = hidden;
    this.secureOutput = secureOutput;
    this.output = output;
    this.recipients = recipients;
    this.child = child;
  }

  @Override
  public Seq<Attribute> output() {
    return output;
  }

  @Override
  public Seq<SparkPlan> children() {
    return ScalaInterop.seqOf(child);
  }

  @Override
  public SparkPlan withNewChildrenInternal(IndexedSeq<SparkPlan> c) {
    return new SecureDeepAggregateExec(grouping, kinds, args, condition, having, hidden,
        secureOutput, output, recipients, c.apply(0));
  }

  @Override
  protected Object[] fields() {
    return new Object[] {grouping, kinds, args, condition, having, hidden, secureOutput, output,
        recipients, child};
  }

  @Override
  public Partitioning outputPartitioning() {
    return SinglePartition$.MODULE$;
  }

  @Override
  public RDD<InternalRow> doExecute() {
    MpcRuntime rt = runtime();
    MpcContext ctx = rt.context();
    List<String> k = ScalaInterop.list(kinds);
    List<Attribute> groups = ScalaInterop.list(grouping);
    TablePartials.Chain chain = TablePartials.chain(child);
    int[] keyColumns = chain == null ? null : chain.keyColumns(groups);
    if (keyColumns == null) {
      throw new MpcInputException("an aggregate under a secret predicate or with MIN/MAX is "
          + "computed directly over a secure table, grouped by its public columns (filter or "
          + "join before sharing instead)");
    }
    if (rt.correlationSource() == null) {
      throw MpcRuntime.noCorrelations("comparing secure columns");
    }
    SecureTable table = chain.table();
    String[] kindArr = k.stream().map(x -> x.startsWith("GROUP") ? "GROUP" : x)
        .toArray(String[]::new);
    DeepPartials.Plan census = plan(chain, keyColumns, groups, kindArr, null, null, null, null,
        null, null);
    List<DeepPartials.Partial> sizes = table.partitions()
        .mapPartitions(it -> DeepPartials.censusTask(census, it)).collect();

    // This party's data policy, before anything of the aggregate moves (its outputs are opened).
    PolicyUse.check(rt, nodeName(), this, ScalaInterop.list(recipients), false,
        Math.max(1, minGroupSize(this)));
    // MIN and MAX open one row's value: for the policy, that is opening it row by row.
    java.util.Set<org.apache.spark.sql.catalyst.expressions.ExprId> extremes =
        new java.util.HashSet<>();
    for (int i = 0; i < k.size(); i++) {
      if (k.get(i).equals("MIN") || k.get(i).equals("MAX")) {
        args.get(i).inputs.forEach(a -> extremes.add(a.exprId()));
      }
    }
    PolicyUse.checkRows(rt, nodeName() + " (MIN/MAX)", this, extremes,
        ScalaInterop.list(recipients));
    OperatorScope scope = rt.beginOperator(nodeName());
    long op = scope.id();
    SecureExprEval.Layout condLayout = condition == null ? null
        : SecureExprEval.layout(condition, scope, "predicate");
    SecureExprEval.Layout[] argLayouts = new SecureExprEval.Layout[k.size()];
    RoundRange[] tourRounds = new RoundRange[k.size()];
    StreamRange[] tourStreams = new StreamRange[k.size()];
    int levels = 0;
    for (DeepPartials.Partial s : sizes) {
      levels = Math.max(levels, GroupExtremes.levels(s.sizes()));
    }
    for (int i = 0; i < k.size(); i++) {
      if (args.get(i) != null) {
        argLayouts[i] = SecureExprEval.layout(args.get(i), scope, "argument " + i);
      }
      if (kindArr[i].equals("MIN") || kindArr[i].equals("MAX")) {
        tourRounds[i] = scope.rounds("tournament " + i, levels * GroupExtremes.ROUNDS_PER_LEVEL);
        tourStreams[i] = scope.streams("tournament " + i,
            levels * GroupExtremes.STREAMS_PER_LEVEL);
      }
    }
    RoundRange fold = scope.rounds("fold predicate", 1);
    StreamRange foldStream = scope.streams("fold predicate", 1);
    DeepPartials.Plan plan = plan(chain, keyColumns, groups, kindArr, condLayout, argLayouts, fold,
        foldStream, tourRounds, tourStreams);

    // The merged groups, in key-byte order (the same at every party), and where each partition's
    // groups go.
    TreeMap<byte[], Integer> order = new TreeMap<>(Arrays::compareUnsigned);
    for (DeepPartials.Partial s : sizes) {
      for (byte[] key : s.keys()) {
        order.putIfAbsent(key, 0);
      }
    }
    if (groups.isEmpty() && order.isEmpty()) {
      order.put(UnsafeProjection.create(new DataType[0]).apply(new GenericInternalRow(
          new Object[0])).copy().getBytes(), 0); // a global aggregate over no rows
    }
    int ng = 0;
    for (Map.Entry<byte[], Integer> e : order.entrySet()) {
      e.setValue(ng++);
    }
    int[] spread = new int[ng]; // partitions each group appears in
    for (DeepPartials.Partial s : sizes) {
      for (byte[] key : s.keys()) {
        spread[order.get(key)]++;
      }
    }
    RoundRange[] mergeRounds = new RoundRange[k.size()];
    StreamRange[] mergeStreams = new StreamRange[k.size()];
    int mergeLevels = GroupExtremes.levels(spread);
    for (int i = 0; i < k.size(); i++) {
      if (tourRounds[i] != null) {
        mergeRounds[i] = scope.rounds("merge " + i, mergeLevels * GroupExtremes.ROUNDS_PER_LEVEL);
        mergeStreams[i] = scope.streams("merge " + i,
            mergeLevels * GroupExtremes.STREAMS_PER_LEVEL);
      }
    }
    RoundRange threshold = scope.rounds("group threshold", Comparison.ROUNDS);
    StreamRange thresholdStreams = scope.streams("group threshold", Comparison.STREAMS);
    int openRound = scope.round("open group bits");
    int valueRound = scope.round("open values");
    SecureExprEval.Layout havingLayout = having == null ? null
        : SecureExprEval.layout(having, scope, "having");
    int havingRound = scope.round("open having bits");

    long[] contract = table.contract();
    List<Need> needs = new ArrayList<>();
    for (int p = 0; p < contract.length; p++) {
      int n = (int) contract[p];
      if (condition != null) {
        SecureExprEval.needs(condition, condLayout, p, n, needs);
      }
      int folded = 0;
      for (int i = 0; i < k.size(); i++) {
        if (args.get(i) != null) {
          SecureExprEval.needs(args.get(i), argLayouts[i], p, n, needs);
          folded++;
        }
        if (tourRounds[i] != null) {
          needs.addAll(GroupExtremes.needs(p, tourStreams[i], sizes.get(p).sizes()));
        }
      }
      if (condition != null && folded > 0) {
        needs.add(Need.triples(p, foldStream.first(), folded * n));
      }
    }
    for (int i = 0; i < k.size(); i++) {
      if (mergeRounds[i] != null) {
        needs.addAll(GroupExtremes.needs(Coordinates.DRIVER_PARTITION, mergeStreams[i], spread));
      }
    }
    if (condition != null) {
      needs.addAll(Comparison.needs(Coordinates.DRIVER_PARTITION, thresholdStreams, ng));
    }
    if (having != null && ng > 0) {
      SecureExprEval.needs(having, havingLayout, Coordinates.DRIVER_PARTITION, ng, needs);
    }
    rt.request(scope, needs);

    int minGroup = minGroupSize(this);
    List<String> to = ScalaInterop.list(recipients);
    agree(ctx, op, describe(ctx.sessionId(), k, minGroup, to, rt));
    String problem = rangeProblem(k, table.rows());
    if (problem != null) {
      MpcInputException e = new MpcInputException(problem);
      ctx.abort(op, e);
      throw e;
    }

    // Rounds, for the metric: every block this operator took, and its two openings.
    int rounds = (condLayout == null ? 0 : SecureExprEval.rounds(condLayout) + threshold.count())
        + fold.count() + 2 + (having == null ? 0 : SecureExprEval.rounds(havingLayout) + 1);
    for (int i = 0; i < k.size(); i++) {
      rounds += (argLayouts[i] == null ? 0 : SecureExprEval.rounds(argLayouts[i]))
          + (tourRounds[i] == null ? 0 : tourRounds[i].count() + mergeRounds[i].count());
    }
    metric("rounds").add(rounds);
    List<DeepPartials.Partial> partials = DeepStage.run(rt, table, scope,
        new DeepTask(plan, op), metric("bytesSent"), metric("bytesReceived"));
    return finish(rt, ctx, scope, k, order, ng, spread, partials, mergeRounds, mergeStreams,
        threshold, thresholdStreams, openRound, valueRound, minGroup, to, havingLayout,
        havingRound);
  }

  private DeepPartials.Plan plan(TablePartials.Chain chain, int[] keyColumns,
      List<Attribute> groups, String[] kindArr, SecureExprEval.Layout condLayout,
      SecureExprEval.Layout[] argLayouts, RoundRange fold, StreamRange foldStream,
      RoundRange[] tourRounds, StreamRange[] tourStreams) {
    DataType[] keyTypes = groups.stream().map(Attribute::dataType).toArray(DataType[]::new);
    SecureExpr[] a = args.toArray(new SecureExpr[0]);
    int[][] argColumns = new int[a.length][];
    Expression[][] argPublic = new Expression[a.length][];
    for (int i = 0; i < a.length; i++) {
      if (a[i] != null) {
        argColumns[i] = columns(chain, a[i]);
        argPublic[i] = publicPredicates(chain, a[i]);
      }
    }
    return new DeepPartials.Plan(keyColumns, keyTypes, chain.condition(), chain.publicColumns(),
        kindArr, condition, condition == null ? null : columns(chain, condition),
        condition == null ? null : publicPredicates(chain, condition), condLayout, a,
        argColumns, argPublic, argLayouts, fold, foldStream, tourRounds, tourStreams);
  }

  private static int[] columns(TablePartials.Chain chain, SecureExpr e) {
    int[] cols = new int[e.inputs.size()];
    for (int c = 0; c < cols.length; c++) {
      cols[c] = chain.shareColumn(e.inputs.get(c));
      if (cols[c] < 0) {
        throw new MpcInputException("secure column '" + e.inputs.get(c).name() + "' of " + e.sql
            + " is not a column of the secure table the aggregate reads");
      }
    }
    return cols;
  }

  private static Expression[] publicPredicates(TablePartials.Chain chain, SecureExpr e) {
    Expression[] out = new Expression[e.size()];
    for (int i = 0; i < e.size(); i++) {
      if (e.predicate.get(i) != null) {
        out[i] = chain.rebase(e.predicate.get(i));
        if (out[i] == null) {
          throw new MpcInputException("the public condition " + e.predicate.get(i).sql()
              + " reads a column that is not in the secure table the aggregate reads");
        }
      }
    }
    return out;
  }

  /** Why a sum could wrap or a comparison could not be exact, or null. */
  private String rangeProblem(List<String> k, long rows) {
    int rowBits = 64 - Long.numberOfLeadingZeros(rows);
    for (int i = 0; i < k.size(); i++) {
      SecureExpr a = args.get(i);
      if (a == null) {
        continue;
      }
      int bits = a.bits.get(a.root());
      int visible = ScalaInterop.list(secureOutput).size();
      if (i >= visible && k.get(i).equals("SUM") && bits + rowBits > 62) {
        return "SUM(" + a.sql + ") in the HAVING condition over " + rows + " rows could pass "
            + "2^62 at its fixed-point scale (values up to 2^" + bits + "), beyond what a secure "
            + "comparison takes; lower spark.mpc.fixedPoint.scaleBits or rescale the column";
      }
      if ((k.get(i).equals("SUM") || k.get(i).equals("AVG")) && bits + rowBits > 63) {
        return k.get(i) + "(" + a.sql + ") over " + rows + " rows could pass 2^63 at its "
            + "fixed-point scale (values up to 2^" + bits + "), which would wrap; lower "
            + "spark.mpc.fixedPoint.scaleBits or rescale the column";
      }
      if ((k.get(i).equals("MIN") || k.get(i).equals("MAX")) && bits > 62) {
        return k.get(i) + "(" + a.sql + "): its values may reach 2^" + bits + " encoded; "
            + "comparisons need magnitudes below 2^62 (share the column with "
            + "spark.mpc.share.bounds=observed, or a narrower type)";
      }
    }
    return null;
  }

  private String describe(String salt, List<String> k, int minGroup, List<String> to,
      MpcRuntime rt) {
    StringBuilder d = new StringBuilder("SecureDeepAggregate group=").append(names(grouping))
        .append(" where=").append(condition == null ? "none" : condition.describe(salt))
        .append(" out=[");
    for (int i = 0; i < k.size(); i++) {
      d.append(k.get(i)).append('(').append(args.get(i) == null ? ""
          : args.get(i).describe(salt)).append(") ");
    }
    if (having != null) {
      d.append("] having=").append(having.describe(salt)).append(" hidden=")
          .append(k.size() - ScalaInterop.list(secureOutput).size());
    }
    return d.append("] reveal=").append(to.isEmpty() ? "all" : to.toString())
        .append(" minGroupSize=").append(minGroup).append(" input=")
        .append(describeInput(child, rt)).toString();
  }

  private RDD<InternalRow> finish(MpcRuntime rt, MpcContext ctx, OperatorScope scope,
      List<String> k, TreeMap<byte[], Integer> order, int ng, int[] spread,
      List<DeepPartials.Partial> partials, RoundRange[] mergeRounds, StreamRange[] mergeStreams,
      RoundRange threshold, StreamRange thresholdStreams, int openRound, int valueRound,
      int minGroup, List<String> to, SecureExprEval.Layout havingLayout, int havingRound) {
    long op = scope.id();
    DeepMerge m = DeepMerge.of(k, order, ng, spread, partials, ctx, rt.correlationSource(), op,
        mergeRounds, mergeStreams);
    boolean[] open = new boolean[ng];
    int least = Math.max(1, minGroup);
    if (condition != null) {
      open = m.reaches(least, threshold, thresholdStreams, openRound);
    } else {
      for (int g = 0; g < ng; g++) {
        open[g] = m.counts()[g] >= least;
      }
    }
    // HAVING is decided only for the groups that reach the minimum size.
    boolean[] kept = having == null ? null
        : m.meets(having, havingLayout, havingRound, ScalaInterop.list(hidden),
            ScalaInterop.list(secureOutput).size(), condition != null, open.clone());
    for (int g = 0; kept != null && g < ng; g++) {
      open[g] &= kept[g]; // a group that fails HAVING is never opened
    }
    int[] idx = to.isEmpty() ? Reveal.all(ctx)
        : to.stream().mapToInt(ctx.directory()::indexOf).toArray();
    int visible = ScalaInterop.list(secureOutput).size();
    long[][] opened = m.open(open, condition != null, idx, valueRound, visible);
    rt.releaseMessages(scope);
    postDriverMetrics();
    List<InternalRow> rows = new ArrayList<>();
    if (opened != null) {
      List<Attribute> out = ScalaInterop.list(output);
      List<Attribute> sec = ScalaInterop.list(secureOutput);
      UnsafeProjection toUnsafe = UnsafeProjection.create(
          out.stream().map(Attribute::dataType).toArray(DataType[]::new));
      List<Attribute> groups = ScalaInterop.list(grouping);
      UnsafeRow keyRow = new UnsafeRow(groups.size());
      int g = -1;
      for (byte[] kb : order.keySet()) {
        g++;
        if (kept != null && !kept[g]) {
          continue; // HAVING left the group out
        }
        keyRow.pointTo(kb, kb.length);
        Object[] vals = new Object[visible];
        for (int i = 0; i < visible; i++) {
          vals[i] = m.value(k.get(i), i, g, open[g], least, opened, keyRow, groups,
              sec.get(i), condition != null);
        }
        rows.add(toUnsafe.apply(new GenericInternalRow(vals)).copy());
      }
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sparkContext());
    return jsc.parallelize(rows, 1).rdd();
  }

  /** The deep stage's task: every round of {@link DeepPartials} over one partition. */
  static final class DeepTask implements org.sparkmpc.spark.exec.DeepTask<DeepPartials.Partial> {
    private static final long serialVersionUID = 1L;
    private final DeepPartials work;

    DeepTask(DeepPartials.Plan plan, long op) {
      this.work = new DeepPartials(plan, op);
    }

    @Override
    public DeepPartials.Partial run(org.sparkmpc.spark.exec.DeepPartition part) {
      return work.run(part.partition(), part.data(), part.mpc(), part.correlations());
    }
  }
}
