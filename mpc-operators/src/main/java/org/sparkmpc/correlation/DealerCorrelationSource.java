package org.sparkmpc.correlation;

import java.nio.ByteBuffer;
import java.util.List;
import org.sparkmpc.crypto.AesCtrPrg;
import org.sparkmpc.net.MessageKey;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.ring.LongCodec;
import org.sparkmpc.session.MpcContext;

/**
 * Beaver triples from a dealer: a service that takes part in the session as its last member and
 * must not collude with any computing party (as CrypTen's TTP and MP-SPDZ's dealer).
 *
 * <p>Seed-compressed: every computing party expands its shares of {@code a}, {@code b} (and, all but
 * the last party, of {@code c}) from its pairwise key with the dealer, labelled by (session,
 * operator, partition, stream); the dealer expands the same streams, and sends the last party only
 * the correction {@code c_last = a*b - sum of the other c shares}. Material for given coordinates is
 * the same whenever it is asked for, so retried tasks get the same triples.
 *
 * <p>Traffic: 8 bytes per triple, dealer to the last party; nothing between the computing parties.
 * Rounds: none on the online path once the last party's driver has asked for the operator's material
 * ({@link #request}). Reveals nothing to the parties; the dealer learns no input (it never sees
 * shares of data), only the sizes of the batches.
 */
public final class DealerCorrelationSource implements CorrelationSource {
  /** Partition number of the per-operator request to the dealer. */
  public static final int REQUEST_PARTITION = -4;
  /** Round of the dealer's corrections for stream {@code s} is {@code CORRECTION_ROUND + s}. */
  public static final int CORRECTION_ROUND = 2000;
  /** Largest stream number. */
  public static final int MAX_STREAM = 999;

  /** One batch of material the dealer is asked for. */
  public record Need(int partition, int stream, int n) {
    public Need {
      if (stream < 0 || stream > MAX_STREAM || n < 0) {
        throw new IllegalArgumentException("bad dealer request: stream " + stream + ", n " + n);
      }
    }
  }

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
  public void request(long operator, List<Need> needs) {
    if (ctx.self() != ctx.parties() - 1) {
      return;
    }
    ctx.channel().send(ctx.dealer(), ctx.key(operator, REQUEST_PARTITION, 0), encode(needs));
  }

  /** Tell the dealer the session is over (the last party, after its last operator). */
  public void finish(long nextOperator) {
    if (ctx.self() == ctx.parties() - 1) {
      ctx.channel().send(ctx.dealer(), ctx.key(nextOperator, REQUEST_PARTITION, 0),
          ByteBuffer.allocate(4).putInt(-1).array());
    }
  }

  @Override
  public BeaverTriples triples(long operator, int partition, int stream, int n) {
    int dealer = ctx.dealer();
    String label = label(ctx.sessionId(), operator, partition, stream);
    long[] a = ctx.keys().prgWith(dealer, label + "/a").next(n);
    long[] b = ctx.keys().prgWith(dealer, label + "/b").next(n);
    long[] c;
    if (ctx.self() != ctx.parties() - 1) {
      c = ctx.keys().prgWith(dealer, label + "/c").next(n);
    } else {
      byte[] m = ctx.channel().receive(new MessageKey(ctx.sessionId(), operator, partition,
          CORRECTION_ROUND + stream, dealer), ctx.timeout());
      if (m.length != n * 8) {
        throw new ProtocolException("the dealer sent " + m.length + " bytes for " + n
            + " triples (operator " + operator + ", partition " + partition + ")");
      }
      c = LongCodec.decode(m, 0, n, "dealer corrections");
    }
    return new BeaverTriples(a, b, c);
  }

  static String label(String session, long operator, int partition, int stream) {
    return session + "/dealer/" + operator + "/" + partition + "/" + stream;
  }

  static byte[] encode(List<Need> needs) {
    ByteBuffer b = ByteBuffer.allocate(4 + 12 * needs.size()).putInt(needs.size());
    for (Need x : needs) {
      b.putInt(x.partition()).putInt(x.stream()).putInt(x.n());
    }
    return b.array();
  }

  /** The dealer's side: the corrections of the last party for one batch. */
  static long[] corrections(MpcContext dealerCtx, long operator, Need need) {
    int parties = dealerCtx.parties();
    int n = need.n();
    String label = label(dealerCtx.sessionId(), operator, need.partition(), need.stream());
    long[] a = new long[n];
    long[] b = new long[n];
    long[] c = new long[n];
    for (int p = 0; p < parties; p++) {
      dealerCtx.keys().prgWith(p, label + "/a").addTo(a, 0, n);
      dealerCtx.keys().prgWith(p, label + "/b").addTo(b, 0, n);
      if (p != parties - 1) {
        AesCtrPrg prg = dealerCtx.keys().prgWith(p, label + "/c");
        prg.addTo(c, 0, n);
      }
    }
    long[] last = new long[n];
    for (int i = 0; i < n; i++) {
      last[i] = a[i] * b[i] - c[i];
    }
    return last;
  }
}
