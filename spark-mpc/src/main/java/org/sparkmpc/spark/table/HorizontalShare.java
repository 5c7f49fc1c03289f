package org.sparkmpc.spark.table;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.util.ArrowUtils;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.net.MessageKey;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.ring.FixedPoint;
import org.sparkmpc.ring.Ring64;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.share.AdditiveSharing;
import org.sparkmpc.spark.MpcConf;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.types.ShareType;
import org.sparkmpc.spark.catalyst.ScalaInterop;
import org.sparkmpc.spark.catalyst.SecureTypes;

/**
 * Sharing of horizontally split data: every party contributes its own rows, and every party ends up
 * holding the union of all parties' rows, in party order, with the secret columns as its additive
 * shares and the public columns as they are.
 *
 * <p>Layout: the table's partitions are every party's own partitions, in party order. For a partition
 * this party owns, its task encodes the secret columns in fixed point (nulls and out-of-range values
 * fail naming the column and the party), keeps {@code x - sum_q PRG(K(self,q))} as its share, and
 * sends the public columns, dictionary-coded, to every peer. For a partition party {@code p} owns,
 * the task receives p's public columns and expands its shares {@code PRG(K(p,self))} locally.
 *
 * <p>The round runs as two Spark jobs: a send stage over this party's own partitions, whose tasks
 * send and never wait (its output is kept), then the receive stage for the peers' partitions, whose
 * tasks wait only for the peers' send stages. A task that waited on a peer while holding an executor
 * slot the peer's progress depends on could deadlock: Spark, not the protocol, orders tasks.
 *
 * <p>Rounds: 1 (plus the plan agreement). Bytes per row to each peer: the public columns' codes
 * (one byte for up to 256 distinct values) plus their dictionaries; 0 for secret columns. Reveals:
 * public columns and row counts (public metadata), nothing about the secret values.
 */
public final class HorizontalShare {
  private static final Logger LOG = LoggerFactory.getLogger(HorizontalShare.class);

  private HorizontalShare() {}

