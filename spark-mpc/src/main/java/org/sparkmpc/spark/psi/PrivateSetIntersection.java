package org.sparkmpc.spark.psi;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.psi.IdNormalization;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.spark.MpcConf;
import org.sparkmpc.spark.MpcRuntime;

/**
 * ECDH private set intersection between the two parties of a session, in Spark (see
 * {@link org.sparkmpc.psi.EcdhPsi} for the arithmetic).
 *
 * <ol>
 *   <li>Driver: the plan agreement (output, recipients, normalisation rule); a local scan refuses
 *       null or empty identifiers; the parties exchange their set sizes and agree on the number of
 *       buckets.
 *   <li>Local: each row goes to the bucket of a keyed hash of its identifier (the key is this
 *       party's alone), and each bucket raises its identifiers' hashes to this party's key and sorts
 *       them; repeated identifiers are refused. The parties confirm on the driver that both passed
 *       before any point moves.
 *   <li>Send stage: each bucket's points to the peer (32 bytes per identifier).
 *   <li>Receive stage: each bucket raises the peer's points to this party's key and returns the
 *       16-byte tags (in the peer's order, or shuffled when the peer learns only the size).
 *   <li>Receive stage, at a party that learns something: its rows get their tags; a left semi join
 *       with the peer's tags, a shuffle of this party's cluster by the tag's hash, keeps the
 *       members. No set is ever collected on a driver.
 * </ol>
 *
 * <p>Rounds: 2 (points, tags) plus 3 small driver rounds. Bytes per identifier: 32 to the peer,
 * and 16 back to each party that learns something. Reveals: the sizes of both sets, and to the
 * parties that learn it, the intersection (which of their own rows are members) or its size only.
 */
public final class PrivateSetIntersection {
  /** The column that carries each member row's pseudonym: the same at both parties. */
  public static final String KEY = "psi_key";
  /** Identifiers per bucket when the number of buckets is automatic. */
  static final long BUCKET_ROWS = 50_000;
  /** At most this many buckets (as {@code spark.mpc.psi.partitions} allows). */
  static final long MAX_BUCKETS = 100_000;

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(PrivateSetIntersection.class);

  private PrivateSetIntersection() {}

  /** What a party learns. */
  public enum Output {
    /** Which of its own rows are members (at the recipients). */
    MEMBERS,
    /** Only how many identifiers the sets share (at the recipients). */
    SIZE
  }

  /**
   * What one run gives this party.
   *
   * @param members  at a recipient of {@code MEMBERS}: this party's rows whose identifier is in
   *                 the intersection, with {@link #KEY}, materialised; else null
   * @param size     the intersection's size at a recipient; -1 elsewhere
   * @param ownRows  this party's identifiers
   * @param peerRows the peer's identifiers (its set size is public)
   */
  public record Result(Dataset<Row> members, long size, long ownRows, long peerRows) {}

  /**
   * Run PSI on {@code own}'s string column {@code id}.
   *
   * @param recipients the parties that learn the output; empty for both
   */
  public static Result run(MpcRuntime rt, Dataset<Row> own, String id, Output output,
      List<String> recipients) {
    return run(rt, own, id, output, recipients, List.of());
  }

