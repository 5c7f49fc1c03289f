package org.sparkmpc.spark;

import org.apache.spark.ExceptionFailure;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fails a secure stage at its first task that failed with one of this project's errors, instead
 * of letting Spark retry it ({@code spark.task.maxFailures} times, each waiting up to
 * {@code spark.mpc.timeout} again). Such an error is not mended by a retry: a peer that did not
 * answer within the timeout, a gateway that is down, a protocol violation, a query the parties
 * disagree on, or bad input. Tasks lost with their executor are not errors of this kind and are
 * retried by Spark as usual (the gateway keeps the messages a retried task needs).
 *
 * <p>The stage is cancelled with the error's message, which names the party and the round and
 * never a value, so the party's job fails within about one timeout with that message.
 */
final class SecureTaskFailures extends SparkListener {
  private static final Logger LOG = LoggerFactory.getLogger(SecureTaskFailures.class);
  private final SparkContext sc;

  SecureTaskFailures(SparkContext sc) {
    this.sc = sc;
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd end) {
    if (end.reason() instanceof ExceptionFailure f && f.className().startsWith("org.sparkmpc.")) {
      String cause = f.className().substring(f.className().lastIndexOf('.') + 1) + ": "
          + f.description();
      LOG.warn("stage {}: a secure task failed with an error a retry cannot mend; cancelling the "
          + "stage: {}", end.stageId(), cause);
      sc.cancelStage(end.stageId(), cause);
    }
  }
}
