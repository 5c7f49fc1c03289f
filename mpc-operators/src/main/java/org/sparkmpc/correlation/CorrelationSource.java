package org.sparkmpc.correlation;

/**
 * Where one party gets correlated randomness: Beaver triples {@code (a, b, c)} with
 * {@code c = a * b} in Z(2^64), additively shared among the computing parties, this party holding
 * one share of each; and, for comparisons, boolean triples, edaBits and daBits. Two implementations: a dealer that must not collude with any party
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

  /**
   * This party's shares of {@code n} truncation pairs for a shift of {@code f} bits, for
   * {@link org.sparkmpc.protocol.Truncation#withPairs}. Sources that cannot hand them out
   * without interaction refuse.
   */
  default TruncationPairs truncationPairs(long operator, int partition, int stream, int n, int f) {
    throw new UnsupportedOperationException("the " + name() + " correlation source has no "
        + "truncation pairs");
  }

  /** This party's shares of {@code count} matrix triples of shape p×q by q×r. */
  default MatrixTriples matrixTriples(long operator, int partition, int stream, int count, int p,
      int q, int r) {
    throw new UnsupportedOperationException("the " + name() + " correlation source has no "
        + "matrix triples");
  }

  /** This party's shares of a Gram triple for a rows×cols block. */
  default GramTriple gramTriple(long operator, int partition, int stream, int rows, int cols) {
    throw new UnsupportedOperationException("the " + name() + " correlation source has no "
        + "Gram triples");
  }

  /**
   * This party's XOR shares of {@code words} words of boolean triples (64 AND gates per word).
   * Sources that cannot make them refuse.
   */
  default BitTriples bitTriples(long operator, int partition, int stream, int words) {
    throw new UnsupportedOperationException("the " + name() + " correlation source has no "
        + "boolean triples");
  }

  /** This party's shares of {@code n} edaBits. Sources that cannot make them refuse. */
  default EdaBits edaBits(long operator, int partition, int stream, int n) {
    throw new UnsupportedOperationException("the " + name() + " correlation source has no "
        + "edaBits");
  }

  /** This party's shares of {@code n} daBits. Sources that cannot make them refuse. */
  default DaBits daBits(long operator, int partition, int stream, int n) {
    throw new UnsupportedOperationException("the " + name() + " correlation source has no "
        + "daBits");
  }

  /** Whether {@link #matrixTriples} and {@link #gramTriple} are available. */
  default boolean hasMatrixTriples() {
    return false;
  }

  /** Whether {@link #truncationPairs} is available. */
  default boolean hasTruncationPairs() {
    return false;
  }

  /**
   * Make an operator's material ready, called by every party's driver in operator order when the
   * operator starts: the dealer is sent the list; an interactive source generates it now.
   */
  void request(long operator, java.util.List<Need> needs);

  /** Forget an operator's material, once no task of it can run again. */
  default void release(long operator) {}

  /** A short name for logs and docs ({@code dealer}, {@code ot}). */
  String name();

  @Override
  default void close() {}
}