  /** Share {@code own} (this party's rows) as table {@code tableId}; blocks until materialised. */
  public static SecureTable share(MpcRuntime rt, Dataset<Row> own, List<String> secret,
      int scaleBits, String tableId) {
    MpcContext ctx = rt.context();
    String self = ctx.directory().self().name();
    OperatorScope scope = rt.beginOperator("HorizontalShare");
    long op = scope.id();
    StructField[] fields = own.schema().fields();

    Layout layout = new Layout();
    Attribute[] output = new Attribute[fields.length];
    boolean[] secure = new boolean[fields.length];
    int[] index = new int[fields.length];
    StringBuilder desc = new StringBuilder("Share(" + tableId + ") columns=[");
    String problem = SecureTypes.sharesIn(own.schema(), null, self, "share");
    for (String s : secret) {
      if (problem == null && Arrays.stream(fields).noneMatch(f -> f.name().equals(s))) {
        problem = "party " + self + " has no column '" + s + "' to share";
      }
    }
    for (int i = 0; i < fields.length; i++) {
      StructField f = fields[i];
      DataType t = f.dataType();
      if (secret.contains(f.name())) {
        boolean integral = SecureTypes.isIntegral(t);
        if (!SecureTypes.isShareable(t) && problem == null) {
          problem = "column '" + f.name() + "' of party " + self + " has type " + t.simpleString()
              + "; only numeric columns (integral, floating, decimal) can be shared";
        }
        secure[i] = true;
        index[i] = layout.secretOrdinals.size();
        layout.secretOrdinals.add(i);
        layout.secretTypes.add(t);
        layout.secretNames.add(f.name());
        boolean wide = SecureTypes.typeBits(t, scaleBits) > 31;
        layout.wide.add(wide);
        desc.append(f.name()).append(":secure@").append(integral ? 0 : scaleBits)
            .append(wide ? "/wide " : " ");
      } else {
        if (!PublicColumns.supported(t) && problem == null) {
          problem = PublicColumns.unsupported(f.name(), t, self).getMessage();
        }
        index[i] = layout.publicOrdinals.size();
        layout.publicOrdinals.add(i);
        layout.publicTypes.add(t);
        output[i] = new AttributeReference(f.name(), t, f.nullable(), Metadata.empty(),
            NamedExpression.newExprId(), ScalaInterop.seqOf());
        desc.append(f.name()).append(':').append(t.simpleString()).append(' ');
      }
    }
    String bounds = MpcConf.SHARE_BOUNDS.get(own.sparkSession());
    desc.append("] bounds=").append(bounds);
    layout.scaleBits = scaleBits;
    layout.shareRound = scope.round("public columns");
    layout.streams = scope.streams("secret columns", layout.secretOrdinals.size());
    if (problem != null) {
      MpcInputException e = new MpcInputException(problem);
      ctx.abort(op, e);
      throw e;
    }

    // Spark's columnar batches where the input gives them (a cached table, Parquet), else rows.
    org.apache.spark.rdd.RDD<ColumnarBatch> batches = OwnColumns.batches(own, layout);
    @SuppressWarnings("unchecked")
    JavaRDD<Object> rows = (JavaRDD<Object>) (JavaRDD<?>) (batches != null ? batches.toJavaRDD()
        : own.queryExecution().toRdd().toJavaRDD());
    LOG.debug("operator {}: reading the input {}", op, batches != null ? "columnar" : "by rows");
    int myParts = rows.getNumPartitions();
    ctx.agree(op, desc.toString());
    int[] parts = partitionCounts(ctx, op, scope.round("partition counts"), myParts);
    int myOffset = 0;
    for (int p = 0; p < ctx.self(); p++) {
      myOffset += parts[p];
    }

    String sid = ctx.sessionId();
    long t0 = System.nanoTime();
    JavaRDD<SharePartition> mine = rows.mapPartitionsWithIndex(
        new OwnerTask(sid, op, myOffset, layout, self), false);
    mine.persist(StorageLevel.MEMORY_AND_DISK());
    int k = layout.secretOrdinals.size();
    List<int[]> ownBits = mine.map(p -> {
      int[] b = new int[k];
      for (int c = 0; c < k; c++) {
        b[c] = p.bits(c);
      }
      return b;
    }).collect();
    int[] bits = agreeBounds(bounds, ctx, op, scope.round("column bounds"), ownBits, k, c -> SecureTypes.typeBits(
        layout.secretTypes.get(c), scaleBits));
    for (int c = 0; c < k; c++) {
      int i = layout.secretOrdinals.get(c);
      boolean integral = SecureTypes.isIntegral(layout.secretTypes.get(c));
      output[i] = new AttributeReference(fields[i].name(), ShareType.column(
          integral ? 0 : scaleBits, integral, tableId, bits[c]), false, Metadata.empty(),
          NamedExpression.newExprId(), ScalaInterop.seqOf());
    }
    long t1 = System.nanoTime();

    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(own.sparkSession().sparkContext());
    List<JavaRDD<SharePartition>> segments = new ArrayList<>();
    int offset = 0;
    for (int p = 0; p < ctx.parties(); p++) {
      if (p == ctx.self()) {
        segments.add(mine);
      } else {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < parts[p]; i++) {
          idx.add(i);
        }
        JavaRDD<SharePartition> peer = jsc.parallelize(idx, Math.max(1, parts[p]))
            .mapPartitionsWithIndex(new PeerTask(sid, op, offset, p, layout), false);
        peer.persist(StorageLevel.MEMORY_AND_DISK());
        segments.add(peer);
      }
      offset += parts[p];
    }
    // The union is not cached itself: each partition lives in exactly one block (its segment's),
    // so that Spark closing a block never frees vectors another block still holds.
    JavaRDD<SharePartition> table = jsc.union(ScalaInterop.seq(segments));
    List<Integer> counts = table.map(SharePartition::rows).collect();
    long t2 = System.nanoTime();
    LOG.info("operator {} ({}): send stage {} ms, receive stage {} ms, {} partitions", op, tableId,
        (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, counts.size());
    long[] contract = counts.stream().mapToLong(Integer::longValue).toArray();
    boolean[] wide = new boolean[k];
    for (int c = 0; c < k; c++) {
      wide[c] = layout.wide.get(c);
    }
    return new SecureTable(tableId, Arrays.asList(output), secure, index, table, contract, wide);
  }

