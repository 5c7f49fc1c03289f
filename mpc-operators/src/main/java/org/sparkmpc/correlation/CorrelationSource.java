package org.sparkmpc.correlation;

/**
 * Where one party gets correlated randomness for multiplication: Beaver triples {@code (a, b, c)}
 * with {@code c = a * b} in Z(2^64), additively shared among the computing parties, this party
 * holding one share of each. Two implementations: a dealer that must not collude with any party
 * (cheap, any number of parties) and a dealer-free source for two parties built on oblivious
 * transfer extension.
 *
 * <p>Determinism: the material for a given (operator, partition, stream) is the same every time it
 * is asked for in a session, so a retried Spark task gets the same triples and re-sends identical
 * messages.
 */
public interface CorrelationSource extends AutoCloseable {

  /**
   * This party's shares of {@code n} Beaver triples for the given coordinates.
   *
   * @param operator  secure operator id (the same at every party)
   * @param partition partition index
   * @param stream    distinguishes several batches within one operator and partition
   */
  BeaverTriples triples(long operator, int partition, int stream, int n);

  /** A short name for logs and docs ({@code dealer}, {@code ot}). */
  String name();

  @Override
  default void close() {}
}
