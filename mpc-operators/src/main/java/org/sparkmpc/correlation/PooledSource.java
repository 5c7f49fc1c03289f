package org.sparkmpc.correlation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Correlated randomness of a long algorithm (a training loop of hundreds of steps) asked for in a
 * few large batches instead of one per step. The algorithm, counted first, asks for its material
 * on virtual streams {@code 0..n-1}, one per step; {@link #plan} groups those needs by kind and
 * shape into one batch each (daBits aligned to whole words), and the live source hands each
 * virtual stream its slice of the batch. With the dealer, each batch is one message to the last
 * party instead of one per step, so a loop of hundreds of steps waits for a handful of messages.
 * The slices are exactly the material a batch of that size would hold, so nothing about the
 * protocols changes. Reveals nothing.
 */
public final class PooledSource implements CorrelationSource {
  private final CorrelationSource inner;
  private final Plan plan;
  private final Object[] batches;

  /** Where each virtual stream's material lies, and the real batches to request. */
  public static final class Plan {
    private final Map<Integer, int[]> slices = new HashMap<>(); // virtual -> {group, offset}
    private final List<Need> groups = new ArrayList<>(); // stream = group index

    /** The real batches, their streams {@code 0..} to be mapped onto the operator's block. */
    public List<Need> batches() {
      return groups;
    }
  }

  private PooledSource(CorrelationSource inner, Plan plan, Object[] batches) {
    this.inner = inner;
    this.plan = plan;
    this.batches = batches;
  }

  /** Group {@code virtual} (needs on virtual streams, one partition) into batches. */
  public static Plan plan(List<Need> virtual) {
    Plan p = new Plan();
    Map<String, Integer> byKey = new LinkedHashMap<>();
    List<long[]> totals = new ArrayList<>();
    for (Need n : virtual) {
      if (n.kind() == Need.GRAM) {
        throw new IllegalArgumentException("Gram triples are not pooled");
      }
      String key = n.kind() + "/" + n.p() + "/" + n.q() + "/" + n.r();
      Integer g = byKey.get(key);
      if (g == null) {
        g = byKey.size();
        byKey.put(key, g);
        totals.add(new long[1]);
        p.groups.add(n);
      }
      long at = totals.get(g)[0];
      if (n.kind() == Need.DABITS) {
        at = (at + 63) & ~63L; // whole words of packed bits
      }
      if (at + n.n() > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("a pooled batch of more than 2^31 elements");
      }
      p.slices.put(n.stream(), new int[] {g, (int) at});
      totals.get(g)[0] = at + n.n();
    }
    for (int g = 0; g < p.groups.size(); g++) {
      Need n = p.groups.get(g);
      p.groups.set(g, new Need(n.kind(), n.partition(), g, (int) totals.get(g)[0], n.p(), n.q(),
          n.r()));
    }
    return p;
  }

  /**
   * The live source of one operator and partition: fetches every batch of {@code plan} now (on the
   * real streams {@code firstStream + group}) and serves the virtual streams from them.
   */
  public static PooledSource fetch(CorrelationSource inner, Plan plan, long operator,
      int partition, int firstStream) {
    Object[] b = new Object[plan.groups.size()];
    for (int g = 0; g < b.length; g++) {
      Need n = plan.groups.get(g);
      int s = firstStream + g;
      b[g] = switch (n.kind()) {
        case Need.TRIPLES -> inner.triples(operator, partition, s, n.n());
        case Need.TRUNCATION -> inner.truncationPairs(operator, partition, s, n.n(), n.q());
        case Need.MATRIX -> inner.matrixTriples(operator, partition, s, n.n(), n.p(), n.q(),
            n.r());
        case Need.BIT_TRIPLES -> inner.bitTriples(operator, partition, s, n.n());
        case Need.EDABITS -> inner.edaBits(operator, partition, s, n.n());
        case Need.DABITS -> inner.daBits(operator, partition, s, n.n());
        default -> throw new IllegalStateException("unexpected need " + n);
      };
    }
    return new PooledSource(inner, plan, b);
  }

  private int[] slice(int stream) {
    int[] s = plan.slices.get(stream);
    if (s == null) {
      throw new IllegalStateException("virtual stream " + stream + " was not counted");
    }
    return s;
  }

  private static long[] cut(long[] v, int from, int n) {
    return Arrays.copyOfRange(v, from, from + n);
  }

  @Override
  public BeaverTriples triples(long operator, int partition, int stream, int n) {
    int[] s = slice(stream);
    BeaverTriples t = (BeaverTriples) batches[s[0]];
    return new BeaverTriples(cut(t.a(), s[1], n), cut(t.b(), s[1], n), cut(t.c(), s[1], n));
  }

  @Override
  public TruncationPairs truncationPairs(long operator, int partition, int stream, int n, int f) {
    int[] s = slice(stream);
    TruncationPairs t = (TruncationPairs) batches[s[0]];
    return new TruncationPairs(cut(t.r(), s[1], n), cut(t.shifted(), s[1], n),
        cut(t.msb(), s[1], n), f);
  }

  @Override
  public MatrixTriples matrixTriples(long operator, int partition, int stream, int count, int p,
      int q, int r) {
    int[] s = slice(stream);
    MatrixTriples t = (MatrixTriples) batches[s[0]];
    return new MatrixTriples(cut(t.a(), s[1] * p * q, count * p * q),
        cut(t.b(), s[1] * q * r, count * q * r), cut(t.c(), s[1] * p * r, count * p * r), count,
        p, q, r);
  }

  @Override
  public BitTriples bitTriples(long operator, int partition, int stream, int words) {
    int[] s = slice(stream);
    BitTriples t = (BitTriples) batches[s[0]];
    return new BitTriples(cut(t.a(), s[1], words), cut(t.b(), s[1], words),
        cut(t.c(), s[1], words));
  }

  @Override
  public EdaBits edaBits(long operator, int partition, int stream, int n) {
    int[] s = slice(stream);
    EdaBits t = (EdaBits) batches[s[0]];
    return new EdaBits(cut(t.r(), s[1], n), cut(t.bits(), s[1], n));
  }

  @Override
  public DaBits daBits(long operator, int partition, int stream, int n) {
    int[] s = slice(stream);
    DaBits t = (DaBits) batches[s[0]];
    return new DaBits(cut(t.arith(), s[1], n), cut(t.bits(), s[1] >>> 6, DaBits.words(n)));
  }

  @Override
  public boolean hasMatrixTriples() {
    return inner.hasMatrixTriples();
  }

  @Override
  public boolean hasTruncationPairs() {
    return inner.hasTruncationPairs();
  }

  /** The batches were requested by the plan's owner: a pooled source asks for nothing itself. */
  @Override
  public void request(long operator, List<Need> needs) {
    throw new UnsupportedOperationException("a pooled source's batches are requested from the "
        + "source it wraps");
  }

  @Override
  public String name() {
    return inner.name() + " (pooled)";
  }
}
