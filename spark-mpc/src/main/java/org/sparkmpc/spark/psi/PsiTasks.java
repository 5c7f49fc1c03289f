package org.sparkmpc.spark.psi;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.api.java.function.PairFlatMapFunction;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.sparkmpc.crypto.AesCtrPrg;
import org.sparkmpc.net.MessageKey;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.psi.EcdhPsi;
import org.sparkmpc.psi.IdNormalization;
import org.sparkmpc.ring.LongCodec;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.spark.MpcRuntime;
import scala.Tuple2;

/**
 * The per-partition work of {@link PrivateSetIntersection}, run by this party's executors. Every
 * function is deterministic in its input and the session's keys, so a retried task sends the same
 * bytes again. Keys are derived on the executor from the session ticket; none is ever in a closure.
 */
final class PsiTasks {
  private PsiTasks() {}

  /** What every task needs to find the session and its place in the operator. */
  record Op(String sid, long op, int ordinal, IdNormalization norm, int pointsRound,
      int tagsRound) implements Serializable {

    MpcContext ctx() {
      return MpcRuntime.context(sid);
    }

    int peer(MpcContext ctx) {
      return 1 - ctx.self();
    }

    String peerName(MpcContext ctx) {
      return "party '" + ctx.directory().name(peer(ctx)) + "'";
    }

    /** The normalised identifier of {@code row}, or null if missing. */
    String id(InternalRow row) {
      return row.isNullAt(ordinal) ? null : norm.apply(row.getUTF8String(ordinal).toString());
    }
  }

  /**
   * One bucket of this party's identifiers, encrypted once: its rows in the order of their points
   * {@code H(x)^a} (which is what the peer sees: sorted pseudorandom values), and how many rows
   * repeat an identifier of the bucket (equal identifiers share a bucket and a point).
   */
  static final class Bucket implements Serializable {
    private static final long serialVersionUID = 1L;
    final int index;
    final InternalRow[] rows;
    final byte[] points;
    final int duplicates;

    Bucket(int index, InternalRow[] rows, byte[] points, int duplicates) {
      this.index = index;
      this.rows = rows;
      this.points = points;
      this.duplicates = duplicates;
    }
  }

  /** Rows and missing identifiers of a partition: {@code {rows, missing}}. Local; sends nothing. */
  static final class Scan implements FlatMapFunction<Iterator<InternalRow>, long[]> {
    private static final long serialVersionUID = 1L;
    private final Op op;

    Scan(Op op) {
      this.op = op;
    }

    @Override
    public Iterator<long[]> call(Iterator<InternalRow> it) {
      long rows = 0;
      long missing = 0;
      while (it.hasNext()) {
        rows++;
        if (op.id(it.next()) == null) {
          missing++;
        }
      }
      return List.of(new long[] {rows, missing}).iterator();
    }
  }

  /**
   * Each row to the bucket of an HMAC-SHA256 of its identifier under a key only this party has: the
   * peer, who sees each bucket's size, cannot tell in which bucket any identifier fell.
   */
  static final class Bucketer implements PairFlatMapFunction<Iterator<InternalRow>, Integer,
      InternalRow> {
    private static final long serialVersionUID = 1L;
    private final Op op;
    private final int buckets;

    Bucketer(Op op, int buckets) {
      this.op = op;
      this.buckets = buckets;
    }

    @Override
    public Iterator<Tuple2<Integer, InternalRow>> call(Iterator<InternalRow> it) {
      MpcContext ctx = op.ctx();
      Mac mac;
      try {
        mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(ctx.keys().ownSecret("psi-bucket/" + op.op()), "HmacSHA256"));
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HMAC-SHA256 is not available in this JVM", e);
      }
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          return it.hasNext();
        }

