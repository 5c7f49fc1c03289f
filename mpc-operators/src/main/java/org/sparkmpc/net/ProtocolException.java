package org.sparkmpc.net;

/**
 * A peer broke the protocol: malformed frame, a sender claim that does not match its certificate, a
 * conflicting duplicate, a message for an ended session, or parties that disagree on the query or
 * on the table's partitioning contract.
 */
public class ProtocolException extends MpcChannelException {
  private static final long serialVersionUID = 1L;

  public ProtocolException(String message) {
    super(message);
  }

  public ProtocolException(String message, Throwable cause) {
    super(message, cause);
  }
}
