package org.sparkmpc;

/**
 * Bad input found by this party (a null, a value out of the fixed-point range, a column of the wrong
 * type, an unknown column). Its message names the column, party and setting at fault and never holds
 * a secret value, so it may be shown to the peers when this party stops an operator.
 */
public class MpcInputException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public MpcInputException(String message) {
    super(message);
  }
}
