package org.sparkmpc.correlation;

import java.nio.ByteBuffer;
import java.util.List;
import org.sparkmpc.crypto.AesCtrPrg;
import org.sparkmpc.net.MessageKey;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.ring.LongCodec;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;

/**
 * Correlated randomness from a dealer: a service that takes part in the session as its last member
 * and must not collude with any computing party (as CrypTen's TTP and MP-SPDZ's dealer). It hands
 * out Beaver triples, truncation pairs, matrix triples, Gram triples, and for comparisons boolean
 * triples, edaBits and daBits.
 *
 * <p>Seed-compressed: every computing party expands its shares of each component from its pairwise
 * key with the dealer, labelled by (session, operator, partition, stream); the dealer expands the
 * same streams and sends the last party only the corrections of the components that are functions
 * of the others ({@code c} of a triple, {@code C} of a matrix or Gram triple, all three parts of a
 * truncation pair, the XOR bits of an edaBit, the additive bit of a daBit). XOR-shared components
 * (boolean triples, the bits of edaBits and daBits) combine by XOR instead of addition. Material for given coordinates is the same whenever it is asked for, so retried
 * tasks get the same material and send identical messages.
 *
 * <p>Traffic, dealer to the last party only, per element: 8 bytes per Beaver triple, 24 per
 * truncation pair, {@code 8·p·r} per p×q×r matrix triple, {@code 8·m²} per Gram triple of any
 * height, 8 per word (64 gates) of boolean triples, 8 per edaBit, 8 per daBit. Nothing between the computing parties. Rounds: none on the online path once the last
 * party's driver has asked for the operator's material ({@link #request}). Reveals nothing to the
 * parties; the dealer learns no input (it never sees shares of data), only the batch shapes.
 *
 * <p>Message coordinates: the request under (operator, {@link Coordinates#DEALER_REQUEST_PARTITION},
 * 0); the corrections of a batch under (operator, its partition, {@link #correctionRound} of its
 * stream), the first of the stream's {@link Coordinates#correlationRounds}.
 */
public final class DealerCorrelationSource implements CorrelationSource {

  private final MpcContext ctx;

  public DealerCorrelationSource(MpcContext ctx) {
    if (ctx.dealer() < 0) {
      throw new IllegalArgumentException("this session has no dealer (spark.mpc.dealer)");
    }
    this.ctx = ctx;
  }

  @Override
  public String name() {
    return "dealer";
  }

  /**
   * Ask the dealer for an operator's material. Called once per secure operator, in operator order,
   * by every party; only the last computing party sends (the dealer serves operators in order, and
   * an operator that needs nothing is asked for with an empty list).
   */
  @Override
  public void request(long operator, List<Need> needs) {
    if (ctx.self() != ctx.parties() - 1) {
      return;
    }
    ctx.channel().send(ctx.dealer(), ctx.dealerRequestKey(operator), Need.encode(needs));
  }

  /** Tell the dealer the session is over (the last party, after its last operator). */
  public void finish(long nextOperator) {
    if (ctx.self() == ctx.parties() - 1) {
      ctx.channel().send(ctx.dealer(), ctx.dealerRequestKey(nextOperator),
          ByteBuffer.allocate(4).putInt(-1).array());
    }
  }

  @Override
  public boolean hasMatrixTriples() {
    return true;
  }

  @Override
  public boolean hasTruncationPairs() {
    return true;
  }

  @Override
  public BeaverTriples triples(long operator, int partition, int stream, int n) {
    long[][] m = material(operator, Need.triples(partition, stream, n));
    return new BeaverTriples(m[0], m[1], m[2]);
  }

  @Override
  public TruncationPairs truncationPairs(long operator, int partition, int stream, int n, int f) {
    long[][] m = material(operator, Need.truncation(partition, stream, n, f));
    return new TruncationPairs(m[0], m[1], m[2], f);
  }

  @Override
  public MatrixTriples matrixTriples(long operator, int partition, int stream, int count, int p,
      int q, int r) {
    long[][] m = material(operator, Need.matrix(partition, stream, count, p, q, r));
    return new MatrixTriples(m[0], m[1], m[2], count, p, q, r);
  }

  @Override
  public GramTriple gramTriple(long operator, int partition, int stream, int rows, int cols) {
    long[][] m = material(operator, Need.gram(partition, stream, rows, cols));
    return new GramTriple(m[0], m[1], rows, cols);
  }

