package org.sparkmpc.spark.catalyst;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.BasePredicate;
import org.apache.spark.sql.catalyst.expressions.ExprId;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.Predicate;
import org.apache.spark.sql.execution.FilterExec;
import org.apache.spark.sql.execution.ProjectExec;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.apache.spark.sql.types.DataType;
import org.sparkmpc.correlation.BeaverTriples;
import org.sparkmpc.correlation.TruncationPairs;
import org.sparkmpc.protocol.BeaverMultiplication;
import org.sparkmpc.protocol.Truncation;
import org.apache.arrow.memory.ArrowBuf;
import org.sparkmpc.ring.ArrowRing64;
import org.sparkmpc.ring.Ring64;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.exec.DeepPartition;
import org.sparkmpc.spark.exec.DeepStage;
import org.sparkmpc.spark.exec.SendAheadTask;
import org.sparkmpc.spark.table.SecureTable;
import org.sparkmpc.spark.table.SharePartition;

/**
 * The local phase of a secure aggregate straight over a secure table's partitions, under any chain
 * of projections (of plain columns) and filters (on public columns) that Spark put between the
 * aggregate and the table scan. Public group keys are dictionary codes, so grouping is array
 * indexing; each share column is summed with one pass over its {@code long[]}, wide columns into
 * 128-bit sums (low and high words, with carries) that never wrap. A filter is a public predicate
 * evaluated per row on the public columns: rows it drops count in no group.
 *
 * <p>Products of two share columns take one Beaver round per partition (and a truncation round
 * when a sum of fractional products could wrap), run inside one task per partition by {@link
 * #deepPartials}, or as a send stage then the receive stage that sums; the products are 64-bit.
 */
final class TablePartials implements Serializable {
  private static final long serialVersionUID = 1L;
  final transient SecureTable table;
  private final int[] keyColumns;
  private final DataType[] keyTypes;
  private final int[] shareColumns;
  private final boolean[] wide;
  private final int[][] products;
  /** The filters' condition, over the table's public columns in index order, or null. */
  private final Expression condition;
  private final List<Attribute> publicColumns;
  private final SQLMetric rowsMetric;
  private String sid;
  private long op;
  /** Product {@code p}'s Beaver opening: round {@code p} of these, triples of stream {@code p}. */
  private RoundRange rounds;
  private StreamRange streams;
  /**
   * Per product, the bits its per-row values are truncated by before summing (0: none), with the
   * rounds and truncation-pair streams of those truncations.
   */
  private int[] shifts;
  private RoundRange truncationRounds;
  private StreamRange truncationStreams;
  private SQLMetric sent;
  private SQLMetric received;

  private TablePartials(SecureTable table, int[] keyColumns, DataType[] keyTypes,
      int[] shareColumns, int[][] products, Expression condition, List<Attribute> publicColumns,
      SQLMetric rowsMetric) {
    this.table = table;
    this.keyColumns = keyColumns;
    this.keyTypes = keyTypes;
    this.shareColumns = shareColumns;
    this.wide = new boolean[shareColumns.length];
    for (int s = 0; s < shareColumns.length; s++) {
      wide[s] = table.wide()[shareColumns[s]];
    }
    this.products = products;
    this.condition = condition;
    this.publicColumns = publicColumns;
    this.rowsMetric = rowsMetric;
  }

  /** Whether sum {@code s} (of the plain share columns) is kept wide. */
  boolean wide(int s) {
    return wide[s];
  }

  /** The session, operator, rounds and streams the products run under. */
  void bind(String sessionId, long operator, RoundRange productRounds, StreamRange productStreams,
      SQLMetric bytesSent, SQLMetric bytesReceived) {
    this.sid = sessionId;
    this.op = operator;
    this.rounds = productRounds;
    this.streams = productStreams;
    this.sent = bytesSent;
    this.received = bytesReceived;
  }

