package org.sparkmpc.net;

import java.util.Objects;

/**
 * Identity of one cross-party message: who sent it, for which session, operator, partition and
 * protocol round. A receiving gateway stores at most one payload per key; a second arrival with the
 * same bytes is accepted once (a retried task), with different bytes it is a protocol error.
 *
 * <p>The receiver is implicit: it is the gateway the message was delivered to.
 *
 * @param session   the agreed session id (hex), or a {@code hello/...} label before agreement
 * @param operator  deterministic id of the secure operator within the session
 * @param partition partition index, or {@code -1} for driver-level rounds (plan agreement)
 * @param round     protocol round within the operator and partition
 * @param sender    index of the sending party in the party list
 */
public record MessageKey(String session, long operator, int partition, int round, int sender) {

  /**
   * Prefix of the sessions of session hellos ({@code hello/<job name>}). Their messages are
   * <em>renewed</em>: a later message under the same key replaces one not yet received, receiving
   * one consumes it, and one that arrived longer ago than the receiver's whole wait is dropped as
   * left over from a run that gave up. So a long-lived gateway serves re-runs of the same job, each
   * with fresh hellos, instead of refusing them as conflicting duplicates.
   */
  public static final String HELLO_PREFIX = "hello/";

  /** Whether this key's messages are renewed (see {@link #HELLO_PREFIX}). */
  public boolean renewable() {
    return session.startsWith(HELLO_PREFIX);
  }

  public MessageKey {
    Objects.requireNonNull(session, "session");
    if (session.isEmpty() || session.length() > 256) {
      throw new IllegalArgumentException("session id must have 1..256 characters");
    }
    if (sender < 0) {
      throw new IllegalArgumentException("sender index must be >= 0, was " + sender);
    }
  }

  /** The same message coordinates, as sent by another party. */
  public MessageKey withSender(int otherSender) {
    return new MessageKey(session, operator, partition, round, otherSender);
  }

  /** Human-readable coordinates for error messages; contains no payload. */
  public String describe() {
    return "session " + session + ", operator " + operator + ", partition " + partition + ", round " + round;
  }
}
