package org.sparkmpc.correlation;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.session.Coordinates;

/**
 * One batch of correlated randomness an operator will use, named by its coordinates (partition and
 * stream within the operator) and its kind and shape. Every party derives the same list from the
 * agreed plan; the dealer is sent it ahead of the online phase, the OT source generates it.
 *
 * @param kind      {@link #TRIPLES}, {@link #TRUNCATION}, {@link #MATRIX}, {@link #GRAM},
 *                  {@link #BIT_TRIPLES}, {@link #EDABITS} or {@link #DABITS}
 * @param partition partition index, or {@link Coordinates#DRIVER_PARTITION} for driver-level
 *                  rounds; never a reserved partition (the dealer sends its corrections there)
 * @param stream    a stream the operator's {@link org.sparkmpc.session.OperatorScope} handed out
 *                  ({@code 0..}{@link Coordinates#MAX_STREAMS}{@code - 1}); distinguishes batches
 *                  of one operator and partition
 * @param n         triples, truncation pairs or matrix triples in the batch; rows for GRAM;
 *                  64-gate words for BIT_TRIPLES; edaBits or daBits for EDABITS, DABITS
 * @param p         MATRIX: rows of the left factor; GRAM: columns; otherwise 0
 * @param q         MATRIX: inner dimension; TRUNCATION: the shift in bits; otherwise 0
 * @param r         MATRIX: columns of the right factor; otherwise 0
 */
public record Need(int kind, int partition, int stream, int n, int p, int q, int r) {
  /** Beaver triples: {@code c = a * b}, elementwise. */
  public static final int TRIPLES = 1;
  /** Truncation pairs: {@code r}, {@code r >>> f} and the top bit of {@code r}. */
  public static final int TRUNCATION = 2;
  /** Matrix triples: {@code C = A B} for {@code A} of p×q and {@code B} of q×r. */
  public static final int MATRIX = 3;
  /** Gram triples: {@code C = AᵀA} for {@code A} of n×p. */
  public static final int GRAM = 4;
  /** Boolean triples, XOR-shared, 64 AND gates packed per word: {@code c = a & b}. */
  public static final int BIT_TRIPLES = 5;
  /** edaBits: random {@code r} shared additively and as XOR-shared 64-bit words. */
  public static final int EDABITS = 6;
  /** daBits: random bits shared additively and XOR-shared (packed 64 per word). */
  public static final int DABITS = 7;
  /** Largest number of elements one batch may expand to. */
  public static final long MAX_ELEMENTS = 1L << 28;

  public Need {
    if (kind < TRIPLES || kind > DABITS || partition < Coordinates.DRIVER_PARTITION || stream < 0
        || stream >= Coordinates.MAX_STREAMS || n < 0 || p < 0 || q < 0 || r < 0
        || elements(kind, n, p, q, r) > MAX_ELEMENTS) {
      throw new IllegalArgumentException("bad correlation request: kind " + kind + ", partition "
          + partition + ", stream " + stream + ", n " + n + ", shape " + p + "x" + q + "x" + r);
    }
    if (kind == TRUNCATION && (q < 1 || q > 62)) {
      throw new IllegalArgumentException("truncation shift must be 1..62 bits, was " + q);
    }
  }

  /** {@code n} Beaver triples. */
  public static Need triples(int partition, int stream, int n) {
    return new Need(TRIPLES, partition, stream, n, 0, 0, 0);
  }

  /** {@code n} truncation pairs for a shift of {@code f} bits. */
  public static Need truncation(int partition, int stream, int n, int f) {
    return new Need(TRUNCATION, partition, stream, n, 0, f, 0);
  }

  /** {@code count} matrix triples for products of a p×q by a q×r matrix. */
  public static Need matrix(int partition, int stream, int count, int p, int q, int r) {
    return new Need(MATRIX, partition, stream, count, p, q, r);
  }

  /** One Gram triple for an n×cols block. */
  public static Need gram(int partition, int stream, int rows, int cols) {
    return new Need(GRAM, partition, stream, rows, cols, 0, 0);
  }

  /** {@code words} words of boolean triples (64 AND gates each). */
  public static Need bitTriples(int partition, int stream, int words) {
    return new Need(BIT_TRIPLES, partition, stream, words, 0, 0, 0);
  }

  /** {@code n} edaBits. */
  public static Need edaBits(int partition, int stream, int n) {
    return new Need(EDABITS, partition, stream, n, 0, 0, 0);
  }

  /** {@code n} daBits. */
  public static Need daBits(int partition, int stream, int n) {
    return new Need(DABITS, partition, stream, n, 0, 0, 0);
  }

  private static long elements(int kind, long n, long p, long q, long r) {
    return switch (kind) {
      case MATRIX -> n * (p * q + q * r + p * r);
      case GRAM -> n * p + p * p;
      case EDABITS -> 2 * n;
      case DABITS -> n + (n + 63) / 64;
      default -> 3 * n;
    };
  }

  static byte[] encode(List<Need> needs) {
    ByteBuffer b = ByteBuffer.allocate(4 + 28 * needs.size()).putInt(needs.size());
    for (Need x : needs) {
      b.putInt(x.kind).putInt(x.partition).putInt(x.stream).putInt(x.n).putInt(x.p).putInt(x.q)
          .putInt(x.r);
    }
    return b.array();
  }

  /** The needs of a request, or null for the end-of-session marker. */
  static List<Need> decode(byte[] req, long operator) {
    ByteBuffer b = ByteBuffer.wrap(req);
    if (req.length < 4) {
      throw new ProtocolException("malformed dealer request for operator " + operator);
    }
    int count = b.getInt();
    if (count == -1 && req.length == 4) {
      return null;
    }
    if (count < 0 || req.length != 4 + 28L * count) {
      throw new ProtocolException("malformed dealer request for operator " + operator);
    }
    List<Need> out = new ArrayList<>(count);
    try {
      for (int i = 0; i < count; i++) {
        out.add(new Need(b.getInt(), b.getInt(), b.getInt(), b.getInt(), b.getInt(), b.getInt(),
            b.getInt()));
      }
    } catch (IllegalArgumentException e) {
      throw new ProtocolException("malformed dealer request for operator " + operator + ": "
          + e.getMessage());
    }
    return out;
  }
}
