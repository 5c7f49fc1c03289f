package org.sparkmpc.spark.catalyst;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.BoundReference;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.arrow.ArrowWriter;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.ArrowUtils;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.ring.FixedPoint;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.share.AdditiveSharing;
import org.sparkmpc.share.ArrowLongs;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.SecureColumns;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * Physical operator of {@link SecureShare}: builds this party's view of a horizontally split secure
 * table, partition by partition, on Arrow columnar batches.
 *
 * <p>Layout: the table's partitions are every party's own partitions, in party order. For a partition
 * this party owns, its task encodes the secret columns (fixed point; nulls and out-of-range values
 * fail with an error naming the column and party), keeps {@code x - sum_q PRG(K(self,q))} as its
 * share, and sends the public columns and the row count to every peer: one message per partition,
 * round 0. For a partition owner {@code p} holds, the task receives p's public columns and expands
 * its shares {@code PRG(K(p,self))} locally.
 *
 * <p>The round runs as two Spark jobs: a send stage over this party's own partitions (tasks send and
 * never wait; the result is kept), then the union with the peers' partitions, whose tasks wait only
 * for the peers' send stages. A task that waited on a peer while holding an executor slot the peer's
 * progress depends on could deadlock, since Spark, not the protocol, orders tasks.
 *
 * <p>Rounds: 1 (plus the driver's plan agreement). Bytes per row: the public columns' Arrow size to
 * each peer; 0 for secret columns. Reveals: public columns and row counts per partition (public
 * metadata); nothing about secret values.
 */
public final class SecureShareExec extends SecureExec {
  private static final long serialVersionUID = 1L;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(
      SecureShareExec.class);

  private final SparkPlan child;
  private final Seq<String> secretColumns;
  private final int scaleBits;
  private final String tableId;
  private final Seq<Attribute> output;

  public SecureShareExec(SparkPlan child, Seq<String> secretColumns, int scaleBits, String tableId,
      Seq<Attribute> output) {
    this.child = child;
    this.secretColumns = secretColumns;
    this.scaleBits = scaleBits;
    this.tableId = tableId;
    this.output = output;
  }

  public String tableId() {
    return tableId;
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
    return new SecureShareExec(c.apply(0), secretColumns, scaleBits, tableId, output);
  }

  @Override
  protected Object[] fields() {
    return new Object[] {child, secretColumns, scaleBits, tableId, output};
  }

  @Override
  public RDD<InternalRow> doExecute() {
    MpcRuntime rt = runtime();
    MpcContext ctx = rt.context();
    long op = rt.nextOperatorId();
    String selfName = ctx.directory().self().name();
    List<Attribute> in = ScalaInterop.list(child.output());
    List<String> secret = ScalaInterop.list(secretColumns);

    // Column layout, and validation of the secret columns' types (before any share moves; a bad
    // column stops every party in the agreement below).
    Layout layout = new Layout();
    List<StructField> publicFields = new ArrayList<>();
    StringBuilder desc = new StringBuilder("SecureShare(" + tableId + ") public=[");
    String problem = null;
    for (String s : secret) {
      if (in.stream().noneMatch(a -> a.name().equals(s))) {
        problem = "party " + selfName + " has no column '" + s + "' to share";
      }
    }
    for (int i = 0; i < in.size(); i++) {
      Attribute a = in.get(i);
      if (secret.contains(a.name())) {
        if (!SecureTypes.isShareable(a.dataType())) {
          problem = "column '" + a.name() + "' of party " + selfName + " has type "
              + a.dataType().simpleString() + "; only numeric columns (integral, floating, "
              + "decimal) can be shared";
        }
        layout.secretOrdinals.add(i);
        layout.secretTypes.add(a.dataType());
        layout.secretNames.add(a.name());
      } else {
        layout.publicOrdinals.add(i);
        publicFields.add(new StructField(a.name(), a.dataType(), a.nullable(),
            org.apache.spark.sql.types.Metadata.empty()));
        desc.append(a.name()).append(':').append(a.dataType().simpleString()).append(' ');
      }
    }
    desc.append("] secret=[");
    for (int c = 0; c < layout.secretNames.size(); c++) {
      boolean integral = SecureTypes.isIntegral(layout.secretTypes.get(c));
      desc.append(layout.secretNames.get(c)).append('@').append(integral ? 0 : scaleBits)
          .append(' ');
    }
    desc.append(']');
    layout.publicSchema = new StructType(publicFields.toArray(new StructField[0]));
    layout.scaleBits = scaleBits;

    RDD<InternalRow> rows = child.execute();
    int myParts = rows.getNumPartitions();
    // Every party states its partition count alongside the description: public metadata.
    String mine = desc + "\npartitions=" + myParts;
    if (problem != null) {
      MpcInputException e = new MpcInputException(problem);
      ctx.abort(op, e);
      throw e;
    }
    int[] parts = agreeWithPartitionCounts(ctx, op, desc.toString(), myParts);

    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sparkContext());
    List<JavaRDD<InternalRow>> segments = new ArrayList<>();
    int offset = 0;
    SQLMetric sent = metric("bytesSent");
    SQLMetric received = metric("bytesReceived");
    SQLMetric rowsMetric = metric("rows");
    String sid = ctx.sessionId();
    int myOffset = 0;
    for (int p = 0; p < ctx.self(); p++) {
      myOffset += parts[p];
    }
    // Send stage: a job of this party's own partitions, whose tasks send and never wait. Its output
    // (public columns and this party's shares) is kept, so the receive stage below never blocks a
    // task slot that a peer's progress depends on.
    JavaRDD<InternalRow> own = rows.toJavaRDD().mapPartitionsWithIndex(
        new OwnerTask(sid, op, myOffset, layout, selfName, output, sent, rowsMetric), false);
    own.persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
    long sendStart = System.nanoTime();
    own.count();
    LOG.info("operator {} ({}): send stage of {} partitions took {} ms", op, tableId, myParts,
        (System.nanoTime() - sendStart) / 1_000_000);
    rt.keepOwnSegment(tableId, own);
    for (int p = 0; p < ctx.parties(); p++) {
      if (p == ctx.self()) {
        segments.add(own);
      } else {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < parts[p]; i++) {
          idx.add(i);
        }
        segments.add(jsc.parallelize(idx, Math.max(1, parts[p])).mapPartitionsWithIndex(
            new PeerTask(sid, op, offset, p, layout, output, received, rowsMetric), false));
      }
      offset += parts[p];
    }
    metric("rounds").add(1);
    postDriverMetrics();
    // Receive stage: the union in party order; peers' partitions wait only for the peers' send
    // stages, which finish on their own.
    return jsc.union(ScalaInterop.seq(segments)).rdd();
  }

  private int[] agreeWithPartitionCounts(MpcContext ctx, long op, String description, int myParts) {
    agree(ctx, op, description);
    byte[][] counts = ctx.exchangeAll(op, -1, 1, ByteBuffer.allocate(4).putInt(myParts).array());
    int[] parts = new int[ctx.parties()];
    for (int q = 0; q < parts.length; q++) {
      if (counts[q].length != 4) {
        throw new ProtocolException("party '" + ctx.directory().name(q)
            + "' sent a malformed partition count for operator " + op);
      }
      parts[q] = ByteBuffer.wrap(counts[q]).getInt();
    }
    return parts;
  }

  /** Where the public and secret columns sit in the child's rows. Serializable task state. */
  static final class Layout implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    final List<Integer> publicOrdinals = new ArrayList<>();
    final List<Integer> secretOrdinals = new ArrayList<>();
    final List<DataType> secretTypes = new ArrayList<>();
    final List<String> secretNames = new ArrayList<>();
    StructType publicSchema;
    int scaleBits;

    int secretCount() {
      return secretOrdinals.size();
    }
  }

  /** Task for a partition this party owns. */
  static final class OwnerTask
      implements Function2<Integer, Iterator<InternalRow>, Iterator<InternalRow>> {
    private static final long serialVersionUID = 1L;
    private final String sid;
    private final long op;
    private final int offset;
    private final Layout layout;
    private final String selfName;
    private final Seq<Attribute> output;
    private final SQLMetric sent;
    private final SQLMetric rowsMetric;

    OwnerTask(String sid, long op, int offset, Layout layout, String selfName, Seq<Attribute> output,
        SQLMetric sent, SQLMetric rowsMetric) {
      this.sid = sid;
      this.op = op;
      this.offset = offset;
      this.layout = layout;
      this.selfName = selfName;
      this.output = output;
      this.sent = sent;
      this.rowsMetric = rowsMetric;
    }

    @Override
    public Iterator<InternalRow> call(Integer localIndex, Iterator<InternalRow> it) {
      MpcContext ctx = MpcRuntime.context(sid);
      int partition = offset + localIndex;
      BufferAllocator alloc = taskAllocator("share-" + op + "-" + partition);
      try {
        // Kept by the send stage's cache, hence copied.
        return rows(share(ctx, partition, localIndex, it, alloc), output, true);
      } catch (RuntimeException e) {
        ctx.abort(op, e);
        throw e;
      }
    }

    private ColumnarBatch share(MpcContext ctx, int partition, int localIndex,
        Iterator<InternalRow> it, BufferAllocator alloc) {
      int k = layout.secretCount();
      FixedPoint fp = new FixedPoint(layout.scaleBits);
      long[][] secret = new long[k][1024];
      List<Expression> refs = new ArrayList<>();
      StructField[] pf = layout.publicSchema.fields();
      for (int i = 0; i < pf.length; i++) {
        refs.add(new BoundReference(layout.publicOrdinals.get(i), pf[i].dataType(), true));
      }
      UnsafeProjection proj = UnsafeProjection.create(ScalaInterop.seq(refs));
      VectorSchemaRoot root = VectorSchemaRoot.create(arrowSchema(layout.publicSchema), alloc);
      ArrowWriter writer = ArrowWriter.create(root);
      int n = 0;
      while (it.hasNext()) {
        InternalRow r = it.next();
        if (k > 0 && n == secret[0].length) {
          for (int c = 0; c < k; c++) {
            secret[c] = Arrays.copyOf(secret[c], secret[c].length * 2);
          }
        }
        for (int c = 0; c < k; c++) {
          int ord = layout.secretOrdinals.get(c);
          String name = layout.secretNames.get(c);
          if (r.isNullAt(ord)) {
            throw new MpcInputException("column '" + name + "' of party " + selfName
                + " has a null (row " + n + " of its partition " + localIndex + "); secure "
                + "columns may not hold nulls: filter or fill them before sharing");
          }
          secret[c][n] = encode(r, ord, layout.secretTypes.get(c), fp, name);
        }
        writer.write(proj.apply(r));
        n++;
      }
      writer.finish();
      root.setRowCount(n);
      byte[] payload = ipc(root, n);
      for (int q = 0; q < ctx.parties(); q++) {
        if (q != ctx.self()) {
          ctx.channel().send(q, ctx.key(op, partition, 0), payload);
          sent.add(payload.length);
        }
      }
      for (int c = 0; c < k; c++) {
        AdditiveSharing.shareOwnInPlace(ctx, op, partition, c, secret[c], n);
      }
      rowsMetric.add(n);
      return batch(layout, root, secret, n, alloc);
    }

    private static long encode(InternalRow r, int ord, DataType t, FixedPoint fp, String name) {
      if (t instanceof IntegerType) {
        return r.getInt(ord);
      } else if (t instanceof org.apache.spark.sql.types.LongType) {
        return r.getLong(ord);
      } else if (t instanceof ShortType) {
        return r.getShort(ord);
      } else if (t instanceof ByteType) {
        return r.getByte(ord);
      } else if (t instanceof FloatType) {
        return fp.encode((double) r.getFloat(ord), name);
      } else if (t instanceof DecimalType d) {
        return fp.encode(r.getDecimal(ord, d.precision(), d.scale()).toDouble(), name);
      } else {
        return fp.encode(r.getDouble(ord), name);
      }
    }
  }

  /** Task for a partition another party owns. */
  static final class PeerTask
      implements Function2<Integer, Iterator<Integer>, Iterator<InternalRow>> {
    private static final long serialVersionUID = 1L;
    private final String sid;
    private final long op;
    private final int offset;
    private final int owner;
    private final Layout layout;
    private final Seq<Attribute> output;
    private final SQLMetric received;
    private final SQLMetric rowsMetric;

    PeerTask(String sid, long op, int offset, int owner, Layout layout, Seq<Attribute> output,
        SQLMetric received, SQLMetric rowsMetric) {
      this.sid = sid;
      this.op = op;
      this.offset = offset;
      this.owner = owner;
      this.layout = layout;
      this.output = output;
      this.received = received;
      this.rowsMetric = rowsMetric;
    }

    @Override
    public Iterator<InternalRow> call(Integer localIndex, Iterator<Integer> ignored) {
      MpcContext ctx = MpcRuntime.context(sid);
      int partition = offset + localIndex;
      BufferAllocator alloc = taskAllocator("share-" + op + "-" + partition);
      byte[] payload = ctx.channel().receive(
          new org.sparkmpc.net.MessageKey(sid, op, partition, 0, owner), ctx.timeout());
      received.add(payload.length);
      String ownerName = ctx.directory().name(owner);
      if (payload.length < 8) {
        throw new ProtocolException("party '" + ownerName + "' sent a malformed share message for "
            + "operator " + op + ", partition " + partition);
      }
      int n = (int) ByteBuffer.wrap(payload, 0, 8).getLong();
      VectorSchemaRoot root;
      try {
        ArrowStreamReader reader = new ArrowStreamReader(
            new ByteArrayInputStream(payload, 8, payload.length - 8), alloc);
        TaskContext tc = TaskContext.get();
        if (tc != null) {
          tc.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) t -> closeQuietly(reader));
        }
        root = reader.getVectorSchemaRoot();
        if (!reader.loadNextBatch() && n > 0) {
          throw new ProtocolException("party '" + ownerName + "' sent no rows for partition "
              + partition + " of operator " + op);
        }
      } catch (IOException e) {
        throw new ProtocolException("party '" + ownerName + "' sent unreadable public columns for "
            + "operator " + op + ", partition " + partition, e);
      }
      if (!root.getSchema().equals(arrowSchema(layout.publicSchema)) || root.getRowCount() != n) {
        throw new ProtocolException("party '" + ownerName + "' shared a table whose public "
            + "columns or row count differ from this party's for operator " + op + ", partition "
            + partition + " (expected " + layout.publicSchema.simpleString() + ")");
      }
      long[][] secret = new long[layout.secretCount()][];
      for (int c = 0; c < secret.length; c++) {
        secret[c] = AdditiveSharing.peerShare(ctx, owner, op, partition, c, n);
      }
      rowsMetric.add(n);
      return rows(batch(layout, root, secret, n, alloc), output, false);
    }
  }

  /** The rows of an Arrow batch as unsafe rows (copied when the consumer keeps them). */
  private static Iterator<InternalRow> rows(ColumnarBatch batch, Seq<Attribute> output,
      boolean copy) {
    UnsafeProjection proj = UnsafeProjection.create(ScalaInterop.list(output).stream()
        .map(Attribute::dataType).toArray(DataType[]::new));
    Iterator<InternalRow> it = batch.rowIterator();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public InternalRow next() {
        InternalRow r = proj.apply(it.next());
        return copy ? r.copy() : r;
      }
    };
  }

  private static Schema arrowSchema(StructType schema) {
    return ArrowUtils.toArrowSchema(schema, "UTC", true, false);
  }

  private static byte[] ipc(VectorSchemaRoot root, long n) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ByteBuffer.allocate(8).putLong(n).array());
    try (ArrowStreamWriter w = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      w.start();
      w.writeBatch();
      w.end();
    } catch (IOException e) {
      throw new IllegalStateException("could not serialise public columns", e);
    }
    return out.toByteArray();
  }

  /** Output batch in the node's column order: public vectors from Arrow, shares as BigInt vectors. */
  private static ColumnarBatch batch(Layout layout, VectorSchemaRoot root, long[][] secret, int n,
      BufferAllocator alloc) {
    int total = layout.publicOrdinals.size() + layout.secretOrdinals.size();
    ColumnVector[] cols = new ColumnVector[total];
    int pi = 0;
    int si = 0;
    for (int i = 0; i < total; i++) {
      if (si < layout.secretOrdinals.size() && layout.secretOrdinals.get(si) == i) {
        cols[i] = new ArrowColumnVector(ArrowLongs.fromArray(alloc, layout.secretNames.get(si),
            secret[si], n));
        si++;
      } else {
        cols[i] = new ArrowColumnVector(root.getVector(pi));
        pi++;
      }
    }
    ColumnarBatch batch = new ColumnarBatch(cols, n);
    TaskContext tc = TaskContext.get();
    if (tc != null) {
      // Listeners run last-registered first: the vectors are released before the allocator.
      tc.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) t -> batch.close());
    }
    return batch;
  }

  /** A child allocator freed when the task completes (Arrow complains there about any leak). */
  static BufferAllocator taskAllocator(String name) {
    BufferAllocator alloc = ArrowUtils.rootAllocator().newChildAllocator(name, 0, Long.MAX_VALUE);
    TaskContext tc = TaskContext.get();
    if (tc != null) {
      tc.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) t -> alloc.close());
    }
    return alloc;
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception ignored) {
      // closing a reader whose buffers are already released
    }
  }
}