  /**
   * The task if {@code child} reads a secure table through projections and public filters only,
   * else null.
   */
  static TablePartials over(SparkPlan child, List<Attribute> groups, List<Attribute> shares,
      List<Attribute[]> productPairs, DataType[] keyTypes, SQLMetric rowsMetric) {
    Chain chain = chain(child);
    if (chain == null) {
      return null;
    }
    SecureTable t = chain.table();
    int[] keys = chain.keyColumns(groups);
    if (keys == null) {
      return null;
    }
    int[] sh = new int[shares.size()];
    for (int i = 0; i < sh.length; i++) {
      sh[i] = chain.shareColumn(shares.get(i));
      if (sh[i] < 0) {
        return null;
      }
    }
    int[][] prods = new int[productPairs.size()][2];
    for (int i = 0; i < prods.length; i++) {
      for (int j = 0; j < 2; j++) {
        prods[i][j] = chain.shareColumn(productPairs.get(i)[j]);
        if (prods[i][j] < 0) {
          return null;
        }
      }
    }
    return new TablePartials(t, keys, keyTypes, sh, prods, chain.condition(),
        chain.publicColumns(), rowsMetric);
  }

  /**
   * A secure table read through projections (of plain columns) and filters on public columns:
   * the table, every attribute of the chain's output in terms of the table's own attributes, the
   * filters' condition over the table's public columns (or null), and those public columns in
   * index order.
   */
  record Chain(SecureTable table, Map<ExprId, Attribute> resolve, Expression condition,
      List<Attribute> publicColumns) {

    /** The table's public-column indices of {@code groups}, or null if one is not public. */
    int[] keyColumns(List<Attribute> groups) {
      int[] keys = new int[groups.size()];
      for (int i = 0; i < keys.length; i++) {
        Attribute base = resolve.get(groups.get(i).exprId());
        int pos = base == null ? -1 : table.position(base);
        if (pos < 0 || table.secure()[pos]) {
          return null;
        }
        keys[i] = table.index()[pos];
      }
      return keys;
    }

    /** The table's share-column index of {@code a}, or -1. */
    int shareColumn(Attribute a) {
      return TablePartials.shareColumn(table, resolve, a);
    }

    /** {@code e} over the table's own attributes, or null if it reads a column not in the chain. */
    Expression rebase(Expression e) {
      boolean[] ok = {true};
      Expression out = e.transform(ScalaInterop.rewrite(x -> {
        if (x instanceof Attribute a) {
          Attribute base = resolve.get(a.exprId());
          if (base == null) {
            ok[0] = false;
          }
          return base;
        }
        return null;
      }));
      return ok[0] ? out : null;
    }
  }

  /** The chain from {@code child} down to a secure table scan, or null if it is not one. */
  static Chain chain(SparkPlan child) {
    List<SparkPlan> chain = new ArrayList<>();
    SparkPlan c = child;
    while (c instanceof ProjectExec || c instanceof FilterExec
        || c instanceof org.apache.spark.sql.execution.WholeStageCodegenExec
        || c instanceof org.apache.spark.sql.execution.InputAdapter
        || c instanceof org.apache.spark.sql.execution.ColumnarToRowExec) {
      if (c instanceof ProjectExec || c instanceof FilterExec) {
        chain.add(c);
      }
      c = c.children().head();
    }
    if (!(c instanceof SecureTableScanExec scan)) {
      return null;
    }
    SecureTable t = scan.table();
    // From the scan up: every attribute in terms of the table's own attributes.
    Map<ExprId, Attribute> resolve = new HashMap<>();
    for (Attribute a : ScalaInterop.list(scan.output())) {
      resolve.put(a.exprId(), a);
    }
    List<Expression> conditions = new ArrayList<>();
    for (int i = chain.size() - 1; i >= 0; i--) {
      SparkPlan node = chain.get(i);
      if (node instanceof ProjectExec p) {
        Map<ExprId, Attribute> next = new HashMap<>();
        for (NamedExpression ne : ScalaInterop.list(p.projectList())) {
          Expression e = ne instanceof Alias al ? al.child() : (Expression) ne;
          if (!(e instanceof Attribute a) || !resolve.containsKey(a.exprId())) {
            return null;
          }
          next.put(ne.exprId(), resolve.get(a.exprId()));
        }
        resolve = next;
      } else {
        Map<ExprId, Attribute> in = resolve;
        boolean[] ok = {true};
        Expression cond = ((FilterExec) node).condition().transform(ScalaInterop.rewrite(x -> {
          if (x instanceof Attribute a) {
            Attribute base = in.get(a.exprId());
            int pos = base == null ? -1 : t.position(base);
            if (pos < 0 || t.secure()[pos]) {
              ok[0] = false;
              return null;
            }
            return base;
          }
          return null;
        }));
        if (!ok[0]) {
          return null;
        }
        conditions.add(cond);
      }
    }
    List<Attribute> publicColumns = new ArrayList<>();
    for (int pos = 0; pos < t.output().size(); pos++) {
      if (!t.secure()[pos]) {
        publicColumns.add(t.output().get(pos)); // in public-index order, as the table lays them
      }
    }
    Expression condition = conditions.stream().reduce(
        (x, y) -> new org.apache.spark.sql.catalyst.expressions.And(x, y)).orElse(null);
    return new Chain(t, resolve, condition, publicColumns);
  }

