package org.sparkmpc.net;

import java.time.Duration;

/**
 * The share-exchange channel as a party's protocol code sees it: send a payload to one peer and wait
 * for the payload a peer sent under a key. Implementations: {@link Gateway} (mutual TLS 1.3 between
 * processes) and {@link LocalChannelHub} (parties as threads in one JVM, for protocol tests).
 *
 * <p>Buffer ownership: {@link #send} takes ownership of {@code payload}; the caller must not modify
 * it afterwards. {@link #receive} returns an array the caller owns (a copy of what the gateway
 * keeps, so a retried task can read it again).
 *
 * <p>Every call is thread-safe: the tasks of one party share one channel.
 */
public interface Channel extends AutoCloseable {

  /** The party list (same order at every party) and this party's index in it. */
  PartyDirectory directory();

  /** Index of this party. */
  default int self() {
    return directory().selfIndex();
  }

  /**
   * Deliver {@code payload} to party {@code to} under {@code key}; {@code key.sender()} must be this
   * party. Returns once the peer's gateway accepted it (a duplicate with identical bytes counts as
   * accepted).
   *
   * @throws PeerUnavailableException if the peer cannot be reached within the timeout
   * @throws ProtocolException if the peer refuses the message (conflicting duplicate, ended session)
   */
  void send(int to, MessageKey key, byte[] payload);

  /**
   * Wait for the payload that party {@code key.sender()} sent to this party under {@code key}.
   *
   * @throws PeerTimeoutException naming the peer and the round, if nothing arrives within {@code timeout}
   * @throws ProtocolException if the peer sent conflicting payloads under this key
   */
  byte[] receive(MessageKey key, Duration timeout);

  /**
   * Partition number reserved for abort notices (real partitions are >= -1); the session's
   * coordinate allocator reserves it ({@link org.sparkmpc.session.Coordinates#ABORT_PARTITION}).
   */
  int ABORT_PARTITION = org.sparkmpc.session.Coordinates.ABORT_PARTITION;

  /**
   * Tell every peer that this party stopped {@code operator}: any of their receives from this party
   * for that operator then fails at once with {@code reason} instead of waiting for the timeout.
   * The notice is an ordinary message under partition {@link #ABORT_PARTITION}, so it travels the
   * same authenticated path. {@code reason} must hold no secret (it is shown to the peers). Peers
   * that cannot be reached are skipped: they will time out, naming this party.
   */
  default void abort(String session, long operator, String reason) {
    String text = reason == null ? "no reason given" : reason;
    if (text.length() > 1000) {
      text = text.substring(0, 1000) + "...";
    }
    byte[] payload = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    MessageKey key = new MessageKey(session, operator, ABORT_PARTITION, 0, self());
    for (int q = 0; q < directory().size(); q++) {
      if (q != self()) {
        try {
          send(q, key, payload.clone());
        } catch (MpcChannelException e) {
          // unreachable or already told (a retried task aborting again with another text)
        }
      }
    }
  }

  /** Forget every message of {@code session}; later messages for it are refused as replays. */
  void endSession(String session);

  /**
   * Forget every message of {@code operator} in {@code session} that this party holds, and refuse
   * the operator's later messages: a late one is answered {@link DeliveryStatus#RELEASED} (its
   * sender gets an {@link OperatorReleasedException} naming the operator), and a {@link #receive}
   * of one fails with that exception. Other operators' messages are kept.
   *
   * <p>Call it once the operator has finished for good at this party, so that no task of it can run
   * again (in Spark: its jobs completed and its result is on the driver); never for an operator whose
   * output may be recomputed from lineage (a cached secure table), whose messages must stay until
   * the session ends.
   */
  void releaseOperator(String session, long operator);

  /** Counters of bytes and messages this channel sent and received (all sessions). */
  ChannelStats stats();

  @Override
  void close();
}
