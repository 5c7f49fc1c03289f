package org.sparkmpc.net;

/** A peer did not deliver an expected message within the timeout; the message names peer and round. */
public class PeerTimeoutException extends MpcChannelException {
  private static final long serialVersionUID = 1L;

  public PeerTimeoutException(String message) {
    super(message);
  }
}