  private static int shareColumn(SecureTable t, Map<ExprId, Attribute> resolve, Attribute a) {
    Attribute base = resolve.get(a.exprId());
    int pos = base == null ? -1 : t.position(base);
    return pos < 0 || !t.secure()[pos] ? -1 : t.index()[pos];
  }

  /**
   * Truncate product {@code p}'s per-row values by {@code shifts[p]} bits before they are summed
   * (exact to one unit, with the correlation source's truncation pairs), so that a sum of products
   * of two fractional columns is kept at one column's scale and does not wrap.
   */
  void truncate(int[] shifts, RoundRange rounds, StreamRange streams) {
    this.shifts = shifts;
    this.truncationRounds = rounds;
    this.truncationStreams = streams;
  }

  /** Whether any product is truncated (a second round, {@link #sendTruncations}). */
  boolean truncates() {
    return shifts != null && java.util.Arrays.stream(shifts).anyMatch(f -> f > 0);
  }

  /**
   * Send stage of the truncations: finish the Beaver round (its messages were sent by the
   * previous stage at every party) and send the masked products. Waits only for messages of a
   * stage every party has finished; never for this stage's.
   */
  Iterator<Integer> sendTruncations(Integer partition, Iterator<SharePartition> it) {
    MpcContext ctx = MpcRuntime.context(sid);
    while (it.hasNext()) {
      SharePartition p = it.next();
      for (int k = 0; k < products.length; k++) {
        if (shifts[k] > 0) {
          long[] z = BeaverMultiplication.finish(ctx, op, partition, rounds.round(k),
              prepare(p, partition, k));
          org.sparkmpc.protocol.Truncation.send(ctx, op, partition, truncationRounds.round(k),
              pairs(partition, k, p.rows()), 0, z, p.rows());
          sent.add(8L * p.rows() * (ctx.parties() - 1));
        }
      }
    }
    return java.util.Collections.emptyIterator();
  }

  private org.sparkmpc.correlation.TruncationPairs pairs(int partition, int k, int n) {
    return MpcRuntime.correlations(sid).truncationPairs(op, partition,
        truncationStreams.stream(k), n, shifts[k]);
  }

  /** Send stage of the products: mask and send; never waits for a peer. */
  Iterator<Integer> sendProducts(Integer partition, Iterator<SharePartition> it) {
    MpcContext ctx = MpcRuntime.context(sid);
    while (it.hasNext()) {
      SharePartition p = it.next();
      for (int k = 0; k < products.length; k++) {
        BeaverMultiplication.sendMasked(ctx, op, partition, rounds.round(k),
            prepare(p, partition, k));
        sent.add(16L * p.rows() * (ctx.parties() - 1));
      }
    }
    return java.util.Collections.emptyIterator();
  }

  private BeaverMultiplication.Pending prepare(SharePartition p, int partition, int k) {
    return BeaverMultiplication.prepare(MpcRuntime.correlations(sid), op, partition,
        streams.stream(k), p.shares(products[k][0]), p.shares(products[k][1]), p.rows());
  }

  /** This party's shares of the products of partition {@code partition} (receive stage). */
  private long[][] productShares(SharePartition p, int partition) {
    MpcContext ctx = MpcRuntime.context(sid);
    long[][] z = new long[products.length][];
    for (int k = 0; k < products.length; k++) {
      z[k] = BeaverMultiplication.finish(ctx, op, partition, rounds.round(k),
          prepare(p, partition, k));
      received.add(16L * p.rows() * (ctx.parties() - 1));
      if (shifts != null && shifts[k] > 0) {
        org.sparkmpc.protocol.Truncation.receive(ctx, op, partition, truncationRounds.round(k),
            pairs(partition, k, p.rows()), 0, z[k], p.rows());
        received.add(8L * p.rows() * (ctx.parties() - 1));
      }
    }
    return z;
  }

