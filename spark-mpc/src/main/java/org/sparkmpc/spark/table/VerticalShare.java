package org.sparkmpc.spark.table;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.storage.StorageLevel;
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
 * Sharing of vertically split data: every party holds other columns of the same entities, aligned
 * by a public id (for now; private alignment by PSI comes later). The result is one secure table
 * with the id (public) and every party's columns as shares, in party order.
 *
 * <p>Alignment: each party sorts its rows by the id and cuts them into the agreed number of
 * partitions of equal index ranges, so partition {@code j} holds the same ids at every party. The
 * parties first exchange their row counts (a disagreement is refused, naming the party), then each
 * partition's id digest (a disagreement is refused too). For its own columns a party keeps
 * {@code x - sum_q PRG(K(self,q))}; for another party's columns it expands {@code PRG(K(owner,self))}.
 *
 * <p>Rounds: 2 (row counts on the driver; id digests per partition, as a send stage and a receive
 * stage). Bytes: 32 per partition to each peer; 0 per secret value. Reveals: the ids and the row
 * count, which are public by construction.
 */
public final class VerticalShare {
  private VerticalShare() {}

  /** Share this party's columns of the aligned table {@code tableId}. */
  public static SecureTable share(MpcRuntime rt, Dataset<Row> own, String id, List<String> secret,
      int scaleBits, int partitions, String tableId) {
    MpcContext ctx = rt.context();
    String self = ctx.directory().self().name();
    OperatorScope scope = rt.beginOperator("VerticalShare");
    long op = scope.id();
    StructField[] fields = own.schema().fields();
    String problem = null;
    int idOrdinal = -1;
    List<Integer> ordinals = new ArrayList<>();
    StringBuilder mine = new StringBuilder();
    for (int i = 0; i < fields.length; i++) {
      StructField f = fields[i];
      if (f.name().equals(id)) {
        idOrdinal = i;
      } else if (secret.contains(f.name())) {
        if (!SecureTypes.isShareable(f.dataType())) {
          problem = "column '" + f.name() + "' of party " + self + " has type "
              + f.dataType().simpleString() + "; only numeric columns can be shared";
        }
        ordinals.add(i);
        mine.append(f.name()).append(':').append(SecureTypes.isIntegral(f.dataType()) ? "long"
            : "double").append(SecureTypes.typeBits(f.dataType(), scaleBits) > 31 ? "/w" : "")
            .append(',');
      }
    }
    List<String> used = new ArrayList<>(secret);
    used.add(id);
    String shares = SecureTypes.sharesIn(own.schema(), used, self, "shareAligned");
    if (shares != null) {
      problem = shares;
    } else if (idOrdinal < 0) {
      problem = "party " + self + " has no id column '" + id + "' to align the rows by";
    } else if (!PublicColumns.supported(fields[idOrdinal].dataType())) {
      problem = PublicColumns.unsupported(id, fields[idOrdinal].dataType(), self).getMessage();
    }
    if (problem != null) {
      MpcInputException e = new MpcInputException(problem);
      ctx.abort(op, e);
      throw e;
    }
    DataType idType = fields[idOrdinal].dataType();
    String bounds = MpcConf.SHARE_BOUNDS.get(own.sparkSession());
    ctx.agree(op, "VerticalShare(" + tableId + ") id=" + id + ":" + idType.simpleString()
        + " partitions=" + partitions + " scale=" + scaleBits + " bounds=" + bounds);

    // Round 1 (driver): every party's columns and row count; all public.
    long rows = own.count();
    byte[] meta = (rows + "\n" + mine).getBytes(StandardCharsets.UTF_8);
    byte[][] all = ctx.exchangeAll(op, Coordinates.DRIVER_PARTITION, scope.round("row counts"),
        meta);
    List<String[]> columns = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int q = 0; q < ctx.parties(); q++) {
      String[] lines = new String(all[q], StandardCharsets.UTF_8).split("\n", -1);
      long theirs = Long.parseLong(lines[0]);
      if (theirs != rows) {
        throw new ProtocolException("party '" + ctx.directory().name(q) + "' has " + theirs
            + " rows and this party (" + self + ") " + rows + ": vertically split tables must "
            + "hold the same entities (align them by '" + id + "' first)");
      }
      String[] cols = lines.length > 1 && !lines[1].isEmpty() ? lines[1].split(",") : new String[0];
      for (String c : cols) {
        String name = c.substring(0, c.indexOf(':'));
        if (names.contains(name) || name.equals(id)) {
          throw new MpcInputException("column '" + name + "' is shared by more than one party "
              + "(or is the id); give the columns distinct names");
        }
        names.add(name);
      }
      columns.add(cols);
    }

