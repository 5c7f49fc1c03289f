package org.sparkmpc.inference;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.sparkmpc.correlation.BeaverTriples;
import org.sparkmpc.correlation.BitTriples;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.DaBits;
import org.sparkmpc.correlation.EdaBits;
import org.sparkmpc.correlation.MatrixTriples;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.correlation.TruncationPairs;

/**
 * One operator's correlated randomness, asked for and fetched ahead (the dealer's corrections
 * received, the PRG shares expanded, the OT material generated) and then handed to the kernels
 * from memory, so that a request's online phase waits for nothing but its peers. This party's
 * shares only; never logged.
 */
final class PreparedMaterial implements CorrelationSource {
  private final CorrelationSource source;
  private final long operator;
  private final Map<Long, Object> held = new HashMap<>();

  private PreparedMaterial(CorrelationSource source, long operator) {
    this.source = source;
    this.operator = operator;
  }

  /** Ask {@code source} for {@code needs} of {@code operator} and fetch all of it. */
  static PreparedMaterial prepare(CorrelationSource source, long operator, List<Need> needs) {
    source.request(operator, needs);
    PreparedMaterial m = new PreparedMaterial(source, operator);
    for (Need x : needs) {
      int p = x.partition();
      int s = x.stream();
      Object got = switch (x.kind()) {
        case Need.TRIPLES -> source.triples(operator, p, s, x.n());
        case Need.TRUNCATION -> source.truncationPairs(operator, p, s, x.n(), x.q());
        case Need.MATRIX -> source.matrixTriples(operator, p, s, x.n(), x.p(), x.q(), x.r());
        case Need.BIT_TRIPLES -> source.bitTriples(operator, p, s, x.n());
        case Need.EDABITS -> source.edaBits(operator, p, s, x.n());
        case Need.DABITS -> source.daBits(operator, p, s, x.n());
        default -> throw new IllegalArgumentException("an inference operator does not use "
            + "correlations of kind " + x.kind());
      };
      m.held.put(key(p, s), got);
    }
    return m;
  }

  private static long key(int partition, int stream) {
    return ((long) partition << 32) | (stream & 0xffffffffL);
  }

  private <T> T get(Class<T> type, long op, int partition, int stream, String what) {
    Object m = op == operator ? held.get(key(partition, stream)) : null;
    if (!type.isInstance(m)) {
      throw new IllegalStateException("no " + what + " were prepared for operator " + op
          + ", partition " + partition + ", stream " + stream);
    }
    return type.cast(m);
  }

  @Override
  public BeaverTriples triples(long op, int partition, int stream, int n) {
    return get(BeaverTriples.class, op, partition, stream, "Beaver triples");
  }

  @Override
  public TruncationPairs truncationPairs(long op, int partition, int stream, int n, int f) {
    return get(TruncationPairs.class, op, partition, stream, "truncation pairs");
  }

  @Override
  public MatrixTriples matrixTriples(long op, int partition, int stream, int count, int p,
      int q, int r) {
    return get(MatrixTriples.class, op, partition, stream, "matrix triples");
  }

  @Override
  public BitTriples bitTriples(long op, int partition, int stream, int words) {
    return get(BitTriples.class, op, partition, stream, "boolean triples");
  }

  @Override
  public EdaBits edaBits(long op, int partition, int stream, int n) {
    return get(EdaBits.class, op, partition, stream, "edaBits");
  }

  @Override
  public DaBits daBits(long op, int partition, int stream, int n) {
    return get(DaBits.class, op, partition, stream, "daBits");
  }

  @Override
  public boolean hasMatrixTriples() {
    return source.hasMatrixTriples();
  }

  @Override
  public boolean hasTruncationPairs() {
    return source.hasTruncationPairs();
  }

  @Override
  public void request(long op, List<Need> needs) {
    throw new IllegalStateException("prepared material is asked for when it is prepared");
  }

  @Override
  public String name() {
    return source.name();
  }
}
