package org.sparkmpc.spark.exec;

import org.apache.spark.TaskContext;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.table.SharePartition;

/**
 * What a {@link DeepTask} gets for one partition of a secure table, inside its Spark task: the
 * partition index (the partition coordinate of every message and batch of correlated randomness
 * it uses), this party's shares of the partition (read them, never write), the party's session
 * (its channel to the peers), the operator id, the correlation source, and counters of the
 * operator's SQL metrics. Lives for the one partition; never serialised.
 */
public final class DeepPartition {
  private final int partition;
  private SharePartition data;
  private final String session;
  private final long operator;
  private final SQLMetric sent;
  private final SQLMetric received;
  private MpcContext context;
  private CorrelationSource source;

  DeepPartition(int partition, SharePartition data, String session, long operator, SQLMetric sent,
      SQLMetric received) {
    this.partition = partition;
    this.data = data;
    this.session = session;
    this.operator = operator;
    this.sent = sent;
    this.received = received;
  }

  /** The table partition: the partition coordinate of this task's messages and randomness. */
  public int partition() {
    return partition;
  }

  /** This party's shares of the partition (its table's cached block: read, never write). */
  public SharePartition data() {
    if (data == null) {
      throw new IllegalStateException("partition " + partition + " of operator " + operator
          + ": its data is read in SendAheadTask.start only");
    }
    return data;
  }

  /** After {@link SendAheadTask#start}: the block may be released, so it is no longer handed out. */
  void releaseData() {
    data = null;
  }

  /** The operator id handed out on the driver (the same at every party). */
  public long operator() {
    return operator;
  }

  /** The party's session in this JVM (the driver's, or an executor's opened from its ticket). */
  public MpcContext mpc() {
    if (context == null) {
      context = MpcRuntime.context(session);
    }
    return context;
  }

  /** The session's correlation source; an error naming the setting when it has none. */
  public CorrelationSource correlations() {
    if (source == null) {
      source = MpcRuntime.correlations(session);
    }
    return source;
  }

  /** Count {@code bytes} sent to peers in the operator's "bytes sent" metric. */
  public void sent(long bytes) {
    if (sent != null) {
      sent.add(bytes);
    }
  }

  /** Count {@code bytes} received from peers in the operator's "bytes received" metric. */
  public void received(long bytes) {
    if (received != null) {
      received.add(bytes);
    }
  }

  /**
   * Stop here if Spark killed this task attempt (its barrier stage failed elsewhere and is run
   * again): a long protocol may call it between rounds, so an abandoned attempt frees its slot.
   */
  public void checkAlive() {
    TaskContext tc = TaskContext.get();
    if (tc != null) {
      tc.killTaskIfInterrupted();
    }
  }
}
