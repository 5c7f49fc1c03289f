package org.sparkmpc.spark.exec;

/**
 * A deep protocol's stage failed for good at this party (Spark's retries ran out, or a task failed
 * with an error a retry cannot mend). The message names the operator and the party, and the cause
 * when it is one of this project's errors (which name parties, rounds and settings, never values);
 * the peers were told, so they fail too instead of waiting for the timeout.
 */
public final class DeepStageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public DeepStageException(String message, Throwable cause) {
    super(message, cause);
  }
}