        @Override
        public Tuple2<Integer, InternalRow> next() {
          InternalRow row = it.next();
          byte[] h = mac.doFinal(op.id(row).getBytes(StandardCharsets.UTF_8));
          int v = ((h[0] & 0xff) << 24) | ((h[1] & 0xff) << 16) | ((h[2] & 0xff) << 8) | (h[3] & 0xff);
          return new Tuple2<>(Integer.remainderUnsigned(v, buckets), row.copy());
        }
      };
    }
  }

  /** Bucket {@code key} goes to partition {@code key}. */
  static final class Buckets extends Partitioner {
    private static final long serialVersionUID = 1L;
    private final int n;

    Buckets(int n) {
      this.n = n;
    }

    @Override
    public int numPartitions() {
      return n;
    }

    @Override
    public int getPartition(Object key) {
      return (Integer) key;
    }
  }

  /** Hash every identifier of a bucket to the curve and raise it to this party's key. Local. */
  static final class Encrypt implements Function2<Integer, Iterator<Tuple2<Integer, InternalRow>>,
      Iterator<Bucket>> {
    private static final long serialVersionUID = 1L;
    private final Op op;

    Encrypt(Op op) {
      this.op = op;
    }

    @Override
    public Iterator<Bucket> call(Integer bucket, Iterator<Tuple2<Integer, InternalRow>> it) {
      MpcContext ctx = op.ctx();
      List<InternalRow> rows = new ArrayList<>();
      it.forEachRemaining(t -> rows.add(t._2()));
      int n = rows.size();
      byte[] hashed = new byte[n * EcdhPsi.POINT_BYTES];
      MessageDigest sha = EcdhPsi.sha256();
      for (int i = 0; i < n; i++) {
        EcdhPsi.hashToCurve(sha, op.id(rows.get(i)).getBytes(StandardCharsets.UTF_8), hashed,
            i * EcdhPsi.POINT_BYTES);
      }
      byte[] points = new byte[hashed.length];
      EcdhPsi.exponentiate(EcdhPsi.key(ctx.keys(), op.op()), hashed, n, points, "this party");
      int[] order = sortByPoint(points, n);
      InternalRow[] sortedRows = new InternalRow[n];
      byte[] sorted = new byte[points.length];
      int duplicates = 0;
      for (int i = 0; i < n; i++) {
        sortedRows[i] = rows.get(order[i]);
        System.arraycopy(points, order[i] * EcdhPsi.POINT_BYTES, sorted, i * EcdhPsi.POINT_BYTES,
            EcdhPsi.POINT_BYTES);
        if (i > 0 && EcdhPsi.comparePoints(sorted, i - 1, i) == 0) {
          duplicates++;
        }
      }
      return List.of(new Bucket(bucket, sortedRows, sorted, duplicates)).iterator();
    }
  }

  /** Send stage: a bucket's points to the peer. Never waits. Returns the bucket's size. */
  static final class SendPoints implements Function<Bucket, Integer> {
    private static final long serialVersionUID = 1L;
    private final Op op;

    SendPoints(Op op) {
      this.op = op;
    }

    @Override
    public Integer call(Bucket b) {
      MpcContext ctx = op.ctx();
      try {
        ctx.channel().send(op.peer(ctx), ctx.key(op.op(), b.index, op.pointsRound()), b.points);
      } catch (RuntimeException e) {
        ctx.abort(op.op(), e);
        throw e;
      }
      return b.rows.length;
    }
  }

  /**
   * Receive the peer's points of a bucket and raise them to this party's key: their tags. Send the
   * tags back when the peer is to learn something (in the peer's order when it learns its members,
   * shuffled when it learns only the size); keep them when this party is to learn something.
   */
  static final class Reencrypt implements Function<Bucket, long[]> {
    private static final long serialVersionUID = 1L;
    private final Op op;
    private final boolean toPeer;
    private final boolean shuffle;
    private final boolean keep;

    Reencrypt(Op op, boolean toPeer, boolean shuffle, boolean keep) {
      this.op = op;
      this.toPeer = toPeer;
      this.shuffle = shuffle;
      this.keep = keep;
    }

    @Override
    public long[] call(Bucket b) {
      MpcContext ctx = op.ctx();
      try {
        int peer = op.peer(ctx);
        byte[] theirs = ctx.channel().receive(new MessageKey(op.sid(), op.op(), b.index,
            op.pointsRound(), peer), ctx.timeout());
        if (theirs.length % EcdhPsi.POINT_BYTES != 0) {
          throw new ProtocolException(op.peerName(ctx) + " sent " + theirs.length + " bytes in "
              + "bucket " + b.index + " of private set intersection: not a whole number of "
              + "points");
        }
        int m = theirs.length / EcdhPsi.POINT_BYTES;
        long[] tags = EcdhPsi.tags(EcdhPsi.key(ctx.keys(), op.op()), theirs, m, op.peerName(ctx));
        if (shuffle) {
          shufflePairs(tags, m, ctx.keys().ownSecret("psi-shuffle/" + op.op() + "/" + b.index));
        }
        if (toPeer) {
          ctx.channel().send(peer, ctx.key(op.op(), b.index, op.tagsRound()), LongCodec.encode(tags));
        }
        return keep ? tags : new long[0];
      } catch (RuntimeException e) {
        ctx.abort(op.op(), e);
        throw e;
      }
    }
  }

  /**
   * Receive a bucket's own tags from the peer and give each row its {@code psi_key} (the tag in
   * hex): the row's columns and the key, in {@code schema}; or the keys alone when only the size
   * is learnt (the tags then come shuffled and no row can be matched to one).
   */
  static final class Attach implements FlatMapFunction<Bucket, InternalRow> {
    private static final long serialVersionUID = 1L;
    private final Op op;
    private final StructType schema;
    private final boolean keysOnly;

    Attach(Op op, StructType schema, boolean keysOnly) {
      this.op = op;
      this.schema = schema;
      this.keysOnly = keysOnly;
    }

    @Override
    public Iterator<InternalRow> call(Bucket b) {
      MpcContext ctx = op.ctx();
      long[] tags;
      try {
        int n = b.rows.length;
        byte[] bytes = ctx.channel().receive(new MessageKey(op.sid(), op.op(), b.index,
            op.tagsRound(), op.peer(ctx)), ctx.timeout());
        if (bytes.length != n * EcdhPsi.TAG_BYTES) {
          throw new ProtocolException(op.peerName(ctx) + " returned " + bytes.length / (double)
              EcdhPsi.TAG_BYTES + " tags for the " + n + " identifiers of bucket " + b.index
              + " of private set intersection");
        }
        tags = LongCodec.decode(bytes, 0, 2 * n, "PSI tags");
      } catch (RuntimeException e) {
        ctx.abort(op.op(), e);
        throw e;
      }
      if (keysOnly) {
        return keys(tags);
      }
      UnsafeProjection project = UnsafeProjection.create(schema);
      JoinedRow joined = new JoinedRow();
      GenericInternalRow key = new GenericInternalRow(1);
      return new Iterator<>() {
        int i;

        @Override
        public boolean hasNext() {
          return i < b.rows.length;
        }

        @Override
        public InternalRow next() {
          key.update(0, UTF8String.fromString(key(tags, i)));
          InternalRow out = project.apply(joined.apply(b.rows[i], key)).copy();
          i++;
          return out;
        }
      };
    }
  }

  /** Rows of one {@code psi_key} column for the tags {@code t} (two longs each). */
  static Iterator<InternalRow> keys(long[] t) {
    return new Iterator<>() {
      int i;

      @Override
      public boolean hasNext() {
        return 2 * i < t.length;
      }

      @Override
      public InternalRow next() {
        GenericInternalRow r = new GenericInternalRow(1);
        r.update(0, UTF8String.fromString(key(t, i++)));
        return r;
      }
    };
  }

  /** The hex text of tag {@code i}: 32 characters. */
  static String key(long[] tags, int i) {
    HexFormat hex = HexFormat.of();
    return hex.toHexDigits(tags[2 * i]) + hex.toHexDigits(tags[2 * i + 1]);
  }

  /** Fisher-Yates on the pairs of {@code t}, from a PRG seeded by {@code seed}. */
  static void shufflePairs(long[] t, int m, byte[] seed) {
    AesCtrPrg prg = new AesCtrPrg(seed);
    long[] r = prg.next(Math.max(m, 1));
    for (int i = m - 1; i > 0; i--) {
      int j = (int) Long.remainderUnsigned(r[i], i + 1);
      long a = t[2 * i];
      long c = t[2 * i + 1];
      t[2 * i] = t[2 * j];
      t[2 * i + 1] = t[2 * j + 1];
      t[2 * j] = a;
      t[2 * j + 1] = c;
    }
  }

  /** The order of {@code n} packed points, ascending as unsigned bytes (a merge sort on indices). */
  static int[] sortByPoint(byte[] points, int n) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
    }
    int[] tmp = new int[n];
    for (int width = 1; width < n; width *= 2) {
      for (int lo = 0; lo < n - width; lo += 2 * width) {
        int mid = lo + width;
        int hi = Math.min(lo + 2 * width, n);
        int i = lo;
        int j = mid;
        int k = lo;
        while (i < mid && j < hi) {
          tmp[k++] = compare(points, a[i], a[j]) <= 0 ? a[i++] : a[j++];
        }
        while (i < mid) {
          tmp[k++] = a[i++];
        }
        while (j < hi) {
          tmp[k++] = a[j++];
        }
        System.arraycopy(tmp, lo, a, lo, hi - lo);
      }
    }
    return a;
  }

  private static int compare(byte[] points, int i, int j) {
    return EcdhPsi.comparePoints(points, i, j);
  }
}
