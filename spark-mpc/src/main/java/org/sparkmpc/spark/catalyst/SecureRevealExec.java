package org.sparkmpc.spark.catalyst;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.apache.spark.sql.types.DataType;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.share.Reveal;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.SecureColumns;
import org.sparkmpc.spark.types.ShareType;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * Physical operator of a {@link SecureReveal} over rows (not fused into an aggregate): opens every
 * secure column of each partition in one message per partition to each recipient, and decodes the
 * fixed-point values. Public columns pass through. Non-recipients produce no rows.
 *
 * <p>The round runs as two Spark jobs (send stage, then receive stage) so that no task waits on a
 * peer while holding a slot the peer's progress needs.
 *
 * <p>Rounds: the plan agreement, then 1 per partition (all partitions in parallel). Bytes: 8 per
 * secure value to each recipient. Reveals: the secure columns' values to the recipients, which is
 * what the query declared.
 */
public final class SecureRevealExec extends SecureExec {
  private static final long serialVersionUID = 1L;

  private final Seq<String> recipients;
  private final Seq<Attribute> output;
  private final SparkPlan child;

  public SecureRevealExec(Seq<String> recipients, Seq<Attribute> output, SparkPlan child) {
    this.recipients = recipients;
    this.output = output;
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
    return new SecureRevealExec(recipients, output, c.apply(0));
  }

  @Override
  protected Object[] fields() {
    return new Object[] {recipients, output, child};
  }

  @Override
  public RDD<InternalRow> doExecute() {
    MpcRuntime rt = runtime();
    MpcContext ctx = rt.context();
    List<String> to = ScalaInterop.list(recipients);
    List<Attribute> in = ScalaInterop.list(child.output());
    int minGroup = minGroupSize(this);
    String desc = "SecureReveal to=" + (to.isEmpty() ? "all" : to.toString())
        + (minGroup > 0 ? " minGroupSize=" + minGroup : "") + " input=" + describeInput(child, rt);
    PolicyUse.check(rt, nodeName(), child, to, !aggregated(child), minGroup);
    OperatorScope scope = begin(rt, desc);
    long op = scope.id();
    if (minGroup > 0 && !aggregated(child)) {
      org.sparkmpc.MpcInputException e = new org.sparkmpc.MpcInputException(
          org.sparkmpc.spark.MpcConf.MIN_GROUP_SIZE.key() + "=" + minGroup + " allows opening only "
              + "aggregates of groups of at least that size, and this reveals rows of a secure "
              + "table that are not aggregated");
      ctx.abort(op, e);
      throw e;
    }
    postDriverMetrics();
    int n = in.size();
    boolean[] secure = new boolean[n];
    DataType[] outTypes = new DataType[n];
    List<Attribute> outAttrs = ScalaInterop.list(output);
    for (int i = 0; i < n; i++) {
      Attribute a = in.get(i);
      secure[i] = SecureColumns.isSecure(a);
      outTypes[i] = outAttrs.get(i).dataType();
    }
    int[] idx = to.isEmpty() ? null : to.stream().mapToInt(ctx.directory()::indexOf).toArray();
    Task task = new Task(ctx.sessionId(), op, scope.round("reveal"), idx, secure, in.stream()
        .map(a -> a.dataType() instanceof ShareType t ? t : null).toArray(ShareType[]::new),
        in.stream().map(Attribute::name).toArray(String[]::new), in.stream()
        .map(Attribute::dataType).toArray(DataType[]::new), outTypes, metric("bytesSent"),
        metric("bytesReceived"), metric("rows"));
    // Send stage: every partition's shares go out in a job whose tasks never wait on a peer. The
    // receive stage then recomputes the child's partitions (a cached secure table, deterministic)
    // and waits only for the peers' send stages. It runs when the query consumes the result, so
    // the messages are released at the end of the query, if nothing can compute it again.
    org.apache.spark.api.java.JavaRDD<InternalRow> input = child.execute().toJavaRDD();
    input.mapPartitionsWithIndex(task::send, false).count();
    RDD<InternalRow> received = input.mapPartitionsWithIndex(task::receive, false).rdd();
    rt.releaseMessagesAfterQuery(scope, received);
    return received;
  }

