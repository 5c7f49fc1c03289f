package org.sparkmpc.net;

/** A peer's gateway could not be reached (down, refused, or failed the TLS handshake) within the timeout. */
public class PeerUnavailableException extends MpcChannelException {
  private static final long serialVersionUID = 1L;

  public PeerUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