  /**
   * The public magnitude bound of each secure column ({@code spark.mpc.share.bounds}): with
   * {@code observed}, the largest bit length over every party's values, from one driver round in
   * which each party sends, per column, the bit length of its own largest value (the only thing
   * this round reveals); with {@code type}, the bound of the column's type, and no round.
   *
   * @param ownBits per partition this party owns, per column, the bound of its values there
   */
  public static int[] agreeBounds(String mode, MpcContext ctx, long op, int round,
      List<int[]> ownBits, int columns, java.util.function.IntUnaryOperator typeBits) {
    int[] bits = new int[columns];
    if (mode.equals("type")) {
      for (int c = 0; c < columns; c++) {
        bits[c] = typeBits.applyAsInt(c);
      }
      return bits;
    }
    ByteBuffer mine = ByteBuffer.allocate(4 * columns);
    for (int c = 0; c < columns; c++) {
      int b = 0;
      for (int[] p : ownBits) {
        b = Math.max(b, p[c]);
      }
      mine.putInt(b);
    }
    byte[][] all = ctx.exchangeAll(op, Coordinates.DRIVER_PARTITION, round, mine.array());
    for (int q = 0; q < all.length; q++) {
      if (all[q].length != 4 * columns) {
        throw new ProtocolException("party '" + ctx.directory().name(q)
            + "' sent malformed column bounds for operator " + op);
      }
      ByteBuffer in = ByteBuffer.wrap(all[q]);
      for (int c = 0; c < columns; c++) {
        int b = in.getInt();
        if (b < 0 || b > 64) {
          throw new ProtocolException("party '" + ctx.directory().name(q)
              + "' sent an impossible column bound for operator " + op);
        }
        bits[c] = Math.max(bits[c], b);
      }
    }
    return bits;
  }

  private static int[] partitionCounts(MpcContext ctx, long op, int round, int myParts) {
    byte[][] counts = ctx.exchangeAll(op, Coordinates.DRIVER_PARTITION, round,
        ByteBuffer.allocate(4).putInt(myParts).array());
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

  /**
   * The error for a null in a secure column. It is forwarded to the peers, so it names the column
   * and the party but no row position.
   */
  static MpcInputException nullIn(String column, String party) {
    return new MpcInputException("column '" + column + "' of party " + party + " has nulls; "
        + "secure columns may not hold nulls: filter or fill them before sharing");
  }

  /** Where the public and secret columns sit in the input rows. */
  static final class Layout implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    final List<Integer> publicOrdinals = new ArrayList<>();
    final List<DataType> publicTypes = new ArrayList<>();
    final List<Integer> secretOrdinals = new ArrayList<>();
    final List<DataType> secretTypes = new ArrayList<>();
    final List<String> secretNames = new ArrayList<>();
    /** Whether secret column {@code c} is shared wide (Z(2^128)), so that its sums never wrap. */
    final List<Boolean> wide = new ArrayList<>();
    int scaleBits;
    /** Round of the public columns' message; secret column {@code c} is shared on stream c. */
    int shareRound;
    StreamRange streams;

    DataType[] publicTypeArray() {
      return publicTypes.toArray(new DataType[0]);
    }
  }

