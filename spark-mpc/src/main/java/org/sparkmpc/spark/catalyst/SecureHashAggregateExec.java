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
import org.sparkmpc.ring.FixedPoint;
import org.sparkmpc.ring.Ring64;
import org.sparkmpc.session.MpcContext;
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
 */
public final class SecureHashAggregateExec extends SecureExec {
  private static final long serialVersionUID = 1L;

  private final Seq<Attribute> grouping;
  private final Seq<String> kinds;
  private final Seq<Attribute> inputs;
  private final Seq<Attribute> output;
  private final boolean reveal;
  private final Seq<String> recipients;
  private final SparkPlan child;

  public SecureHashAggregateExec(Seq<Attribute> grouping, Seq<String> kinds, Seq<Attribute> inputs,
      Seq<Attribute> output, boolean reveal, Seq<String> recipients, SparkPlan child) {
    this.grouping = grouping;
    this.kinds = kinds;
    this.inputs = inputs;
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
    return new SecureHashAggregateExec(grouping, kinds, inputs, output, reveal, recipients,
        c.apply(0));
  }

  @Override
  protected Object[] fields() {
    return new Object[] {grouping, kinds, inputs, output, reveal, recipients, child};
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
    List<Attribute> groups = ScalaInterop.list(grouping);
    List<Attribute> out = ScalaInterop.list(output);
    List<String> to = ScalaInterop.list(recipients);
    long op = rt.beginOperator();
    if (!reveal && k.contains("AVG")) {
      MpcInputException e = new MpcInputException("AVG of a secure column must be revealed in the "
          + "same query (reveal(AVG(x)) or SparkMpc.reveal(df)); a secret-shared average would "
          + "need secure division");
      ctx.abort(op, e);
      throw e;
    }
    StringBuilder desc = new StringBuilder("SecureAggregate group=").append(names(grouping))
        .append(" out=[");
    for (int i = 0; i < k.size(); i++) {
      desc.append(k.get(i)).append('(').append(in.get(i).name()).append(") ");
    }
    desc.append("] reveal=").append(reveal ? (to.isEmpty() ? "all" : to.toString()) : "none")
        .append(" input=").append(describeInput(child, rt));
    agree(ctx, op, desc.toString());

    // Which child columns feed the sums: the distinct secure inputs.
    List<Attribute> childOut = ScalaInterop.list(child.output());
    List<Integer> shareOrdinals = new ArrayList<>();
    int[] shareSlot = new int[k.size()];
    for (int i = 0; i < k.size(); i++) {
      shareSlot[i] = -1;
      if (k.get(i).equals("SUM") || k.get(i).equals("AVG")) {
        int ord = ordinal(childOut, in.get(i));
        int slot = shareOrdinals.indexOf(ord);
        if (slot < 0) {
          slot = shareOrdinals.size();
          shareOrdinals.add(ord);
        }
        shareSlot[i] = slot;
      }
    }
    int[] keyOrdinals = groups.stream().mapToInt(g -> ordinal(childOut, g)).toArray();
    DataType[] keyTypes = groups.stream().map(Attribute::dataType).toArray(DataType[]::new);
    int[] shareOrds = shareOrdinals.stream().mapToInt(Integer::intValue).toArray();

    SQLMetric rowsMetric = metric("rows");
    PartialTask task = new PartialTask(keyOrdinals, keyTypes, shareOrds, rowsMetric);
    List<Partial> partials;
    SparkPlan columnar = columnarSource(child);
    TablePartialTask direct = TablePartialTask.over(child, groups,
        shareOrdinals.stream().map(childOut::get).toList(), keyTypes, rowsMetric);
    if (direct != null) {
      partials = direct.table.partitions().mapPartitions(direct::partials).collect();
    } else if (columnar != null) {
      partials = columnar.executeColumnar().toJavaRDD().mapPartitions(task::fromBatches).collect();
    } else {
      partials = child.execute().toJavaRDD().mapPartitions(task::fromRows).collect();
    }

    // Merge by key bytes; TreeMap gives the byte order every party shares.
    TreeMap<ByteKey, long[]> merged = new TreeMap<>();
    int width = shareOrds.length + 1; // sums..., count
    for (Partial p : partials) {
      for (int g = 0; g < p.keys.size(); g++) {
        long[] acc = merged.computeIfAbsent(new ByteKey(p.keys.get(g)), x -> new long[width]);
        for (int s = 0; s < shareOrds.length; s++) {
          acc[s] += p.sums[s][g];
        }
        acc[width - 1] += p.counts[g];
      }
    }
    if (groups.isEmpty() && merged.isEmpty()) {
      merged.put(new ByteKey(emptyKey()), new long[width]); // global aggregate over no rows
    }
    int ng = merged.size();
    List<byte[]> keys = new ArrayList<>(ng);
    long[] flat = new long[ng * shareOrds.length];
    long[] counts = new long[ng];
    int g = 0;
    for (Map.Entry<ByteKey, long[]> e : merged.entrySet()) {
      keys.add(e.getKey().bytes);
      for (int s = 0; s < shareOrds.length; s++) {
        flat[s * ng + g] = e.getValue()[s];
      }
      counts[g] = e.getValue()[width - 1];
      g++;
    }

    long[] values = flat;
    boolean recipient = true;
    if (reveal) {
      int[] idx = to.isEmpty() ? null : to.stream().mapToInt(ctx.directory()::indexOf).toArray();
      values = idx == null ? Reveal.toAll(ctx, op, 0, 0, flat, flat.length)
          : Reveal.toParties(ctx, op, 0, 0, flat, flat.length, idx);
      recipient = values != null;
      long bytes = (long) flat.length * 8;
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
          vals[i] = value(k.get(i), i, gi, ng, shareSlot, values, counts, keyRow, groups, in, out);
        }
        rows.add(toUnsafe.apply(new GenericInternalRow(vals)).copy());
      }
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sparkContext());
    return jsc.parallelize(rows, 1).rdd();
  }

  private Object value(String kind, int i, int gi, int ng, int[] shareSlot, long[] values,
      long[] counts, UnsafeRow keyRow, List<Attribute> groups, List<Attribute> in,
      List<Attribute> out) {
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
        if (counts[gi] == 0) {
          return null; // SUM and AVG of no rows are NULL, as in Spark
        }
        FixedPoint fp = new FixedPoint(SecureColumns.scale(in.get(i).metadata()));
        boolean integral = "long".equals(SecureColumns.plainType(in.get(i).metadata()));
        if (kind.equals("AVG")) {
          return fp.decodeDiv(v, counts[gi]);
        }
        return integral ? (Object) v : (Object) fp.decode(v);
      }
    }
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
    private final SQLMetric rowsMetric;

    private TablePartialTask(org.sparkmpc.spark.table.SecureTable table, int[] keyColumns,
        DataType[] keyTypes, int[] shareColumns, SQLMetric rowsMetric) {
      this.table = table;
      this.keyColumns = keyColumns;
      this.keyTypes = keyTypes;
      this.shareColumns = shareColumns;
      this.rowsMetric = rowsMetric;
    }

    /** The task if {@code child} reads a secure table directly, else null. */
    static TablePartialTask over(SparkPlan child, List<Attribute> groups, List<Attribute> shares,
        DataType[] keyTypes, SQLMetric rowsMetric) {
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
        int pos = t.position(rename.getOrDefault(shares.get(i).exprId(), shares.get(i)));
        if (pos < 0 || !t.secure()[pos]) {
          return null;
        }
        sh[i] = t.index()[pos];
      }
      return new TablePartialTask(t, keys, keyTypes, sh, rowsMetric);
    }

    Iterator<Partial> partials(Iterator<org.sparkmpc.spark.table.SharePartition> it) {
      List<Partial> out = new ArrayList<>();
      while (it.hasNext()) {
        out.add(partial(it.next()));
      }
      return out.iterator();
    }

    private Partial partial(org.sparkmpc.spark.table.SharePartition p) {
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
      long[][] sums = new long[shareColumns.length][groups];
      for (int s = 0; s < shareColumns.length; s++) {
        Ring64.groupSum(p.shares(shareColumns[s]), gid, n, sums[s]);
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
