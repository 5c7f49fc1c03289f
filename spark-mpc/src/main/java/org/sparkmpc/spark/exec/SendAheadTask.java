package org.sparkmpc.spark.exec;

import java.io.Serializable;

/**
 * A {@link DeepTask} whose work for a partition splits at its first wait for a peer: {@link
 * #start} does everything that needs the partition's data and sends the first round's messages
 * without waiting for any peer, and {@link #finish} waits for the peers and completes the rounds.
 * {@link DeepStage} runs {@code start} of a wave task's next partition before {@code finish} of
 * the current one, so that each partition's exchange is in flight while the next one is masked
 * and sent, instead of every partition waiting for its peers in turn. At most two partitions of a
 * wave task are held at a time.
 *
 * <p>Why this cannot deadlock: every party's wave task i walks the same partitions in the same
 * order, and {@code start} waits for no peer (it may wait for the dealer's material, which the
 * dealer sends without waiting for the parties), so the messages {@code finish} waits for are sent
 * by a peer's {@code start} that never waits for this party. Same contract as {@link DeepTask} on
 * what is sent: a function of the inputs and the session's keys only, so a retried stage re-sends
 * byte-identical messages.
 *
 * @param <S> what {@code start} hands to {@code finish} (pending triples, messages, local sums)
 * @param <R> this party's per-partition result
 */
public interface SendAheadTask<S, R extends Serializable> extends DeepTask<R> {

  /**
   * The partition's local work and the first round's sends; never waits for a peer. The only call
   * that may read {@code part.data()}: the partition's block may be released before {@link
   * #finish} runs.
   */
  S start(DeepPartition part) throws Exception;

  /** Wait for the peers and complete every round; {@code part.data()} is not available here. */
  R finish(DeepPartition part, S started) throws Exception;

  @Override
  default R run(DeepPartition part) throws Exception {
    S started = start(part);
    part.releaseData();
    return finish(part, started);
  }
}