  @Override
  public BitTriples bitTriples(long operator, int partition, int stream, int words) {
    long[][] m = material(operator, Need.bitTriples(partition, stream, words));
    return new BitTriples(m[0], m[1], m[2]);
  }

  @Override
  public EdaBits edaBits(long operator, int partition, int stream, int n) {
    long[][] m = material(operator, Need.edaBits(partition, stream, n));
    return new EdaBits(m[0], m[1]);
  }

  @Override
  public DaBits daBits(long operator, int partition, int stream, int n) {
    long[][] m = material(operator, Need.daBits(partition, stream, n));
    return new DaBits(m[1], m[0]);
  }

  /** The round of the dealer's corrections for a batch of stream {@code stream}. */
  static int correctionRound(int stream) {
    return Coordinates.correlationRounds(stream).round(0);
  }

  /**
   * Component names, lengths, whether the last party receives them as corrections, and whether
   * they are XOR-shared (boolean) rather than additively shared.
   */
  private record Layout(String[] names, int[] lengths, boolean[] corrected, boolean[] xor) {
    Layout(String[] names, int[] lengths, boolean[] corrected) {
      this(names, lengths, corrected, new boolean[names.length]);
    }

    int correctedLength() {
      int s = 0;
      for (int i = 0; i < names.length; i++) {
        s += corrected[i] ? lengths[i] : 0;
      }
      return s;
    }
  }

  private static Layout layout(Need x) {
    int n = x.n();
    return switch (x.kind()) {
      case Need.TRIPLES -> new Layout(new String[] {"a", "b", "c"}, new int[] {n, n, n},
          new boolean[] {false, false, true});
      case Need.TRUNCATION -> new Layout(new String[] {"r", "s", "m"}, new int[] {n, n, n},
          new boolean[] {true, true, true});
      case Need.MATRIX -> new Layout(new String[] {"A", "B", "C"},
          new int[] {n * x.p() * x.q(), n * x.q() * x.r(), n * x.p() * x.r()},
          new boolean[] {false, false, true});
      case Need.GRAM -> new Layout(new String[] {"A", "C"}, new int[] {n * x.p(), x.p() * x.p()},
          new boolean[] {false, true});
      case Need.BIT_TRIPLES -> new Layout(new String[] {"a", "b", "c"}, new int[] {n, n, n},
          new boolean[] {false, false, true}, new boolean[] {true, true, true});
      // r is the sum of every party's expanded share; the last party's XOR bits are corrected.
      case Need.EDABITS -> new Layout(new String[] {"r", "x"}, new int[] {n, n},
          new boolean[] {false, true}, new boolean[] {false, true});
      // the bits are the XOR of every party's expanded words; the last party's sum is corrected.
      case Need.DABITS -> new Layout(new String[] {"x", "b"}, new int[] {DaBits.words(n), n},
          new boolean[] {false, true}, new boolean[] {true, false});
      default -> throw new IllegalArgumentException("unknown correlation kind " + x.kind());
    };
  }

  private long[][] material(long operator, Need need) {
    int dealer = ctx.dealer();
    Layout l = layout(need);
    String label = label(ctx.sessionId(), operator, need);
    boolean last = ctx.self() == ctx.parties() - 1;
    byte[] corr = null; // an empty batch has no corrections to wait for
    if (last && l.correctedLength() > 0) {
      corr = ctx.channel().receive(new MessageKey(ctx.sessionId(), operator,
          need.partition(), correctionRound(need.stream()), dealer), ctx.timeout());
      if (corr.length != 8L * l.correctedLength()) {
        throw new ProtocolException("the dealer sent " + corr.length + " bytes for a batch of "
            + l.correctedLength() + " corrections (operator " + operator + ", partition "
            + need.partition() + ", stream " + need.stream() + ")");
      }
    }
    long[][] out = new long[l.names().length][];
    int at = 0;
    for (int i = 0; i < out.length; i++) {
      int len = l.lengths()[i];
      if (last && l.corrected()[i]) {
        out[i] = len == 0 ? new long[0]
            : LongCodec.decode(corr, 8 * at, len, l.correctedLength(), "dealer corrections");
        at += len;
      } else {
        out[i] = ctx.keys().prgWith(dealer, label + "/" + l.names()[i]).next(len);
      }
    }
    return out;
  }