  /** Whether {@code plan} reads a secure aggregate (whose small groups are already left out). */
  private static boolean aggregated(SparkPlan plan) {
    if (plan instanceof SecureHashAggregateExec) {
      return true;
    }
    for (SparkPlan c : ScalaInterop.list(plan.children())) {
      if (aggregated(c)) {
        return true;
      }
    }
    return false;
  }

  /** Reveal of one partition. */
  static final class Task implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final String sid;
    private final long op;
    private final int round;
    private final int[] recipients;
    private final boolean[] secure;
    private final ShareType[] shareTypes;
    private final String[] names;
    private final DataType[] inTypes;
    private final DataType[] outTypes;
    private final SQLMetric sent;
    private final SQLMetric received;
    private final SQLMetric rowsMetric;

    Task(String sid, long op, int round, int[] recipients, boolean[] secure,
        ShareType[] shareTypes, String[] names,
        DataType[] inTypes, DataType[] outTypes, SQLMetric sent, SQLMetric received,
        SQLMetric rowsMetric) {
      this.sid = sid;
      this.op = op;
      this.round = round;
      this.recipients = recipients;
      this.secure = secure;
      this.shareTypes = shareTypes;
      this.names = names;
      this.inTypes = inTypes;
      this.outTypes = outTypes;
      this.sent = sent;
      this.received = received;
      this.rowsMetric = rowsMetric;
    }

    /** Send stage: this party's shares of the partition, to every recipient. Never waits. */
    Iterator<Integer> send(Integer partition, Iterator<InternalRow> it) {
      MpcContext ctx = MpcRuntime.context(sid);
      List<InternalRow> rows = collect(it);
      long[] flat = shares(rows);
      int[] to = recipients == null ? allParties(ctx.parties()) : recipients;
      Reveal.send(ctx, op, partition, round, flat, flat.length, to);
      sent.add((long) flat.length * 8 * countOthers(ctx.self(), to));
      rowsMetric.add(rows.size());
      return java.util.Collections.emptyIterator();
    }

    /** Receive stage: at a recipient, the peers' shares are added to this party's and decoded. */
    Iterator<InternalRow> receive(Integer partition, Iterator<InternalRow> it) {
      MpcContext ctx = MpcRuntime.context(sid);
      int[] to = recipients == null ? allParties(ctx.parties()) : recipients;
      if (java.util.Arrays.stream(to).noneMatch(r -> r == ctx.self())) {
        return java.util.Collections.emptyIterator();
      }
      List<InternalRow> rows = collect(it);
      long[] flat = shares(rows);
      int m = rows.size();
      long[] values = Reveal.receive(ctx, op, partition, round, flat, flat.length);
      received.add((long) flat.length * 8 * (ctx.parties() - 1));
      UnsafeProjection toUnsafe = UnsafeProjection.create(outTypes);
      List<InternalRow> out = new ArrayList<>(m);
      for (int r = 0; r < m; r++) {
        Object[] vals = new Object[secure.length];
        int s = 0;
        for (int i = 0; i < secure.length; i++) {
          if (secure[i]) {
            vals[i] = shareTypes[i].decode(values[s * m + r], 1, names[i]);
            s++;
          } else {
            vals[i] = rows.get(r).get(i, inTypes[i]);
          }
        }
        out.add(toUnsafe.apply(new GenericInternalRow(vals)).copy());
      }
      return out.iterator();
    }

    private static List<InternalRow> collect(Iterator<InternalRow> it) {
      List<InternalRow> rows = new ArrayList<>();
      while (it.hasNext()) {
        rows.add(it.next().copy());
      }
      return rows;
    }

    /** The secure columns of {@code rows}, column after column. */
    private long[] shares(List<InternalRow> rows) {
      int m = rows.size();
      List<Integer> sec = new ArrayList<>();
      for (int i = 0; i < secure.length; i++) {
        if (secure[i]) {
          sec.add(i);
        }
      }
      long[] flat = new long[m * sec.size()];
      for (int s = 0; s < sec.size(); s++) {
        int ord = sec.get(s);
        for (int r = 0; r < m; r++) {
          flat[s * m + r] = rows.get(r).getLong(ord);
        }
      }
      return flat;
    }

    private static int[] allParties(int n) {
      int[] all = new int[n];
      for (int i = 0; i < n; i++) {
        all[i] = i;
      }
      return all;
    }

    private static long countOthers(int self, int[] to) {
      long c = 0;
      for (int r : to) {
        if (r != self) {
          c++;
        }
      }
      return c;
    }
  }
}
