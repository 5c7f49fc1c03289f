package org.sparkmpc.spark;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.Dependency;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerEvent;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.sql.execution.SQLExecution;
import org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd;
import org.apache.spark.storage.RDDInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkmpc.session.OperatorScope;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Releases the messages of operators whose output Spark computes after the operator's driver-side
 * code has returned (a reveal of rows: its receive stage runs when the query consumes it), at the
 * end of the SQL execution that ran them, once it is certain that no task of theirs runs again:
 * <ul>
 *   <li>the execution succeeded;
 *   <li>a stage of it that completed computed every partition of the operator's output RDD (a
 *       {@code collect}; not a {@code take} or {@code show} that read some partitions, nor a
 *       {@code toLocalIterator} that reads them after the execution has ended);
 *   <li>no persisted RDD (a cached DataFrame, a local checkpoint) depends on that output, since
 *       Spark would recompute a lost block of it from the operator's tasks.
 * </ul>
 * Otherwise, or when the operator ran outside an SQL execution, its messages stay at the gateway
 * until the session ends. Operators whose result is on the driver when their code returns are
 * released there, with {@link MpcRuntime#releaseMessages}.
 */
final class FinishedOperators extends SparkListener {
  private static final Logger LOG = LoggerFactory.getLogger(FinishedOperators.class);

  /** An operator waiting for the end of its execution, and whether its output was computed. */
  private static final class Pending {
    final OperatorScope operator;
    final RDD<?> output;
    boolean computed;

    Pending(OperatorScope operator, RDD<?> output) {
      this.operator = operator;
      this.output = output;
    }
  }

  private final SparkContext sc;
  private final MpcRuntime runtime;
  private final Map<Long, List<Pending>> byExecution = new HashMap<>();

  FinishedOperators(SparkContext sc, MpcRuntime runtime) {
    this.sc = sc;
    this.runtime = runtime;
  }

  /**
   * Release {@code operator}'s messages at the end of the SQL execution running on this thread, if
   * the conditions of the class comment hold then; {@code output} is the RDD whose tasks read them.
   */
  synchronized void atExecutionEnd(OperatorScope operator, RDD<?> output) {
    String id = sc.getLocalProperty(SQLExecution.EXECUTION_ID_KEY());
    if (id == null) {
      LOG.debug("{} runs outside an SQL execution; its messages stay until the session ends",
          operator);
      return;
    }
    byExecution.computeIfAbsent(Long.parseLong(id), x -> new ArrayList<>())
        .add(new Pending(operator, output));
  }

  @Override
  public synchronized void onStageCompleted(SparkListenerStageCompleted event) {
    StageInfo stage = event.stageInfo();
    if (byExecution.isEmpty() || stage.failureReason().isDefined()) {
      return;
    }
    Set<Integer> whole = new HashSet<>();
    for (RDDInfo r : CollectionConverters.asJava(stage.rddInfos())) {
      if (r.numPartitions() == stage.numTasks()) {
        whole.add(r.id());
      }
    }
    for (List<Pending> list : byExecution.values()) {
      for (Pending p : list) {
        p.computed |= whole.contains(p.output.id());
      }
    }
  }

  @Override
  public void onOtherEvent(SparkListenerEvent event) {
    if (!(event instanceof SparkListenerSQLExecutionEnd end)) {
      return;
    }
    List<Pending> ended;
    synchronized (this) {
      ended = byExecution.remove(end.executionId());
    }
    if (ended == null) {
      return;
    }
    // Spark posts Some("") for an execution that succeeded (None only in old event logs).
    boolean failed = end.errorMessage().isDefined() && !end.errorMessage().get().isEmpty();
    for (Pending p : ended) {
      if (failed || !p.computed || cached(p.output)) {
        LOG.debug("{}: its output may be computed again; its messages stay until the session ends",
            p.operator);
      } else {
        runtime.releaseMessages(p.operator);
      }
    }
  }

  /** Forget the operators still waiting (the session ends, which drops every message). */
  synchronized void clear() {
    byExecution.clear();
  }

  /** Whether a persisted RDD depends on {@code rdd} (or is it). */
  private boolean cached(RDD<?> rdd) {
    Set<Integer> seen = new HashSet<>();
    ArrayDeque<RDD<?>> todo = new ArrayDeque<>();
    for (var r : JavaSparkContext.fromSparkContext(sc).getPersistentRDDs().values()) {
      todo.add(r.rdd());
    }
    while (!todo.isEmpty()) {
      RDD<?> r = todo.pop();
      if (r.id() == rdd.id()) {
        return true;
      }
      if (seen.add(r.id())) {
        for (Dependency<?> d : CollectionConverters.asJava(r.dependencies())) {
          todo.add(d.rdd());
        }
      }
    }
    return false;
  }
}
