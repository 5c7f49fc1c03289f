package org.sparkmpc.inference;

import java.util.Arrays;
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
 * One operator's correlated randomness for {@code slots} requests of the same shape, asked for and
 * fetched ahead (the dealer's corrections received, the PRG shares expanded, the OT material
 * generated) in one batch per stream, and then handed to each request's kernels from memory: the
 * request in partition {@code j} gets slice {@code j} of every batch ({@link #view}). So the
 * source's fixed costs (a dealer request, a message and a few PRG keys per batch, the OT
 * extension's rounds) are paid once for {@code slots} requests, and a request's online phase waits
 * for nothing but its peers. This party's shares only; never logged.
 */
final class PreparedMaterial {
  private record Batch(Need perSlot, Object pooled) {}

  private final CorrelationSource source;
  private final long operator;
  private final int slots;
  private final Map<Integer, Batch> byStream = new HashMap<>();

  private PreparedMaterial(CorrelationSource source, long operator, int slots) {
    this.source = source;
    this.operator = operator;
    this.slots = slots;
  }

  /**
   * Ask {@code source} for {@code slots} times each of {@code perSlot} (the needs of one request,
   * in partition 0) of {@code operator}, and fetch all of it.
   */
  static PreparedMaterial prepare(CorrelationSource source, long operator, List<Need> perSlot,
      int slots) {
    List<Need> pooled = perSlot.stream().map(x -> new Need(x.kind(), 0, x.stream(),
        Math.multiplyExact(x.n(), slots), x.p(), x.q(), x.r())).toList();
    source.request(operator, pooled);
    PreparedMaterial m = new PreparedMaterial(source, operator, slots);
    for (int i = 0; i < pooled.size(); i++) {
      Need x = pooled.get(i);
      int s = x.stream();
      Object got = switch (x.kind()) {
        case Need.TRIPLES -> source.triples(operator, 0, s, x.n());
        case Need.TRUNCATION -> source.truncationPairs(operator, 0, s, x.n(), x.q());
        case Need.MATRIX -> source.matrixTriples(operator, 0, s, x.n(), x.p(), x.q(), x.r());
        case Need.BIT_TRIPLES -> source.bitTriples(operator, 0, s, x.n());
        case Need.EDABITS -> source.edaBits(operator, 0, s, x.n());
        case Need.DABITS -> source.daBits(operator, 0, s, x.n());
        default -> throw new IllegalArgumentException("an inference operator does not use "
            + "correlations of kind " + x.kind());
      };
      m.byStream.put(s, new Batch(perSlot.get(i), got));
    }
    return m;
  }

  /** The material of the request in partition {@code slot}, as a correlation source. */
  CorrelationSource view(int slot) {
    if (slot < 0 || slot >= slots) {
      throw new IllegalArgumentException("slot " + slot + " of " + slots);
    }
    return new View(slot);
  }

  private static long[] range(long[] a, int from, int n) {
    return Arrays.copyOfRange(a, from, from + n);
  }

  /** Bits {@code from..from+n} of packed words, packed from bit 0. */
  private static long[] bits(long[] words, int from, int n) {
    long[] out = new long[DaBits.words(n)];
    for (int i = 0; i < n; i++) {
      int at = from + i;
      out[i >>> 6] |= ((words[at >>> 6] >>> (at & 63)) & 1L) << (i & 63);
    }
    return out;
  }

  /** Slice {@code j} of a batch of {@code slots} requests' material. */
  private Object slice(Batch b, int j) {
    if (slots == 1) {
      return b.pooled();
    }
    Need x = b.perSlot();
    int n = x.n();
    int at = j * n;
    return switch (x.kind()) {
      case Need.TRIPLES -> {
        BeaverTriples t = (BeaverTriples) b.pooled();
        yield new BeaverTriples(range(t.a(), at, n), range(t.b(), at, n), range(t.c(), at, n));
      }
      case Need.TRUNCATION -> {
        TruncationPairs t = (TruncationPairs) b.pooled();
        yield new TruncationPairs(range(t.r(), at, n), range(t.shifted(), at, n),
            range(t.msb(), at, n), t.f());
      }
      case Need.MATRIX -> {
        MatrixTriples t = (MatrixTriples) b.pooled();
        int pq = x.p() * x.q();
        int qr = x.q() * x.r();
        int pr = x.p() * x.r();
        yield new MatrixTriples(range(t.a(), at * pq, n * pq), range(t.b(), at * qr, n * qr),
            range(t.c(), at * pr, n * pr), n, x.p(), x.q(), x.r());
      }
      case Need.BIT_TRIPLES -> {
        BitTriples t = (BitTriples) b.pooled();
        yield new BitTriples(range(t.a(), at, n), range(t.b(), at, n), range(t.c(), at, n));
      }
      case Need.EDABITS -> {
        EdaBits t = (EdaBits) b.pooled();
        yield new EdaBits(range(t.r(), at, n), range(t.bits(), at, n));
      }
      case Need.DABITS -> {
        DaBits t = (DaBits) b.pooled();
        yield new DaBits(range(t.arith(), at, n), bits(t.bits(), at, n));
      }
      default -> throw new IllegalArgumentException("correlations of kind " + x.kind());
    };
  }

  /** One request's slice of every batch; its kernels run in partition {@code slot}. */
  private final class View implements CorrelationSource {
    private final int slot;

    View(int slot) {
      this.slot = slot;
    }

    private <T> T get(Class<T> type, long op, int partition, int stream, String what) {
      Batch b = op == operator && partition == slot ? byStream.get(stream) : null;
      Object m = b == null ? null : slice(b, slot);
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
}