  /** Send stage task: a partition this party owns. Never waits on a peer. */
  static final class OwnerTask
      implements Function2<Integer, Iterator<Object>, Iterator<SharePartition>> {
    private static final long serialVersionUID = 1L;
    private final String sid;
    private final long op;
    private final int offset;
    private final Layout layout;
    private final String self;

    OwnerTask(String sid, long op, int offset, Layout layout, String self) {
      this.sid = sid;
      this.op = op;
      this.offset = offset;
      this.layout = layout;
      this.self = self;
    }

    @Override
    public Iterator<SharePartition> call(Integer local, Iterator<Object> it) {
      MpcContext ctx = MpcRuntime.context(sid);
      try {
        return List.of(share(ctx, offset + local, local, it)).iterator();
      } catch (RuntimeException e) {
        ctx.abort(op, e);
        throw e;
      }
    }

    private SharePartition share(MpcContext ctx, int partition, int local, Iterator<?> it) {
      int k = layout.secretOrdinals.size();
      long tStart = System.nanoTime();
      OwnColumns own = new OwnColumns(layout, self);
      while (it.hasNext()) {
        Object next = it.next();
        if (next instanceof ColumnarBatch b) {
          own.add(b);
        } else {
          own.add((InternalRow) next);
        }
      }
      int n = own.rows();
      int[][] codes = own.codes();
      Object[][] dicts = own.dictionaries();
      long tEncoded = System.nanoTime();
      byte[] payload;
      try (BufferAllocator alloc = ArrowUtils.rootAllocator().newChildAllocator(
          "share-" + op + "-" + partition, 0, Long.MAX_VALUE)) {
        payload = PublicColumns.encode(n, codes, dicts, layout.publicTypeArray(), alloc);
      }
      for (int q = 0; q < ctx.parties(); q++) {
        if (q != ctx.self()) {
          ctx.channel().send(q, ctx.key(op, partition, layout.shareRound), payload);
        }
      }
      long tSent = System.nanoTime();
      long[][] shares = new long[k][];
      long[][] highs = new long[k][];
      int[] bits = new int[k];
      for (int c = 0; c < k; c++) {
        shares[c] = own.secret(c);
        bits[c] = Ring64.magnitudeBits(shares[c], n);
        if (layout.wide.get(c)) {
          highs[c] = new long[n];
          AdditiveSharing.shareOwnWideInPlace(ctx, op, partition, layout.streams.stream(c),
              shares[c], highs[c], n);
        } else {
          AdditiveSharing.shareOwnInPlace(ctx, op, partition, layout.streams.stream(c), shares[c],
              n);
        }
      }
      LOG.debug("operator {} partition {}: {} rows read and encoded in {} ms, sent in {} ms, "
          + "shared in {} ms", op, partition, n, (tEncoded - tStart) / 1_000_000,
          (tSent - tEncoded) / 1_000_000, (System.nanoTime() - tSent) / 1_000_000);
      return new SharePartition(n, shares, highs, bits, codes, dicts);
    }

    /** The ring encoding of a numeric value: integral types exactly, others in fixed point. */
    static long encode(InternalRow r, int ord, DataType t, FixedPoint fp, String name) {
      if (t instanceof IntegerType) {
        return r.getInt(ord);
      } else if (t instanceof LongType) {
        return r.getLong(ord);
      } else if (t instanceof ShortType) {
        return r.getShort(ord);
      } else if (t instanceof ByteType) {
        return r.getByte(ord);
      } else if (t instanceof FloatType) {
        return fp.encode((double) r.getFloat(ord), name);
      } else if (t instanceof DecimalType d) {
        return fp.encode(r.getDecimal(ord, d.precision(), d.scale()).toDouble(), name);
      }
      return fp.encode(r.getDouble(ord), name);
    }
  }

  /** Receive stage task: a partition party {@code owner} holds. */
  static final class PeerTask
      implements Function2<Integer, Iterator<Integer>, Iterator<SharePartition>> {
    private static final long serialVersionUID = 1L;
    private final String sid;
    private final long op;
    private final int offset;
    private final int owner;
    private final Layout layout;

    PeerTask(String sid, long op, int offset, int owner, Layout layout) {
      this.sid = sid;
      this.op = op;
      this.offset = offset;
      this.owner = owner;
      this.layout = layout;
    }

    @Override
    public Iterator<SharePartition> call(Integer local, Iterator<Integer> ignored) {
      MpcContext ctx = MpcRuntime.context(sid);
      int partition = offset + local;
      long t0 = System.nanoTime();
      byte[] payload = ctx.channel().receive(new MessageKey(sid, op, partition, layout.shareRound,
          owner), ctx.timeout());
      long t1 = System.nanoTime();
      PublicColumns.Decoded d;
      try (BufferAllocator alloc = ArrowUtils.rootAllocator().newChildAllocator(
          "share-" + op + "-" + partition, 0, Long.MAX_VALUE)) {
        d = PublicColumns.decode(payload, layout.publicTypeArray(), ctx.directory().name(owner),
            "operator " + op + ", partition " + partition, alloc);
      }
      int k = layout.secretOrdinals.size();
      long[][] shares = new long[k][];
      for (int c = 0; c < k; c++) {
        shares[c] = AdditiveSharing.peerShare(ctx, owner, op, partition, layout.streams.stream(c),
            d.rows());
      }
      // A peer's high words of wide shares are all 0: none are kept.
      SharePartition p = new SharePartition(d.rows(), shares, d.codes(), d.dictionaries());
      LOG.debug("operator {} partition {}: {} rows received in {} ms, decoded and expanded in {} "
          + "ms", op, partition, d.rows(), (t1 - t0) / 1_000_000,
          (System.nanoTime() - t1) / 1_000_000);
      return List.of(p).iterator();
    }
  }
}
