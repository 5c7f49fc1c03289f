package org.sparkmpc.net;

/**
 * A peer stopped an operator (bad input at that party, a refused plan, a failure) and said why; the
 * message carries the peer's reason, which by contract names columns, parties and settings only.
 */
public class PeerAbortedException extends ProtocolException {
  private static final long serialVersionUID = 1L;

  public PeerAbortedException(String message) {
    super(message);
  }
}