  static String label(String session, long operator, Need need) {
    return session + "/dealer/" + operator + "/" + need.partition() + "/" + need.stream() + "/"
        + need.kind();
  }

  /**
   * The dealer's side: the last party's corrections for one batch, concatenated in component
   * order.
   *
   * @param privateSeed the dealer's own 32-byte seed for the randomness no party may know (the
   *                    {@code r} of truncation pairs)
   */
  static long[] corrections(MpcContext dealerCtx, byte[] privateSeed, long operator, Need need) {
    int parties = dealerCtx.parties();
    int last = parties - 1;
    Layout l = layout(need);
    String label = label(dealerCtx.sessionId(), operator, need);
    int k = l.names().length;
    long[][] sum = new long[k][];
    long[][] othersCorrected = new long[k][];
    for (int i = 0; i < k; i++) {
      int len = l.lengths()[i];
      boolean xor = l.xor()[i];
      long[] acc = new long[len];
      int upTo = l.corrected()[i] ? last : parties;
      for (int p = 0; p < upTo; p++) {
        AesCtrPrg prg = dealerCtx.keys().prgWith(p, label + "/" + l.names()[i]);
        if (xor) {
          prg.xorInto(acc, 0, len);
        } else {
          prg.addTo(acc, 0, len);
        }
      }
      if (l.corrected()[i]) {
        othersCorrected[i] = acc;
      } else {
        sum[i] = acc;
      }
    }
    long[][] truth = truth(need, sum, privateSeed, label);
    long[] out = new long[l.correctedLength()];
    int at = 0;
    for (int i = 0; i < k; i++) {
      if (l.corrected()[i]) {
        long[] t = truth[i];
        long[] o = othersCorrected[i];
        if (l.xor()[i]) {
          for (int j = 0; j < t.length; j++) {
            out[at + j] = t[j] ^ o[j];
          }
        } else {
          for (int j = 0; j < t.length; j++) {
            out[at + j] = t[j] - o[j];
          }
        }
        at += t.length;
      }
    }
    return out;
  }

  /** The true values of the corrected components, from the true values of the others. */
  private static long[][] truth(Need x, long[][] sum, byte[] privateSeed, String label) {
    int n = x.n();
    long[][] t = new long[sum.length][];
    switch (x.kind()) {
      case Need.TRIPLES -> {
        long[] a = sum[0];
        long[] b = sum[1];
        long[] c = new long[n];
        for (int i = 0; i < n; i++) {
          c[i] = a[i] * b[i];
        }
        t[2] = c;
      }
      case Need.TRUNCATION -> {
        long[] r = new AesCtrPrg(org.sparkmpc.crypto.Hkdf.derive(privateSeed, null,
            "sparkmpc/dealer-private/" + label, 32)).next(n);
        long[] s = new long[n];
        long[] m = new long[n];
        int f = x.q();
        for (int i = 0; i < n; i++) {
          s[i] = r[i] >>> f;
          m[i] = r[i] >>> 63;
        }
        t[0] = r;
        t[1] = s;
        t[2] = m;
      }
      case Need.MATRIX -> {
        int p = x.p();
        int q = x.q();
        int r = x.r();
        long[] c = new long[n * p * r];
        for (int u = 0; u < n; u++) {
          org.sparkmpc.ring.Matrices.multiplyAdd(sum[0], u * p * q, sum[1], u * q * r, c, u * p * r, p, q, r);
        }
        t[2] = c;
      }
      case Need.GRAM -> t[1] = org.sparkmpc.ring.Matrices.gram(sum[0], n, x.p());
      case Need.BIT_TRIPLES -> {
        long[] a = sum[0];
        long[] b = sum[1];
        long[] c = new long[n];
        for (int i = 0; i < n; i++) {
          c[i] = a[i] & b[i];
        }
        t[2] = c;
      }
      case Need.EDABITS -> t[1] = sum[0]; // the XOR bits of r are the word r itself
      case Need.DABITS -> {
        long[] words = sum[0];
        long[] b = new long[n];
        for (int i = 0; i < n; i++) {
          b[i] = (words[i >>> 6] >>> (i & 63)) & 1;
        }
        t[1] = b;
      }
      default -> throw new IllegalArgumentException("unknown correlation kind " + x.kind());
    }
    return t;
  }
}
