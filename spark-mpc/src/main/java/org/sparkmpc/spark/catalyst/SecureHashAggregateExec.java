package org.sparkmpc.spark.catalyst;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.BoundReference;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.catalyst.plans.physical.Partitioning;
import org.apache.spark.sql.catalyst.plans.physical.SinglePartition$;
import org.apache.spark.sql.execution.ColumnarToRowExec;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.ring.Ring64;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.share.Reveal;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.SecureColumns;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * Physical operator of {@link SecureAggregate}, optionally fused with the {@link SecureReveal} above
 * it: {@code SUM}, {@code COUNT} and {@code AVG} of secure columns grouped by public columns.
 *
 * <p>Local phase, per partition, on columnar batches: each row's public group key is looked up once,
 * then every share column is summed into its group with one pass over a {@code long[]} (ring
 * addition). Partials are merged on the driver, again by ring addition, and groups are ordered by the
 * bytes of their key, which is the same order at every party.
 *
 * <p>Rounds: the plan agreement, then 1 (the reveal) when revealed, 0 otherwise. Bytes: 8 per group
 * and secure output to each recipient. Reveals: the declared sums (and the averages, as sum over the
 * public group size); group keys and sizes are public already, since grouping columns are public.
 * With {@code spark.mpc.reveal.minGroupSize} set, a group smaller than it is never opened: its secure
 * values come back NULL when revealed, and it is left out of a secret-shared result.
 */
public final class SecureHashAggregateExec extends SecureExec {
  private static final long serialVersionUID = 1L;

  private final Seq<Attribute> grouping;
  private final Seq<String> kinds;
  private final Seq<Attribute> inputs;
  private final Seq<Attribute> partners;
  private final Seq<String> factors;
  private final Seq<Attribute> output;
  private final boolean reveal;
  private final Seq<String> recipients;
  private final SparkPlan child;

  public SecureHashAggregateExec(Seq<Attribute> grouping, Seq<String> kinds, Seq<Attribute> inputs,
      Seq<Attribute> partners, Seq<String> factors, Seq<Attribute> output, boolean reveal,
      Seq<String> recipients, SparkPlan child) {
    this.grouping = grouping;
    this.kinds = kinds;
    this.inputs = inputs;
    this.partners = partners;
    this.factors = factors;
    this.output = output;
    this.reveal = reveal;
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
    return new SecureHashAggregateExec(grouping, kinds, inputs, partners, factors, output, reveal,
        recipients, c.apply(0));
  }