  /**
   * The partials with every round of the products (the Beaver opening, then the truncations) run
   * inside one task per partition ({@link DeepStage}): one Spark job instead of a send stage and a
   * receive stage per round, and each partition's triples expanded once instead of once per stage.
   * Same rounds, streams and bytes as the staged path. A product that is not truncated is summed
   * as its shares are computed ({@link BeaverMultiplication#finishSum}), never stored per row, and
   * a wave task masks and sends its next partition's products before it waits for the current
   * one's ({@link SendAheadTask}).
   */
  List<AggregatePartial> deepPartials(MpcRuntime rt, OperatorScope scope) {
    return DeepStage.run(rt, table, scope, new DeepProducts(this), sent, received);
  }

  /** The filter's predicate for one partition, or null. */
  private BasePredicate filter(int partition) {
    if (condition == null) {
      return null;
    }
    BasePredicate filter = Predicate.create(condition, ScalaInterop.seq(publicColumns));
    filter.initialize(partition);
    return filter;
  }

  private boolean truncated(int k) {
    return shifts != null && shifts[k] > 0;
  }

  /** What a partition's start hands to its finish: pending products and the local sums. */
  private record Started(BeaverMultiplication.SumPending[] summed,
      BeaverMultiplication.Pending[] rows, Local local) {}

  /** The deep task of the products: masks and sends in start, opens and sums in finish. */
  private static final class DeepProducts
      implements SendAheadTask<Started, AggregatePartial> {
    private static final long serialVersionUID = 1L;
    private final TablePartials t;

    DeepProducts(TablePartials t) {
      this.t = t;
    }

    @Override
    public Started start(DeepPartition dp) {
      SharePartition p = dp.data();
      int partition = dp.partition();
      MpcContext ctx = dp.mpc();
      int n = p.rows();
      long peers = ctx.parties() - 1;
      int[][] products = t.products;
      BeaverMultiplication.SumPending[] summed =
          new BeaverMultiplication.SumPending[products.length];
      BeaverMultiplication.Pending[] rows = new BeaverMultiplication.Pending[products.length];
      for (int k = 0; k < products.length; k++) {
        BeaverTriples triples = dp.correlations().triples(t.op, partition,
            t.streams.stream(k), n);
        if (t.truncated(k)) { // truncation needs each product's share
          rows[k] = BeaverMultiplication.mask(triples, p.shares(products[k][0]),
              p.shares(products[k][1]), n);
          BeaverMultiplication.sendMasked(ctx, t.op, partition, t.rounds.round(k), rows[k]);
        } else {
          summed[k] = BeaverMultiplication.maskForSum(triples, p.shareBuffer(products[k][0]),
              p.shareBuffer(products[k][1]), n);
          java.lang.ref.Reference.reachabilityFence(p); // its buffers were read by address
          BeaverMultiplication.sendForSum(ctx, t.op, partition, t.rounds.round(k), summed[k]);
        }
        dp.sent(16L * n * peers);
      }
      return new Started(summed, rows, t.local(p, t.filter(partition)));
    }

    @Override
    public AggregatePartial finish(DeepPartition dp, Started s) {
      int partition = dp.partition();
      MpcContext ctx = dp.mpc();
      int n = s.local().n();
      long peers = ctx.parties() - 1;
      int[][] products = t.products;
      long[][] z = new long[products.length][];
      TruncationPairs[] pairs = new TruncationPairs[products.length];
      for (int k = 0; k < products.length; k++) {
        if (s.rows()[k] == null) {
          continue;
        }
        z[k] = BeaverMultiplication.finish(ctx, t.op, partition, t.rounds.round(k), s.rows()[k]);
        s.rows()[k] = null;
        dp.received(16L * n * peers);
        pairs[k] = t.pairs(partition, k, n);
        Truncation.send(ctx, t.op, partition, t.truncationRounds.round(k), pairs[k], 0, z[k], n);
        dp.sent(8L * n * peers);
      }
      for (int k = 0; k < products.length; k++) {
        if (pairs[k] != null) {
          Truncation.receive(ctx, t.op, partition, t.truncationRounds.round(k), pairs[k], 0,
              z[k], n);
          dp.received(8L * n * peers);
        }
      }
      return t.complete(s.local(), (k, group, acc) -> {
        if (z[k] != null) {
          Ring64.groupSum(z[k], group, n, acc);
        } else {
          BeaverMultiplication.finishSum(ctx, t.op, partition, t.rounds.round(k),
              s.summed()[k], s.local().single() ? null : group, acc);
          dp.received(16L * n * peers);
        }
      });
    }
  }