    // Layout of the table: the id, then each party's columns in party order.
    List<Attribute> output = new ArrayList<>();
    output.add(new AttributeReference(id, idType, true, Metadata.empty(),
        NamedExpression.newExprId(), ScalaInterop.seqOf()));
    int[] owner = new int[names.size()];
    boolean[] integral = new boolean[names.size()];
    boolean[] wide = new boolean[names.size()];
    int c = 0;
    int myFirst = -1;
    for (int q = 0; q < ctx.parties(); q++) {
      if (q == ctx.self()) {
        myFirst = c;
      }
      for (String col : columns.get(q)) {
        String name = col.substring(0, col.indexOf(':'));
        integral[c] = col.contains(":long");
        wide[c] = col.endsWith("/w");
        owner[c] = q;
        c++;
      }
    }
    boolean[] secure = new boolean[1 + names.size()];
    int[] index = new int[secure.length];
    for (int i = 1; i < secure.length; i++) {
      secure[i] = true;
      index[i] = i - 1;
    }

    // Rows sorted by id and cut into equal index ranges: the same ids per partition everywhere.
    final long total = rows;
    final int parts = partitions;
    final int idOrd = idOrdinal;
    JavaRDD<InternalRow> sorted = own.sort(id).queryExecution().toRdd().toJavaRDD()
        .map(InternalRow::copy);
    JavaPairRDD<Long, InternalRow> indexed = sorted.zipWithIndex().mapToPair(t -> new scala.Tuple2<>(t._2(), t._1()));
    JavaRDD<InternalRow> aligned = indexed.partitionBy(new IndexRanges(total, parts))
        .mapPartitions(it -> {
          List<scala.Tuple2<Long, InternalRow>> l = new ArrayList<>();
          it.forEachRemaining(l::add);
          l.sort((a, b) -> Long.compare(a._1(), b._1()));
          return l.stream().map(scala.Tuple2::_2).iterator();
        });
    Task task = new Task(ctx.sessionId(), op, scope.round("id digests"),
        scope.streams("columns", owner.length), self, idOrd, idType,
        ordinals.stream().mapToInt(Integer::intValue).toArray(),
        ordinals.stream().map(o -> fields[o].dataType()).toArray(DataType[]::new), myFirst, owner,
        names, wide, scaleBits);
    JavaRDD<SharePartition> table = aligned.mapPartitionsWithIndex(task::send, false);
    table.persist(StorageLevel.MEMORY_AND_DISK());
    int k = names.size();
    List<int[]> ownBits = table.map(p -> { // send stage: id digests out, shares kept
      int[] b = new int[k];
      for (int j = 0; j < k; j++) {
        b[j] = p.bits(j);
      }
      return b;
    }).collect();
    int[] bits = HorizontalShare.agreeBounds(bounds, ctx, op, scope.round("column bounds"),
        ownBits, k,
        j -> wide[j] ? 63 : 31);
    for (int j = 0; j < k; j++) {
      output.add(new AttributeReference(names.get(j), ShareType.column(integral[j] ? 0
          : scaleBits, integral[j], tableId, bits[j]), false, Metadata.empty(),
          NamedExpression.newExprId(), ScalaInterop.seqOf()));
    }
    List<Integer> counts = table.mapPartitionsWithIndex(task::check, false).collect();
    long[] contract = counts.stream().mapToLong(Integer::longValue).toArray();
    return new SecureTable(tableId, output, secure, index, table, contract, wide);
  }

  /** Partition by row index into {@code parts} ranges of equal size. */
  static final class IndexRanges extends org.apache.spark.Partitioner {
    private static final long serialVersionUID = 1L;
    private final long total;
    private final int parts;

    IndexRanges(long total, int parts) {
      this.total = total;
      this.parts = parts;
    }

    @Override
    public int numPartitions() {
      return parts;
    }

    @Override
    public int getPartition(Object key) {
      return (int) Math.min(parts - 1, (Long) key * parts / Math.max(1, total));
    }
  }

  /** The per-partition work: shares of every column, and the id digest sent and checked. */
  static final class Task implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final String sid;
    private final long op;
    /** Round of the id digests; column {@code c} is shared on stream {@code c} of the streams. */
    private final int digestRound;
    private final StreamRange streams;
    private final String self;
    private final int idOrdinal;
    private final DataType idType;
    private final int[] myOrdinals;
    private final DataType[] myTypes;
    private final int myFirst;
    private final int[] owner;
    private final List<String> names;
    private final boolean[] wide;
    private final int scaleBits;

    Task(String sid, long op, int digestRound, StreamRange streams, String self, int idOrdinal,
        DataType idType, int[] myOrdinals, DataType[] myTypes, int myFirst, int[] owner,
        List<String> names, boolean[] wide, int scaleBits) {
      this.wide = wide;
      this.myTypes = myTypes;
      this.sid = sid;
      this.op = op;
      this.digestRound = digestRound;
      this.streams = streams;
      this.self = self;
      this.idOrdinal = idOrdinal;
      this.idType = idType;
      this.myOrdinals = myOrdinals;
      this.myFirst = myFirst;
      this.owner = owner;
      this.names = new ArrayList<>(names);
      this.scaleBits = scaleBits;
    }

    /** Send stage: encode and share this party's columns, send the id digest. Never waits. */
    Iterator<SharePartition> send(Integer partition, Iterator<InternalRow> it) {
      MpcContext ctx = MpcRuntime.context(sid);
      try {
        PublicEncoder ids = new PublicEncoder(idType);
        FixedPoint fp = new FixedPoint(scaleBits);
        long[][] mine = new long[myOrdinals.length][1024];
        int n = 0;
        while (it.hasNext()) {
          InternalRow r = it.next();
          if (n == (mine.length > 0 ? mine[0].length : Integer.MAX_VALUE)) {
            for (int k = 0; k < mine.length; k++) {
              mine[k] = Arrays.copyOf(mine[k], n * 2);
            }
          }
          ids.add(r, idOrdinal);
          for (int k = 0; k < myOrdinals.length; k++) {
            String name = names.get(myFirst + k);
            if (r.isNullAt(myOrdinals[k])) {
              throw HorizontalShare.nullIn(name, self);
            }
            mine[k][n] = HorizontalShare.OwnerTask.encode(r, myOrdinals[k], myTypes[k], fp, name);
          }
          n++;
        }
        SharePartition ids0 = new SharePartition(n, new long[0][], new int[][] {ids.codes()},
            new Object[][] {ids.dictionary()});
        byte[] d = idDigest(ids0);
        for (int q = 0; q < ctx.parties(); q++) {
          if (q != ctx.self()) {
            ctx.channel().send(q, ctx.key(op, partition, digestRound), d);
          }
        }
        long[][] shares = new long[owner.length][];
        long[][] highs = new long[owner.length][];
        int[] bits = new int[owner.length];
        for (int col = 0; col < owner.length; col++) {
          if (owner[col] == ctx.self()) {
            highs[col] = wide[col] ? new long[n] : null; // a peer's high words are all 0
            shares[col] = Arrays.copyOf(mine[col - myFirst], n);
            bits[col] = Ring64.magnitudeBits(shares[col], n);
            if (wide[col]) {
              AdditiveSharing.shareOwnWideInPlace(ctx, op, partition, streams.stream(col),
                  shares[col], highs[col], n);
            } else {
              AdditiveSharing.shareOwnInPlace(ctx, op, partition, streams.stream(col),
                  shares[col], n);
            }
          } else {
            shares[col] = AdditiveSharing.peerShare(ctx, owner[col], op, partition,
                streams.stream(col), n);
          }
        }
        return List.of(new SharePartition(n, shares, highs, bits, new int[][] {ids0.codes(0)},
            new Object[][] {ids0.dictionary(0)})).iterator();
      } catch (RuntimeException e) {
        ctx.abort(op, e);
        throw e;
      }
    }

    /** Receive stage: every peer's id digest must equal this party's. */
    Iterator<Integer> check(Integer partition, Iterator<SharePartition> it) {
      MpcContext ctx = MpcRuntime.context(sid);
      SharePartition p = it.next();
      byte[] mine = idDigest(p);
      for (int q = 0; q < ctx.parties(); q++) {
        if (q == ctx.self()) {
          continue;
        }
        byte[] theirs = ctx.channel().receive(new MessageKey(sid, op, partition, digestRound, q),
            ctx.timeout());
        if (!Arrays.equals(mine, theirs)) {
          throw new ProtocolException("party '" + ctx.directory().name(q) + "' holds other ids "
              + "than this party (" + self + ") in partition " + partition + " of the aligned "
              + "table: the parties' rows are not the same entities");
        }
      }
      return List.of(p.rows()).iterator();
    }
  }

  /** SHA-256 of a partition's ids, in order (public values). */
  static byte[] idDigest(SharePartition p) {
    MessageDigest digest = sha256();
    int[] codes = p.codes(0);
    Object[] dict = p.dictionary(0);
    for (int i = 0; i < p.rows(); i++) {
      digest.update(String.valueOf(dict[codes[i]]).getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
    }
    return digest.digest();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