  @Override
  protected Object[] fields() {
    return new Object[] {grouping, kinds, inputs, partners, factors, output, reveal, recipients,
        child};
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
    List<Attribute> in = ScalaInterop.list(inputs);
    List<Attribute> with = ScalaInterop.list(partners);
    List<Attribute> groups = ScalaInterop.list(grouping);
    List<Attribute> out = ScalaInterop.list(output);
    List<String> to = ScalaInterop.list(recipients);

    // Which values are summed: distinct secure inputs, then distinct products of two of them.
    List<Attribute> childOut = ScalaInterop.list(child.output());
    List<Integer> shareOrdinals = new ArrayList<>();
    List<int[]> productOrdinals = new ArrayList<>();
    int[] shareSlot = new int[k.size()];
    for (int i = 0; i < k.size(); i++) {
      shareSlot[i] = -1;
      if (k.get(i).equals("SUM") || k.get(i).equals("AVG")) {
        int ord = ordinal(childOut, in.get(i));
        if (!shareOrdinals.contains(ord)) {
          shareOrdinals.add(ord);
        }
      }
    }
    for (int i = 0; i < k.size(); i++) {
      if (k.get(i).equals("SUM") || k.get(i).equals("AVG")) {
        shareSlot[i] = shareOrdinals.indexOf(ordinal(childOut, in.get(i)));
      } else if (k.get(i).endsWith("PROD")) {
        int[] pair = {ordinal(childOut, in.get(i)), ordinal(childOut, with.get(i))};
        int found = -1;
        for (int p = 0; p < productOrdinals.size(); p++) {
          if (java.util.Arrays.equals(productOrdinals.get(p), pair)) {
            found = p;
          }
        }
        if (found < 0) {
          found = productOrdinals.size();
          productOrdinals.add(pair);
        }
        shareSlot[i] = -2 - found; // resolved below, once the number of plain sums is known
      }
    }
    for (int i = 0; i < k.size(); i++) {
      if (shareSlot[i] <= -2) {
        shareSlot[i] = shareOrdinals.size() + (-2 - shareSlot[i]);
      }
    }
    int[] keyOrdinals = groups.stream().mapToInt(g -> ordinal(childOut, g)).toArray();
    DataType[] keyTypes = groups.stream().map(Attribute::dataType).toArray(DataType[]::new);
    int[] shareOrds = shareOrdinals.stream().mapToInt(Integer::intValue).toArray();
    int sums = shareOrds.length + productOrdinals.size();

    SQLMetric rowsMetric = metric("rows");
    TablePartialTask direct = TablePartialTask.over(child, groups,
        shareOrdinals.stream().map(childOut::get).toList(),
        productOrdinals.stream().map(pr -> new Attribute[] {childOut.get(pr[0]),
            childOut.get(pr[1])}).toList(), keyTypes, rowsMetric);
    OperatorScope scope = rt.beginOperator(nodeName());
    long op = scope.id();
    StreamRange productStreams = scope.streams("products", productOrdinals.size());
    RoundRange productRounds = scope.rounds("products", productOrdinals.size());
    List<org.sparkmpc.correlation.Need> needs = new ArrayList<>();
    if (direct != null) {
      long[] rows = direct.table.contract();
      for (int p = 0; p < productOrdinals.size(); p++) {
        for (int j = 0; j < rows.length; j++) {
          needs.add(org.sparkmpc.correlation.Need.triples(j, productStreams.stream(p),
              (int) rows[j]));
        }
      }
    }
    rt.request(scope, needs);
    String problem = null;
    if (!reveal && (k.contains("AVG") || k.contains("AVGPROD"))) {
      problem = "AVG of a secure column must be revealed in the same query (reveal(AVG(x)) or "
          + "SparkMpc.reveal(df)); a secret-shared average would need secure division";
    } else if (!productOrdinals.isEmpty() && direct == null) {
      problem = "products of secure columns are computed directly over a secure table (or a "
          + "projection of its columns); filter or join before sharing instead";
    } else if (!productOrdinals.isEmpty() && rt.correlationSource() == null) {
      problem = MpcRuntime.noCorrelations("multiplying secure columns").getMessage();
    }
    if (problem != null) {
      MpcInputException e = new MpcInputException(problem);
      ctx.abort(op, e);
      throw e;
    }
    StringBuilder desc = new StringBuilder("SecureAggregate group=").append(names(grouping))
        .append(" out=[");
    List<String> fs = ScalaInterop.list(factors);
    for (int i = 0; i < k.size(); i++) {
      desc.append(k.get(i)).append('(').append(in.get(i).name());
      if (k.get(i).endsWith("PROD")) {
        desc.append('*').append(with.get(i).name());
      }
      desc.append(fs.get(i).equals("1") ? "" : "*" + fs.get(i)).append(") ");
    }
    int minGroup = minGroupSize(this);
    desc.append("] reveal=").append(reveal ? (to.isEmpty() ? "all" : to.toString()) : "none")
        .append(minGroup > 0 ? " minGroupSize=" + minGroup : "")
        .append(" input=").append(describeInput(child, rt));
    agree(ctx, op, desc.toString());

    PartialTask task = new PartialTask(keyOrdinals, keyTypes, shareOrds, rowsMetric);
    List<Partial> partials;
    SparkPlan columnar = columnarSource(child);
    if (direct != null) {
      direct.bind(ctx.sessionId(), op, productRounds, productStreams, metric("bytesSent"),
          metric("bytesReceived"));
      if (!productOrdinals.isEmpty()) {
        // Send stage of the products' Beaver round: tasks only send, never wait.
        direct.table.partitions().mapPartitionsWithIndex(direct::sendProducts, false).count();
        metric("rounds").add(1);
      }
      partials = direct.table.partitions().mapPartitionsWithIndex(direct::partials, false)
          .collect();
      if (!productOrdinals.isEmpty()) {
        rt.correlationSource().release(op); // every task of the operator has finished
      }
    } else if (columnar != null) {
      partials = columnar.executeColumnar().toJavaRDD().mapPartitions(task::fromBatches).collect();
    } else {
      partials = child.execute().toJavaRDD().mapPartitions(task::fromRows).collect();
    }

    // Merge by key bytes; TreeMap gives the byte order every party shares.
    TreeMap<ByteKey, long[]> merged = new TreeMap<>();
    int width = sums + 1; // sums..., count
    for (Partial p : partials) {
      for (int g = 0; g < p.keys.size(); g++) {
        long[] acc = merged.computeIfAbsent(new ByteKey(p.keys.get(g)), x -> new long[width]);
        for (int s = 0; s < sums; s++) {
          acc[s] += p.sums[s][g];
        }
        acc[width - 1] += p.counts[g];
      }
    }
    if (groups.isEmpty() && merged.isEmpty()) {
      merged.put(new ByteKey(emptyKey()), new long[width]); // global aggregate over no rows
    }
    if (!reveal && minGroup > 0) {
      // Secret-shared result: groups under the minimum are left out, so no later reveal opens them.
      merged.values().removeIf(acc -> acc[width - 1] < minGroup);
    }
    int ng = merged.size();
    List<byte[]> keys = new ArrayList<>(ng);
    long[] flat = new long[ng * sums];
    long[] counts = new long[ng];
    int g = 0;
    for (Map.Entry<ByteKey, long[]> e : merged.entrySet()) {
      keys.add(e.getKey().bytes);
      for (int s = 0; s < sums; s++) {
        flat[s * ng + g] = e.getValue()[s];
      }
      counts[g] = e.getValue()[width - 1];
      g++;
    }

    long[] values = flat;
    boolean recipient = true;
    if (reveal) {
      // Only groups of at least the minimum size are opened; counts are public, so every party
      // picks the same groups.
      int[] opened = java.util.stream.IntStream.range(0, ng)
          .filter(gi -> counts[gi] >= minGroup).toArray();
      boolean all = opened.length == ng;
      long[] toOpen = all ? flat : new long[opened.length * sums];
      for (int s = 0; s < sums && !all; s++) {
        for (int j = 0; j < opened.length; j++) {
          toOpen[s * opened.length + j] = flat[s * ng + opened[j]];
        }
      }
      int[] idx = to.isEmpty() ? null : to.stream().mapToInt(ctx.directory()::indexOf).toArray();
      int round = scope.round("reveal");
      long[] open = idx == null
          ? Reveal.toAll(ctx, op, Coordinates.DRIVER_PARTITION, round, toOpen, toOpen.length)
          : Reveal.toParties(ctx, op, Coordinates.DRIVER_PARTITION, round, toOpen, toOpen.length,
              idx);
      recipient = open != null;
      values = open;
      if (recipient && !all) { // back to one slot per group; the closed groups' slots stay unused
        values = new long[flat.length];
        for (int s = 0; s < sums; s++) {
          for (int j = 0; j < opened.length; j++) {
            values[s * ng + opened[j]] = open[s * opened.length + j];
          }
        }
      }
      long bytes = (long) toOpen.length * 8;
      metric("rounds").add(1);
      metric("bytesSent").add(bytes * (idx == null ? ctx.parties() - 1
          : Arrays.stream(idx).filter(r -> r != ctx.self()).count()));
      if (recipient) {
        metric("bytesReceived").add(bytes * (ctx.parties() - 1));
      }
    }
    postDriverMetrics();

    List<InternalRow> rows = new ArrayList<>();
    if (recipient) {
      UnsafeProjection toUnsafe = UnsafeProjection.create(
          out.stream().map(Attribute::dataType).toArray(DataType[]::new));
      UnsafeRow keyRow = new UnsafeRow(keyOrdinals.length);
      for (int gi = 0; gi < ng; gi++) {
        byte[] kb = keys.get(gi);
        keyRow.pointTo(kb, kb.length);
        Object[] vals = new Object[k.size()];
        for (int i = 0; i < k.size(); i++) {
          vals[i] = value(k.get(i), i, gi, ng, shareSlot, values, counts, minGroup, keyRow, groups,
              in, out);
        }
        rows.add(toUnsafe.apply(new GenericInternalRow(vals)).copy());
      }
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sparkContext());
    return jsc.parallelize(rows, 1).rdd();
  }

