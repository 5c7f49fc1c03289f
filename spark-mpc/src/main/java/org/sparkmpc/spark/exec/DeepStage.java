package org.sparkmpc.spark.exec;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.HashPartitioner;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.table.SecureTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * Runs a deep protocol over a secure table: every round of it for a partition inside one Spark
 * task ({@link DeepTask}), one message per partition per round, with the parties' tasks for the
 * same partition running at the same time, so that nobody waits for a peer task that is not
 * scheduled. One Spark job per operator, whatever the number of rounds.
 *
 * <p><b>Waves.</b> The parties agree on a width W ({@link WaveWidth}: the smallest party's task
 * slots, or {@code spark.mpc.waveWidth}), and each runs ONE gang-scheduled (barrier) stage of W
 * tasks: task i walks the table's partitions {@code i, i+W, i+2W, ...} in ascending order
 * ({@link WaveRDD}). Every party uses the same assignment, so task i at each party walks the same
 * partition sequence, and barrier mode starts all W tasks of a party together: each partition's
 * peer tasks are running when it is reached, whatever the cluster sizes (a party with more slots
 * simply leaves some idle). Rounds synchronise through the channel's messages only; {@code
 * BarrierTaskContext.barrier()} (about a second a call here) is never used. Why this shape rather
 * than a barrier stage per wave of W partitions: a barrier stage over a part of a table's RDD
 * needs an RDD of its own per wave (Spark refuses coalesced or pruned chains, SPARK-24820/24821,
 * and counts every partition of the RDD as a slot, SPARK-24819), and a job per wave costs about
 * 25 ms; one stage whose task streams its partitions costs one job, and its RDD has exactly W
 * partitions reading the cached blocks directly (no shuffle of shares).
 *
 * <p><b>Retries and failures.</b> The wave is a shuffle-map stage (its small results go through a
 * one-partition shuffle to the driver), because Spark retries a failed barrier shuffle-map stage
 * whole (up to {@code spark.stage.maxConsecutiveAttempts}) but never a barrier result stage. A
 * retried task recomputes everything from its inputs and the session's keys, so it re-sends
 * byte-identical messages (the gateway accepts them as duplicates) and reads its peers' messages,
 * which the gateway keeps, again. A task failing with one of this project's errors tells the peers
 * at once ({@link MpcContext#abort}) and its stage is cancelled ({@code SecureTaskFailures}); when
 * the stage fails for good, the driver aborts the operator at every peer, whose tasks then fail at
 * once instead of waiting for the timeout, and throws a {@link DeepStageException} naming the
 * operator. Barrier mode needs static allocation (Spark refuses it with dynamic allocation).
 *
 * <p>Rounds: the wave width agreement (1, on the driver) plus the task's own. Reveals: the
 * parties' wave settings and slot counts, and what the task reveals.
 */
public final class DeepStage {
  private static final Logger LOG = LoggerFactory.getLogger(DeepStage.class);

  /**
   * For the benchmark's comparison only: with the system property {@code
   * sparkmpc.stagedRounds=true} (at every party alike; the operators' agreements include it), the
   * operators moved onto deep stages run their rounds as a send stage and a receive stage again.
   */
  public static final boolean STAGED = Boolean.getBoolean("sparkmpc.stagedRounds");

  private DeepStage() {}

  /** As {@link #run(MpcRuntime, SecureTable, OperatorScope, DeepTask, SQLMetric, SQLMetric)}, no metrics. */
  public static <R extends Serializable> List<R> run(MpcRuntime rt, SecureTable table,
      OperatorScope scope, DeepTask<R> task) {
    return run(rt, table, scope, task, null, null);
  }

  /**
   * Run {@code task} on every partition of {@code table} under {@code scope}, on the driver, at
   * the same point of the program at every party (after the operator's agreement and its request
   * for correlated randomness).
   *
   * @param sent     metric the tasks' {@link DeepPartition#sent} counts add to, or null
   * @param received metric for {@link DeepPartition#received}, or null
   * @return this party's result of each partition, indexed by partition
   * @throws DeepStageException naming the operator when the stage failed for good
   */
  public static <R extends Serializable> List<R> run(MpcRuntime rt, SecureTable table,
      OperatorScope scope, DeepTask<R> task, SQLMetric sent, SQLMetric received) {
    MpcContext ctx = rt.context();
    RDD<org.sparkmpc.spark.table.SharePartition> parts = table.partitions().rdd();
    int n = parts.getNumPartitions();
    int width = WaveWidth.agree(parts.sparkContext(), ctx, scope, Math.max(1, n));
    if (n == 0) {
      return new ArrayList<>();
    }
    WaveRDD wave = new WaveRDD(parts, width);
    @SuppressWarnings({"unchecked", "rawtypes"})
    ClassTag<Tuple2<Integer, byte[]>> tag = (ClassTag) ClassTag$.MODULE$.apply(Tuple2.class);
    RDD<Tuple2<Integer, byte[]>> results = wave.barrier().mapPartitions(
        new WaveFunction<>(ctx.sessionId(), scope.id(), task, sent, received), false, tag);
    LOG.info("{}: {} partitions in one wave of {} tasks", scope, n, width);
    List<Tuple2<Integer, byte[]>> got;
    try {
      // Through a one-partition shuffle: Spark retries a failed barrier stage only when it is a
      // shuffle-map stage.
      got = JavaPairRDD.fromRDD(results, ClassTag$.MODULE$.apply(Integer.class),
          ClassTag$.MODULE$.apply(byte[].class)).partitionBy(new HashPartitioner(1)).collect();
    } catch (RuntimeException e) {
      throw failed(ctx, scope, e);
    }
    List<R> out = new ArrayList<>(java.util.Collections.nCopies(n, null));
    boolean[] seen = new boolean[n];
    for (Tuple2<Integer, byte[]> t : got) {
      int p = t._1();
      if (seen[p]) {
        throw new IllegalStateException(scope + ": partition " + p + " came back twice");
      }
      seen[p] = true;
      out.set(p, WaveFunction.<R>decode(t._2()));
    }
    return out;
  }

  /** The partitions each of the {@code width} wave tasks walks (for docs and tests). */
  static int[][] assignment(int partitions, int width) {
    int[][] a = new int[width][];
    for (int i = 0; i < width; i++) {
      a[i] = java.util.stream.IntStream.iterate(i, p -> p < partitions, p -> p + width).toArray();
    }
    return a;
  }

  /** The stage failed for good: tell the peers, and the error for this party's caller. */
  private static DeepStageException failed(MpcContext ctx, OperatorScope scope,
      RuntimeException e) {
    Throwable own = projectCause(e);
    String why = own != null ? own.getMessage()
        : firstLine(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    String party = ctx.directory().self().name();
    // Only this project's messages are known to hold no value; anything else is named by type.
    String told = own != null ? own.getMessage() : "its deep stage failed after Spark's retries ("
        + e.getClass().getSimpleName() + "; details in its own log)";
    try {
      ctx.channel().abort(ctx.sessionId(), scope.id(), "party '" + party + "' stopped " + scope
          + ": " + told);
    } catch (RuntimeException ignored) {
      e.addSuppressed(ignored);
    }
    return new DeepStageException(scope + " failed at party '" + party + "': " + why, e);
  }

  private static Throwable projectCause(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getClass().getName().startsWith("org.sparkmpc.")) {
        return t;
      }
    }
    return null;
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