  Iterator<AggregatePartial> partials(Integer partition, Iterator<SharePartition> it) {
    List<AggregatePartial> out = new ArrayList<>();
    BasePredicate filter = filter(partition);
    while (it.hasNext()) {
      SharePartition p = it.next();
      long[][] z = products.length == 0 ? new long[0][] : productShares(p, partition);
      int n = p.rows();
      out.add(complete(local(p, filter), (k, group, acc) -> Ring64.groupSum(z[k], group, n, acc)));
    }
    return out.iterator();
  }

  /** Rows the filter keeps: a per-row predicate on the public columns' values. */
  static boolean[] kept(SharePartition p, BasePredicate filter) {
    int n = p.rows();
    boolean[] keep = new boolean[n];
    GenericInternalRow row = new GenericInternalRow(p.publicColumns());
    int[][] codes = new int[p.publicColumns()][];
    for (int c = 0; c < codes.length; c++) {
      codes[c] = p.codes(c);
    }
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < codes.length; c++) {
        row.update(c, p.dictionary(c)[codes[c][i]]);
      }
      keep[i] = filter.eval(row);
    }
    return keep;
  }

  /** Adds product {@code k}'s shares into its group sums {@code acc} by {@code group}. */
  private interface ProductSums {
    void add(int k, int[] group, long[] acc);
  }

  /**
   * A partition's local sums, ready for its products: each row's group, the groups' counts, the
   * sums of the plain share columns (the products' slots still 0), and the keys of the groups that
   * have rows. {@code single}: every row is in group 0 (no keys, no filter).
   */
  private record Local(int n, int[] gid, boolean single, long[] counts, long[][] sums,
      long[][] highs, int[] used, List<byte[]> keys) {}

  private Local local(SharePartition p, BasePredicate filter) {
    int n = p.rows();
    rowsMetric.add(n);
    boolean[] keep = filter == null ? null : kept(p, filter);
    // Rows the filter drops go to one extra group that is never output.
    PartitionGroups pg = PartitionGroups.of(p, keyColumns, keep);
    int[] gid = pg.gid();
    int groups = pg.groups();
    long[] counts = pg.counts();
    int sumCount = shareColumns.length + products.length;
    long[][] sums = new long[sumCount][groups + 1];
    long[][] highs = new long[sumCount][];
    for (int s = 0; s < shareColumns.length; s++) {
      if (wide[s]) {
        highs[s] = new long[groups + 1];
        ArrowBuf hi = p.highBuffer(shareColumns[s]);
        if (hi != null) { // an owner's wide shares
          ArrowRing64.groupSum128(p.shareBuffer(shareColumns[s]), hi, gid, n, sums[s], highs[s]);
        } else { // a peer's: high words 0
          ArrowRing64.groupSumCarry(p.shareBuffer(shareColumns[s]), gid, n, sums[s], highs[s]);
        }
      } else {
        ArrowRing64.groupSum(p.shareBuffer(shareColumns[s]), gid, n, sums[s]);
      }
    }
    java.lang.ref.Reference.reachabilityFence(p); // its buffers were read by address
    int[] used = pg.used(counts);
    List<byte[]> keys = pg.keys(p, keyColumns, keyTypes, used);
    boolean single = keyColumns.length == 0 && keep == null;
    return new Local(n, gid, single, counts, sums, highs, used, keys);
  }

  /** The partition's partial: the products' sums added, then only the groups that have rows. */
  private AggregatePartial complete(Local l, ProductSums productSums) {
    long[][] sums = l.sums();
    long[][] highs = l.highs();
    for (int k = 0; k < products.length; k++) {
      productSums.add(k, l.gid(), sums[shareColumns.length + k]);
    }
    int sumCount = sums.length;
    int[] used = l.used();
    long[][] s2 = new long[sumCount][used.length];
    long[][] h2 = new long[sumCount][];
    long[] c2 = new long[used.length];
    for (int s = 0; s < sumCount; s++) {
      h2[s] = highs[s] == null ? null : new long[used.length];
    }
    for (int j = 0; j < used.length; j++) {
      int g = used[j];
      c2[j] = l.counts()[g];
      for (int s = 0; s < sumCount; s++) {
        s2[s][j] = sums[s][g];
        if (h2[s] != null) {
          h2[s][j] = highs[s][g];
        }
      }
    }
    return new AggregatePartial(l.keys(), s2, h2, c2);
  }
}