  private Object value(String kind, int i, int gi, int ng, int[] shareSlot, long[] values,
      long[] counts, int minGroup, UnsafeRow keyRow, List<Attribute> groups,
      List<Attribute> in, List<Attribute> out) {
    switch (kind) {
      case "GROUP": {
        int gpos = indexOfSemantic(groups, in.get(i));
        return keyRow.get(gpos, out.get(i).dataType());
      }
      case "COUNT":
        return counts[gi];
      default: {
        long v = values[shareSlot[i] * ng + gi];
        if (!reveal) {
          return v;
        }
        if (counts[gi] == 0 || counts[gi] < minGroup) {
          return null; // SUM and AVG of no rows are NULL, as in Spark; small groups stay closed
        }
        org.apache.spark.sql.types.Metadata md = SecureRewriteRule.outputMetadata(kind, in.get(i),
            ScalaInterop.list(partners).get(i), ScalaInterop.list(factors).get(i));
        return decode(v, md, kind.startsWith("AVG") ? counts[gi] : 1);
      }
    }
  }

  /**
   * The plaintext of an opened sum: scaled back by its fixed-point scale, times its public factor,
   * divided by {@code divisor} (the group size for averages). Integral sums stay exact.
   */
  static Object decode(long v, org.apache.spark.sql.types.Metadata md, long divisor) {
    int scale = SecureColumns.scale(md);
    String factor = md.contains(SecureColumns.FACTOR) ? md.getString(SecureColumns.FACTOR) : "1";
    if ("long".equals(SecureColumns.plainType(md)) && divisor == 1) {
      return v * new java.math.BigDecimal(factor).longValueExact();
    }
    return Math.scalb((double) v, -scale) * Double.parseDouble(factor) / divisor;
  }

