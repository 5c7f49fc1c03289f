package org.sparkmpc.net;

/**
 * Base of the channel's errors. Messages name parties, sessions, operators, partitions and rounds;
 * they never contain payload bytes, shares or secret values.
 */
public class MpcChannelException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public MpcChannelException(String message) {
    super(message);
  }

  public MpcChannelException(String message, Throwable cause) {
    super(message, cause);
  }
}
