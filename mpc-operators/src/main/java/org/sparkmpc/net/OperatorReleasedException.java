package org.sparkmpc.net;

/**
 * A message of an operator whose messages the receiving party has released ({@link
 * Channel#releaseOperator}): the operator has finished there, so the message arrived late (it is
 * refused, not stored), or a task of the finished operator asked for a message again. The message
 * names the party, the session and the operator.
 */
public class OperatorReleasedException extends ProtocolException {
  private static final long serialVersionUID = 1L;

  public OperatorReleasedException(String message) {
    super(message);
  }
}