  private static int indexOfSemantic(List<Attribute> list, Attribute a) {
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i).semanticEquals(a)) {
        return i;
      }
    }
    throw new IllegalStateException("grouping column " + a.name() + " not found");
  }

  private static int ordinal(List<Attribute> attrs, Attribute a) {
    for (int i = 0; i < attrs.size(); i++) {
      if (attrs.get(i).exprId().equals(a.exprId())) {
        return i;
      }
    }
    throw new IllegalStateException("column " + a.name() + " is not in the input");
  }

  /** The columnar plan under a ColumnarToRow transition, if any. */
  static SparkPlan columnarSource(SparkPlan child) {
    if (child instanceof ColumnarToRowExec c2r) {
      return c2r.child();
    }
    return child.supportsColumnar() ? child : null;
  }

  private static byte[] emptyKey() {
    UnsafeProjection p = UnsafeProjection.create(new DataType[0]);
    return p.apply(new GenericInternalRow(new Object[0])).getBytes();
  }

  /** One partition's partial aggregate: group keys (UnsafeRow bytes), share sums, row counts. */
  static final class Partial implements Serializable {
    private static final long serialVersionUID = 1L;
    final List<byte[]> keys;
    final long[][] sums;
    final long[] counts;

    Partial(List<byte[]> keys, long[][] sums, long[] counts) {
      this.keys = keys;
      this.sums = sums;
      this.counts = counts;
    }
  }

  /** The local phase, run in tasks. */
  static final class PartialTask implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int[] keyOrdinals;
    private final DataType[] keyTypes;
    private final int[] shareOrdinals;
    private final SQLMetric rowsMetric;

    PartialTask(int[] keyOrdinals, DataType[] keyTypes, int[] shareOrdinals, SQLMetric rowsMetric) {
      this.keyOrdinals = keyOrdinals;
      this.keyTypes = keyTypes;
      this.shareOrdinals = shareOrdinals;
      this.rowsMetric = rowsMetric;
    }

    private final class Acc {
      final UnsafeProjection keyProj;
      final Map<UnsafeRow, Integer> index = new HashMap<>();
      final List<byte[]> keys = new ArrayList<>();
      long[][] sums = new long[shareOrdinals.length][16];
      long[] counts = new long[16];
      int[] gid = new int[0];
      long rows;

      Acc() {
        List<Expression> refs = new ArrayList<>();
        for (int i = 0; i < keyOrdinals.length; i++) {
          refs.add(new BoundReference(keyOrdinals[i], keyTypes[i], true));
        }
        keyProj = UnsafeProjection.create(ScalaInterop.seq(refs));
      }

      int group(InternalRow r) {
        UnsafeRow key = keyProj.apply(r);
        Integer g = index.get(key);
        if (g == null) {
          g = keys.size();
          UnsafeRow copy = key.copy();
          index.put(copy, g);
          keys.add(copy.getBytes());
          if (g == counts.length) {
            counts = Arrays.copyOf(counts, g * 2);
            for (int s = 0; s < sums.length; s++) {
              sums[s] = Arrays.copyOf(sums[s], g * 2);
            }
          }
        }
        return g;
      }

      Partial done() {
        rowsMetric.add(rows);
        int n = keys.size();
        long[][] s = new long[sums.length][];
        for (int i = 0; i < sums.length; i++) {
          s[i] = Arrays.copyOf(sums[i], n);
        }
        return new Partial(keys, s, Arrays.copyOf(counts, n));
      }
    }

    Iterator<Partial> fromBatches(Iterator<ColumnarBatch> it) {
      Acc acc = new Acc();
      while (it.hasNext()) {
        ColumnarBatch b = it.next();
        int n = b.numRows();
        if (acc.gid.length < n) {
          acc.gid = new int[n];
        }
        for (int i = 0; i < n; i++) {
          int g = acc.group(b.getRow(i));
          acc.gid[i] = g;
          acc.counts[g]++;
        }
        for (int s = 0; s < shareOrdinals.length; s++) {
          long[] v = b.column(shareOrdinals[s]).getLongs(0, n);
          Ring64.groupSum(v, acc.gid, n, acc.sums[s]);
        }
        acc.rows += n;
      }
      return List.of(acc.done()).iterator();
    }

    Iterator<Partial> fromRows(Iterator<InternalRow> it) {
      Acc acc = new Acc();
      while (it.hasNext()) {
        InternalRow r = it.next();
        int g = acc.group(r);
        acc.counts[g]++;
        for (int s = 0; s < shareOrdinals.length; s++) {
          acc.sums[s][g] += r.getLong(shareOrdinals[s]);
        }
        acc.rows++;
      }
      return List.of(acc.done()).iterator();
    }
  }

  /**
   * The local phase straight over a secure table's partitions (the table scan, possibly under a
   * projection of plain columns): public group keys are dictionary codes, so grouping is array
   * indexing and each share column is summed with one pass over its {@code long[]}.
   */
  static final class TablePartialTask implements Serializable {
    private static final long serialVersionUID = 1L;
    final transient org.sparkmpc.spark.table.SecureTable table;
    private final int[] keyColumns;
    private final DataType[] keyTypes;
    private final int[] shareColumns;
    private final int[][] products;
    private final SQLMetric rowsMetric;
    private String sid;
    private long op;
    /** Product {@code p}'s Beaver opening: round {@code p} of these, triples of stream {@code p}. */
    private RoundRange rounds;
    private StreamRange streams;
    private SQLMetric sent;
    private SQLMetric received;

    private TablePartialTask(org.sparkmpc.spark.table.SecureTable table, int[] keyColumns,
        DataType[] keyTypes, int[] shareColumns, int[][] products, SQLMetric rowsMetric) {
      this.table = table;
      this.keyColumns = keyColumns;
      this.keyTypes = keyTypes;
      this.shareColumns = shareColumns;
      this.products = products;
      this.rowsMetric = rowsMetric;
    }

    /** The session, operator, rounds and streams the products run under. */
    void bind(String sessionId, long operator, RoundRange productRounds,
        StreamRange productStreams, SQLMetric bytesSent, SQLMetric bytesReceived) {
      this.sid = sessionId;
      this.op = operator;
      this.rounds = productRounds;
      this.streams = productStreams;
      this.sent = bytesSent;
      this.received = bytesReceived;
    }

    /** Send stage of the products: mask and send; never waits for a peer. */
    Iterator<Integer> sendProducts(Integer partition,
        Iterator<org.sparkmpc.spark.table.SharePartition> it) {
      MpcContext ctx = MpcRuntime.context(sid);
      while (it.hasNext()) {
        org.sparkmpc.spark.table.SharePartition p = it.next();
        for (int k = 0; k < products.length; k++) {
          org.sparkmpc.protocol.BeaverMultiplication.Pending pending = prepare(p, partition, k);
          org.sparkmpc.protocol.BeaverMultiplication.sendMasked(ctx, op, partition,
              rounds.round(k), pending);
          sent.add(16L * p.rows() * (ctx.parties() - 1));
        }
      }
      return java.util.Collections.emptyIterator();
    }

    private org.sparkmpc.protocol.BeaverMultiplication.Pending prepare(
        org.sparkmpc.spark.table.SharePartition p, int partition, int k) {
      return org.sparkmpc.protocol.BeaverMultiplication.prepare(MpcRuntime.correlations(sid), op,
          partition, streams.stream(k), p.shares(products[k][0]), p.shares(products[k][1]),
          p.rows());
    }

    /** This party's shares of the products of partition {@code partition} (receive stage). */
    private long[][] productShares(org.sparkmpc.spark.table.SharePartition p, int partition) {
      MpcContext ctx = MpcRuntime.context(sid);
      long[][] z = new long[products.length][];
      for (int k = 0; k < products.length; k++) {
        z[k] = org.sparkmpc.protocol.BeaverMultiplication.finish(ctx, op, partition,
            rounds.round(k), prepare(p, partition, k));
        received.add(16L * p.rows() * (ctx.parties() - 1));
      }
      return z;
    }

    /** The task if {@code child} reads a secure table directly, else null. */
    static TablePartialTask over(SparkPlan child, List<Attribute> groups, List<Attribute> shares,
        List<Attribute[]> productPairs, DataType[] keyTypes, SQLMetric rowsMetric) {
      Map<org.apache.spark.sql.catalyst.expressions.ExprId, Attribute> rename = new HashMap<>();
      SparkPlan c = child;
      if (c instanceof org.apache.spark.sql.execution.ProjectExec p) {
        for (org.apache.spark.sql.catalyst.expressions.NamedExpression ne
            : ScalaInterop.list(p.projectList())) {
          if (ne instanceof Attribute a) {
            rename.put(a.exprId(), a);
          } else if (ne instanceof org.apache.spark.sql.catalyst.expressions.Alias al
              && al.child() instanceof Attribute a) {
            rename.put(al.exprId(), a);
          } else {
            return null;
          }
        }
        c = p.child();
      }
      if (!(c instanceof SecureTableScanExec scan)) {
        return null;
      }
      org.sparkmpc.spark.table.SecureTable t = scan.table();
      int[] keys = new int[groups.size()];
      for (int i = 0; i < keys.length; i++) {
        int pos = t.position(rename.getOrDefault(groups.get(i).exprId(), groups.get(i)));
        if (pos < 0 || t.secure()[pos]) {
          return null;
        }
        keys[i] = t.index()[pos];
      }
      int[] sh = new int[shares.size()];
      for (int i = 0; i < sh.length; i++) {
        sh[i] = shareColumn(t, rename, shares.get(i));
        if (sh[i] < 0) {
          return null;
        }
      }
      int[][] prods = new int[productPairs.size()][2];
      for (int i = 0; i < prods.length; i++) {
        for (int j = 0; j < 2; j++) {
          prods[i][j] = shareColumn(t, rename, productPairs.get(i)[j]);
          if (prods[i][j] < 0) {
            return null;
          }
        }
      }
      return new TablePartialTask(t, keys, keyTypes, sh, prods, rowsMetric);
    }

    private static int shareColumn(org.sparkmpc.spark.table.SecureTable t,
        Map<org.apache.spark.sql.catalyst.expressions.ExprId, Attribute> rename, Attribute a) {
      int pos = t.position(rename.getOrDefault(a.exprId(), a));
      return pos < 0 || !t.secure()[pos] ? -1 : t.index()[pos];
    }

    Iterator<Partial> partials(Integer partition,
        Iterator<org.sparkmpc.spark.table.SharePartition> it) {
      List<Partial> out = new ArrayList<>();
      while (it.hasNext()) {
        org.sparkmpc.spark.table.SharePartition p = it.next();
        long[][] z = products.length == 0 ? new long[0][] : productShares(p, partition);
        out.add(partial(p, z));
      }
      return out.iterator();
    }

    private Partial partial(org.sparkmpc.spark.table.SharePartition p, long[][] productShares) {
      int n = p.rows();
      rowsMetric.add(n);
      // Group id = the key columns' codes in mixed radix when that stays small, else compacted.
      long span = 1;
      for (int k : keyColumns) {
        span = Math.min(Long.MAX_VALUE / 2, span * Math.max(1, p.dictionary(k).length));
      }
      int[] gid = new int[n];
      int groups;
      long[] radixOf;
      if (span <= 1 << 16) {
        for (int ki = 0; ki < keyColumns.length; ki++) {
          int[] codes = p.codes(keyColumns[ki]);
          int d = p.dictionary(keyColumns[ki]).length;
          for (int i = 0; i < n; i++) {
            gid[i] = gid[i] * d + codes[i];
          }
        }
        groups = (int) span;
        radixOf = null;
      } else {
        Map<Long, Integer> compact = new HashMap<>();
        List<Long> keys = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          long key = 0;
          for (int k : keyColumns) {
            key = key * p.dictionary(k).length + p.codes(k)[i];
          }
          Integer g = compact.get(key);
          if (g == null) {
            g = keys.size();
            compact.put(key, g);
            keys.add(key);
          }
          gid[i] = g;
        }
        groups = keys.size();
        radixOf = keys.stream().mapToLong(Long::longValue).toArray();
      }
      long[] counts = new long[groups];
      for (int i = 0; i < n; i++) {
        counts[gid[i]]++;
      }
      long[][] sums = new long[shareColumns.length + productShares.length][groups];
      for (int s = 0; s < shareColumns.length; s++) {
        Ring64.groupSum(p.shares(shareColumns[s]), gid, n, sums[s]);
      }
      for (int k = 0; k < productShares.length; k++) {
        Ring64.groupSum(productShares[k], gid, n, sums[shareColumns.length + k]);
      }
      UnsafeProjection toKey = UnsafeProjection.create(keyTypes);
      List<byte[]> keys = new ArrayList<>();
      List<Integer> used = new ArrayList<>();
      for (int g = 0; g < groups; g++) {
        if (counts[g] == 0) {
          continue;
        }
        long code = radixOf == null ? g : radixOf[g];
        Object[] values = new Object[keyColumns.length];
        for (int ki = keyColumns.length - 1; ki >= 0; ki--) {
          Object[] dict = p.dictionary(keyColumns[ki]);
          values[ki] = dict[(int) (code % dict.length)];
          code /= dict.length;
        }
        keys.add(toKey.apply(new GenericInternalRow(values)).copy().getBytes());
        used.add(g);
      }
      long[][] s2 = new long[sums.length][used.size()];
      long[] c2 = new long[used.size()];
      for (int j = 0; j < used.size(); j++) {
        c2[j] = counts[used.get(j)];
        for (int s = 0; s < sums.length; s++) {
          s2[s][j] = sums[s][used.get(j)];
        }
      }
      return new Partial(keys, s2, c2);
    }
  }

  /** Group key bytes, ordered as unsigned byte strings. */
  private static final class ByteKey implements Comparable<ByteKey> {
    final byte[] bytes;

    ByteKey(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public int compareTo(ByteKey o) {
      return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ByteKey b && Arrays.equals(bytes, b.bytes);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bytes);
    }
  }
}
