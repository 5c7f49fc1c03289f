package org.sparkmpc.spark.exec;

import java.io.Serializable;

/**
 * The per-partition body of a deep protocol: every round of the protocol for one partition of a
 * secure table, run inside one Spark task by {@link DeepStage}. It gets the partition's shares,
 * the party's session and correlation source through a {@link DeepPartition}, exchanges one
 * message per round with the same partition's task at every peer, and returns this party's part of
 * the result (a share, a partial sum), which {@link DeepStage#run} hands to the driver by partition.
 *
 * <p>Contract: what it sends must be a function of its inputs and the session's keys only (the
 * triples, masks and rounds of its operator's scope), so that a retried stage re-sends
 * byte-identical messages; it uses only the rounds and streams its operator's scope handed out;
 * it never puts a share or a value in an exception message or a log line.
 *
 * @param <R> this party's per-partition result
 */
@FunctionalInterface
public interface DeepTask<R extends Serializable> extends Serializable {

  /** Run every round of the protocol for {@code part}'s partition; return this party's result. */
  R run(DeepPartition part) throws Exception;
}
