package org.sparkmpc.net;

/**
 * How a receiving party answered one delivered message. {@link Mailbox#put} produces {@link #OK},
 * {@link #CONFLICT}, {@link #ENDED}, {@link #RELEASED}, {@link #OVER_CAPACITY} and (when closed)
 * {@link #REFUSED}; the {@link Gateway} adds {@link #REFUSED} for a sender claim that does not
 * match the peer's certificate and {@link #MALFORMED} for a frame it cannot parse. Each constant has
 * a fixed one-byte code used in the gateway's STATUS frame.
 */
public enum DeliveryStatus {
  /** Stored, or an identical duplicate of what is stored (accepted once, no second copy). */
  OK(0),
  /** A different payload is already stored under the same key; the conflict is recorded. */
  CONFLICT(1),
  /** The message's session has ended at the receiver: a replay of an old session. */
  ENDED(2),
  /** Refused: impersonation attempt, or the receiver is shutting down. */
  REFUSED(3),
  /** The frame could not be parsed; the receiver closes the connection. */
  MALFORMED(4),
  /** The receive buffer stayed full for the whole timeout, or the message is larger than it. */
  OVER_CAPACITY(5),
  /** The message's operator has finished at the receiver and its messages were released. */
  RELEASED(6);

  private final int code;

  DeliveryStatus(int code) {
    this.code = code;
  }

  /** The status byte on the wire. */
  public int code() {
    return code;
  }

  /** The status with wire code {@code code}, or {@code null} if there is none. */
  public static DeliveryStatus fromCode(int code) {
    for (DeliveryStatus s : values()) {
      if (s.code == code) {
        return s;
      }
    }
    return null;
  }
}