  /**
   * As above; {@code shared} names columns that the caller will share once the members are known:
   * they are checked first (present, numeric), so that a refusal comes before any point moves.
   */
  public static Result run(MpcRuntime rt, Dataset<Row> own, String id, Output output,
      List<String> recipients, List<String> shared) {
    MpcContext ctx = rt.context();
    String self = ctx.directory().self().name();
    OperatorScope scope = rt.beginOperator("PrivateSetIntersection");
    long op = scope.id();
    rt.request(scope, List.of()); // no correlated randomness: the dealer moves on
    IdNormalization norm;
    int ordinal;
    try {
      norm = MpcConf.PSI_NORMALIZE.get(own.sparkSession());
      ordinal = checkInput(ctx, own.schema(), id, self);
      for (String c : shared) {
        checkShareable(own.schema(), c, id, self);
      }
      for (String r : recipients) {
        ctx.directory().indexOf(r);
      }
      // The party's data policy: the identifier must be public or a pseudonym, and the columns
      // to share after it must be ones the policy lets this session's parties hold.
      org.sparkmpc.connectors.policy.Policy policy = rt.policy().policy();
      if (policy != null) {
        policy.checkSharing("PSI", own.schema(), shared, List.of(id), names(ctx));
      }
    } catch (RuntimeException e) {
      ctx.abort(op, e);
      throw e;
    }
    List<String> to = recipients.isEmpty() ? names(ctx) : sorted(recipients);
    boolean learn = to.contains(self);
    boolean peerLearns = to.contains(ctx.directory().name(1 - ctx.self()));
    ctx.agree(op, "PrivateSetIntersection output=" + output + " to=" + to + " normalize="
        + norm.setting());
    PsiTasks.Op task = new PsiTasks.Op(ctx.sessionId(), op, ordinal, norm,
        scope.round("points"), scope.round("tags"));

    // Driver: refuse missing identifiers, then the set sizes and the buckets.
    long t0 = System.nanoTime();
    JavaRDD<InternalRow> input = own.queryExecution().toRdd().toJavaRDD();
    long[] scan = input.mapPartitions(new PsiTasks.Scan(task))
        .fold(new long[2], (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
    if (scan[1] > 0) {
      MpcInputException e = new MpcInputException("identifier column '" + id + "' of party "
          + self + " has " + scan[1] + " null or empty identifiers (after normalisation '"
          + norm.setting() + "'); they can match nothing: filter them out before the "
          + "intersection");
      ctx.abort(op, e);
      throw e;
    }
    int mine = Math.max(MpcConf.PSI_PARTITIONS.get(own.sparkSession()),
        own.sparkSession().sparkContext().defaultParallelism());
    boolean automatic = MpcConf.PSI_PARTITIONS.get(own.sparkSession()) == 0;
    byte[][] sizes = ctx.exchangeAll(op, Coordinates.DRIVER_PARTITION, scope.round("sizes"),
        (scan[0] + "," + mine + "," + automatic).getBytes(StandardCharsets.UTF_8));
    // Both parties compute the same number from the same two messages.
    long[] rows = new long[2];
    long buckets = 1;
    long largest = 0;
    boolean anyAutomatic = false;
    for (int q = 0; q < 2; q++) {
      String[] f = new String(sizes[q], StandardCharsets.UTF_8).split(",");
      try {
        rows[q] = Long.parseLong(f[0]);
        buckets = Math.max(buckets, Integer.parseInt(f[1]));
        anyAutomatic |= Boolean.parseBoolean(f[2]);
      } catch (RuntimeException e) {
        rows[q] = -1;
      }
      if (rows[q] < 0) {
        throw new ProtocolException("party '" + ctx.directory().name(q) + "' sent a malformed "
            + "set size in private set intersection");
      }
      largest = Math.max(largest, rows[q]);
    }
    if (anyAutomatic) {
      buckets = Math.max(buckets, (largest + BUCKET_ROWS - 1) / BUCKET_ROWS);
    }
    buckets = Math.min(MAX_BUCKETS, buckets);
    long ownRows = rows[ctx.self()];
    long peerRows = rows[1 - ctx.self()];
    LOG.info("private set intersection on '{}': {} identifiers here, {} at party {}, {} buckets",
        id, ownRows, peerRows, ctx.directory().name(1 - ctx.self()), buckets);

    // Local: buckets by a keyed hash, points H(x)^a sorted; repeated identifiers refused.
    JavaRDD<PsiTasks.Bucket> encrypted = input
        .mapPartitionsToPair(new PsiTasks.Bucketer(task, (int) buckets))
        .partitionBy(new PsiTasks.Buckets((int) buckets))
        .mapPartitionsWithIndex(new PsiTasks.Encrypt(task), true);
    encrypted.persist(StorageLevel.MEMORY_AND_DISK());
    try {
      long duplicates = encrypted.map(b -> (long) b.duplicates).fold(0L, Long::sum);
      if (duplicates > 0) {
        MpcInputException e = new MpcInputException("identifier column '" + id + "' of party "
            + self + " repeats identifiers: " + duplicates + " rows have the identifier of an "
            + "earlier row (after normalisation '" + norm.setting() + "'); PSI needs each "
            + "identifier once: de-duplicate them (for example dropDuplicates) first");
        ctx.abort(op, e);
        throw e;
      }
      ctx.exchangeAll(op, Coordinates.DRIVER_PARTITION, scope.round("checked"), new byte[] {1});
      long t1 = System.nanoTime();

      // Send stage: the points. Receive stage: the peer's points, re-encrypted, tags back.
      encrypted.map(new PsiTasks.SendPoints(task)).count();
      JavaRDD<long[]> peerTags = encrypted.map(new PsiTasks.Reencrypt(task, peerLearns,
          output == Output.SIZE, learn));
      peerTags.persist(StorageLevel.MEMORY_AND_DISK());
      peerTags.count();
      long t2 = System.nanoTime();
      if (!learn) {
        peerTags.unpersist(false);
        encrypted.unpersist(false);
        rt.releaseMessages(scope);
        return new Result(null, -1, ownRows, peerRows);
      }

      // Receive stage: this party's tags; the members by a join on them inside this party.
      org.apache.spark.sql.classic.SparkSession spark =
          (org.apache.spark.sql.classic.SparkSession) own.sparkSession();
      StructType keyOnly = new StructType().add(KEY, DataTypes.StringType, false);
      Dataset<Row> theirs = spark.internalCreateDataFrame(peerTags.flatMap(PsiTasks::keys).rdd(),
          keyOnly, false);
      if (output == Output.SIZE) {
        Dataset<Row> ours = spark.internalCreateDataFrame(encrypted.flatMap(
            new PsiTasks.Attach(task, keyOnly, true)).rdd(), keyOnly, false);
        long size = ours.join(theirs, KEY).count();
        peerTags.unpersist(false);
        encrypted.unpersist(false);
        rt.releaseMessages(scope);
        return new Result(null, size, ownRows, peerRows);
      }
      StructType withKey = own.schema().add(KEY, DataTypes.StringType, false);
      Dataset<Row> tagged = spark.internalCreateDataFrame(encrypted.flatMap(
          new PsiTasks.Attach(task, withKey, false)).rdd(), withKey, false);
      Dataset<Row> members = tagged.join(theirs, scala.jdk.javaapi.CollectionConverters.asScala(
          List.of(KEY)).toSeq(), "left_semi");
      members.persist(StorageLevel.MEMORY_AND_DISK());
      long size = members.count();
      LOG.info("private set intersection on '{}': {} in common; ms: scan and encrypt {}, "
          + "exchange {}, match {}", id, size, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000,
          (System.nanoTime() - t2) / 1_000_000);
      // The members stay cached and may be recomputed from lineage: the messages stay until the
      // session ends, as a shared table's do. The buckets need not stay: a lost block of the
      // members is recomputed from them again, deterministically.
      peerTags.unpersist(false);
      encrypted.unpersist(false);
      return new Result(members, size, ownRows, peerRows);
    } catch (RuntimeException e) {
      encrypted.unpersist(false);
      throw e;
    }
  }

  /** The ordinal of the identifier column; an error naming the column and party otherwise. */
  static int checkInput(MpcContext ctx, StructType schema, String id, String self) {
    if (ctx.parties() != 2) {
      throw new MpcInputException("private set intersection runs between two parties; this "
          + "session has " + ctx.parties() + " (spark.mpc.parties): run it in a session of the "
          + "two parties whose sets are to be intersected");
    }
    StructField[] fields = schema.fields();
    int ordinal = -1;
    for (int i = 0; i < fields.length; i++) {
      if (fields[i].name().equals(KEY)) {
        throw new MpcInputException("party " + self + " has a column named '" + KEY + "', which "
            + "private set intersection adds: rename it");
      }
      if (fields[i].name().equals(id)) {
        ordinal = i;
      }
    }
    if (ordinal < 0) {
      throw new MpcInputException("party " + self + " has no identifier column '" + id
          + "'; its columns are " + Arrays.toString(schema.fieldNames()));
    }
    if (!(fields[ordinal].dataType() instanceof StringType)) {
      throw new MpcInputException("identifier column '" + id + "' of party " + self + " has type "
          + fields[ordinal].dataType().simpleString() + "; private set intersection compares "
          + "strings: cast it to string the same way at every party (CAST(" + id + " AS STRING))");
    }
    return ordinal;
  }

  /** A column to share after the intersection: present, not the identifier, numeric. */
  static void checkShareable(StructType schema, String column, String id, String self) {
    if (column.equals(id) || !Arrays.asList(schema.fieldNames()).contains(column)) {
      throw new MpcInputException("party " + self + " has no column '" + column + "' to share "
          + "besides the identifier '" + id + "'; its columns are "
          + Arrays.toString(schema.fieldNames()));
    }
    org.apache.spark.sql.types.DataType t = schema.apply(column).dataType();
    if (!org.sparkmpc.spark.catalyst.SecureTypes.isShareable(t)) {
      throw new MpcInputException("column '" + column + "' of party " + self + " has type "
          + t.simpleString() + "; only numeric columns can be shared");
    }
  }

  /** Classes that PSI keeps in the block manager, for Kryo registration. */
  public static List<Class<?>> kryoClasses() {
    return List.of(PsiTasks.Bucket.class, InternalRow[].class,
        org.apache.spark.sql.catalyst.expressions.UnsafeRow.class);
  }

  private static List<String> names(MpcContext ctx) {
    List<String> out = new ArrayList<>();
    for (int q = 0; q < ctx.parties(); q++) {
      out.add(ctx.directory().name(q));
    }
    return out;
  }

  private static List<String> sorted(List<String> names) {
    List<String> out = new ArrayList<>(new java.util.TreeSet<>(names));
    return out;
  }
}
