package org.sparkmpc.correlation.ot;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.sparkmpc.correlation.BeaverTriples;
import org.sparkmpc.correlation.BitTriples;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.DaBits;
import org.sparkmpc.correlation.EdaBits;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.crypto.AesCtrPrg;
import org.sparkmpc.crypto.Hkdf;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.ring.LongCodec;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.RoundRange;

/**
 * Dealer-free Beaver triples for two parties ({@code spark.mpc.correlations=ot}), by Gilboa's
 * oblivious-transfer multiplication over IKNP OT extension; and, for comparisons, boolean
 * triples, edaBits and daBits from the same extension ({@link OtBooleanCorrelations}).
 *
 * <p>What it computes: party {@code i} picks its own random {@code a_i}, {@code b_i} and ends with
 * {@code c_i = a_i b_i + <a_i b_j>_i + <a_j b_i>_i}, where {@code <x y>} is an additive sharing of
 * a cross product made by {@link #request}: for {@code x * y} the party holding {@code x} is the OT
 * sender and the party holding {@code y} the receiver of 64 correlated OTs whose choice bits are
 * the bits of {@code y}; for bit {@code j} the sender's pads are {@code (r0_j, r1_j)} and it sends
 * {@code tau_j = r0_j + x - r1_j} mod {@code 2^(64-j)}; its share is {@code -sum 2^j r0_j}, the
 * receiver's {@code sum 2^j (r_j^{y_j} + y_j tau_j)}. Both cross products run at once (each party
 * is the sender of one and the receiver of the other), so
 * {@code c_0 + c_1 = (a_0 + a_1)(b_0 + b_1)} in Z(2^64).
 *
 * <p>Rounds: the base OTs ({@link BaseOt}, both directions) run once per source instance, lazily on
 * the first {@link #request}: the 2 session-level rounds {@link Coordinates#baseOtRounds}. Then per
 * need and per chunk of up to
 * {@value #CHUNK} triples: 2 rounds, one message each way per round (the IKNP columns, then the
 * Gilboa corrections). Bytes per triple, each party to the other: 64 * 16 = 1024 (IKNP columns) +
 * 288 (corrections, {@code 64 - j} bits of bit {@code j}'s correction rounded up to bytes) = 1312.
 *
 * <p>Message coordinates: (operator, need.partition(), round) with round
 * {@code correlationRounds(stream).round(2 * chunk + k)} ({@link Coordinates#correlationRounds};
 * {@code k} = 0 for the columns, 1 for the corrections), so a need may have up to
 * {@code ROUNDS_PER_STREAM / 2} chunks.
 *
 * <p>Reveals: nothing but the sizes of the batches. The OT messages are the choice bits masked by
 * AES-CTR streams and corrections masked by hash outputs. Assumes two semi-honest parties and no
 * dealer; security rests on the Chou–Orlandi base OT (CDH in the random-oracle model), AES as a
 * PRG, and the fixed-key AES hash being correlation robust (IKNP). A malicious party could make the
 * triples wrong (no consistency check).
 *
 * <p>Determinism: triples are stored in memory after {@link #request}; {@link #triples} hands out
 * the same arrays every time, so a retried task gets identical material. Shares are secret: never
 * logged, never in exception messages.
 */
public final class OtCorrelationSource implements CorrelationSource {
  /** The configuration setting that selects this source. */
  public static final String SETTING = "spark.mpc.correlations";
  /** Triples per chunk (one pair of messages each way). */
  public static final int CHUNK = 32_768;
  /** Correction bytes per triple. */
  static final int TAU_BYTES = 288;
  /** Chunks of one need: two rounds each, in the need's stream's block of correlation rounds. */
  static final int MAX_CHUNKS = Coordinates.ROUNDS_PER_STREAM / 2;

  private record Coord(long operator, int partition, int stream) {}

  private final MpcContext ctx;
  private final SecureRandom random;
  private final byte[] seed = new byte[32];
  private final byte[] salt;
  private final int peer;
  private final Map<Coord, Object> store = new ConcurrentHashMap<>();
  private Iknp.Receiver extReceiver;
  private Iknp.Sender extSender;
  private OtBooleanCorrelations booleans;

  /**
   * A source for this party of a two-party session. Draws its private seed at once; runs no
   * protocol until the first {@link #request}.
   *
   * @throws IllegalArgumentException if the session does not have exactly 2 computing parties
   */
  public OtCorrelationSource(MpcContext ctx) {
    this(ctx, new SecureRandom());
  }

  /** As above, with the given source of randomness (seed, base-OT scalars and choices). */
  public OtCorrelationSource(MpcContext ctx, SecureRandom random) {
    if (ctx.parties() != 2) {
      throw new IllegalArgumentException(SETTING + "=ot works for exactly 2 computing parties; "
          + "this session has " + ctx.parties() + " (use " + SETTING + "=dealer)");
    }
    this.ctx = ctx;
    this.random = random;
    this.random.nextBytes(seed);
    this.salt = ctx.sessionId().getBytes(StandardCharsets.UTF_8);
    this.peer = 1 - ctx.self();
  }

  @Override
  public String name() {
    return "ot";
  }

  /**
   * Run the base OTs in both directions if this instance has not yet: a driver-level operation
   * both parties call in the same order (the first {@link #request} does it). Rounds: 2. Bytes:
   * {@code 33 + 128 * 33} each way. Reveals nothing but uniform curve points.
   */
  private synchronized void setup() {
    if (extSender != null) {
      return;
    }
    String peerName = ctx.directory().name(peer);
    BaseOt.Sender baseSender = new BaseOt.Sender(random, baseContext(ctx.self()));
    RoundRange rounds = Coordinates.baseOtRounds();
    ctx.channel().send(peer, ctx.sessionKey(rounds.round(0)), baseSender.firstMessage());
    byte[] first = ctx.channel().receive(ctx.sessionKey(rounds.round(0)).withSender(peer),
        ctx.timeout());
    boolean[] s = new boolean[BaseOt.COUNT];
    for (int j = 0; j < s.length; j++) {
      s[j] = random.nextBoolean();
    }
    BaseOt.Receiver baseReceiver = new BaseOt.Receiver(random, baseContext(peer), s);
    ctx.channel().send(peer, ctx.sessionKey(rounds.round(1)), baseReceiver.reply(first, peerName));
    byte[] reply = ctx.channel().receive(ctx.sessionKey(rounds.round(1)).withSender(peer),
        ctx.timeout());
    Iknp.Receiver r = new Iknp.Receiver(baseSender.keys(reply, peerName), salt);
    extSender = new Iknp.Sender(s, baseReceiver.keys(), salt);
    extReceiver = r;
    booleans = new OtBooleanCorrelations(ctx, extSender, extReceiver, seed, salt);
  }

  private byte[] baseContext(int baseSender) {
    return ("sparkmpc/ot/base/" + ctx.sessionId() + "/" + baseSender)
        .getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Make and store the material of every need of {@code operator}, in list order, with the peer
   * (which must call this with the same list at the same time). Needs already prepared are skipped.
   * Rounds: 2 per chunk of {@value #CHUNK} Beaver triples (plus the base OTs on first use); for
   * the comparison material see {@link OtBooleanCorrelations}. Bytes per Beaver triple: 1312 each
   * way. Reveals only the sizes.
   */
  @Override
  public synchronized void request(long operator, List<Need> needs) {
    if (needs.isEmpty()) {
      return;
    }
    setup();
    for (Need need : needs) {
      Coord key = new Coord(operator, need.partition(), need.stream());
      if (store.containsKey(key)) {
        continue;
      }
      int p = need.partition();
      int st = need.stream();
      Object made = switch (need.kind()) {
        case Need.TRIPLES -> generate(operator, need);
        case Need.BIT_TRIPLES -> booleans.bitTriples(operator, p, st, need.n(), "bt", 0,
            Coordinates.ROUNDS_PER_STREAM);
        case Need.EDABITS -> booleans.edaBits(operator, p, st, need.n());
        case Need.DABITS -> booleans.daBits(operator, p, st, need.n());
        default -> throw new UnsupportedOperationException("the OT source makes Beaver triples, "
            + "boolean triples, edaBits and daBits, not correlations of kind " + need.kind());
      };
      store.put(key, made);
    }
  }

  /**
   * This party's stored shares for the coordinates, the same arrays every time.
   *
   * @throws IllegalStateException if {@link #request} did not make them
   * @throws IllegalArgumentException if {@code n} is not the prepared size
   */
  @Override
  public BeaverTriples triples(long operator, int partition, int stream, int n) {
    BeaverTriples t = stored(BeaverTriples.class, "triples", operator, partition, stream);
    checkSize(t.size(), n, "triples", operator, partition, stream);
    return t;
  }

  @Override
  public BitTriples bitTriples(long operator, int partition, int stream, int words) {
    BitTriples t = stored(BitTriples.class, "boolean triples", operator, partition, stream);
    checkSize(t.size(), words, "boolean triple words", operator, partition, stream);
    return t;
  }

  @Override
  public EdaBits edaBits(long operator, int partition, int stream, int n) {
    EdaBits e = stored(EdaBits.class, "edaBits", operator, partition, stream);
    checkSize(e.size(), n, "edaBits", operator, partition, stream);
    return e;
  }

  @Override
  public DaBits daBits(long operator, int partition, int stream, int n) {
    DaBits d = stored(DaBits.class, "daBits", operator, partition, stream);
    checkSize(d.size(), n, "daBits", operator, partition, stream);
    return d;
  }

  private <T> T stored(Class<T> type, String what, long operator, int partition, int stream) {
    Object m = store.get(new Coord(operator, partition, stream));
    if (m == null) {
      throw new IllegalStateException("no OT " + what + " were prepared for operator " + operator
          + ", partition " + partition + ", stream " + stream + " (the driver must request them)");
    }
    if (!type.isInstance(m)) {
      throw new IllegalArgumentException("operator " + operator + ", partition " + partition
          + ", stream " + stream + ": " + what + " asked for, but " + m + " was prepared");
    }
    return type.cast(m);
  }

  private static void checkSize(int prepared, int n, String what, long operator, int partition,
      int stream) {
    if (prepared != n) {
      throw new IllegalArgumentException("operator " + operator + ", partition " + partition
          + ", stream " + stream + ": " + n + " " + what + " asked for, " + prepared
          + " prepared");
    }
  }

  /** Drop the stored triples of an operator (after its last task). */
  @Override
  public void release(long operator) {
    store.keySet().removeIf(c -> c.operator() == operator);
  }

  /** Drops every stored triple. */
  @Override
  public void close() {
    store.clear();
  }

  /** Round of message {@code k} (0 or 1) of chunk {@code chunk} of stream {@code stream}. */
  static int round(int stream, int chunk, int k) {
    return Coordinates.correlationRounds(stream).round(2 * chunk + k);
  }

  private BeaverTriples generate(long operator, Need need) {
    int n = need.n();
    int partition = need.partition();
    int stream = need.stream();
    if ((n + (long) CHUNK - 1) / CHUNK > MAX_CHUNKS) {
      throw new IllegalArgumentException("too many triples in one need: " + n + " (at most "
          + (long) MAX_CHUNKS * CHUNK + ")");
    }
    AesCtrPrg prg = new AesCtrPrg(Hkdf.derive(seed, salt,
        "sparkmpc/ot/ab/" + operator + "/" + partition + "/" + stream, 32));
    long[] a = prg.next(n);
    long[] b = prg.next(n);
    long[] c = new long[n];
    String peerName = ctx.directory().name(peer);
    for (int off = 0, chunk = 0; off < n; off += CHUNK, chunk++) {
      int len = Math.min(CHUNK, n - off);
      int m = 64 * len;
      String coords = operator + "/" + partition + "/" + stream + "/" + chunk;
      String sendLabel = ctx.sessionId() + "/" + ctx.self() + "/" + coords;
      String recvLabel = ctx.sessionId() + "/" + peer + "/" + coords;

      // Receiver of the peer's a times my b: choice bits are the bits of b.
      long[] tRows = new long[2 * m];
      long[] u = extReceiver.extend(Arrays.copyOfRange(b, off, off + len), recvLabel, tRows);
      int r0 = round(stream, chunk, 0);
      ctx.channel().send(peer, ctx.key(operator, partition, r0), LongCodec.encode(u));
      u = null;

      // Sender of my a times the peer's b.
      byte[] uIn = ctx.channel().receive(ctx.key(operator, partition, r0).withSender(peer),
          ctx.timeout());
      if (uIn.length != Iknp.K * len * 8) {
        throw new ProtocolException("party '" + peerName + "' sent " + uIn.length
            + " bytes of OT-extension columns for " + len + " triples (operator " + operator
            + ", partition " + partition + ", stream " + stream + ")");
      }
      long[] qRows = extSender.rows(LongCodec.decode(uIn, 0, Iknp.K * len, "OT columns"), len,
          sendLabel);
      uIn = null;
      long tag = Iknp.tag(sendLabel);
      long[] h0 = new long[m];
      long[] h1 = new long[m];
      Iknp.hash(qRows, m, tag, null, h0);
      Iknp.hash(qRows, m, tag, extSender.delta(), h1);
      qRows = null;
      byte[] tau = new byte[TAU_BYTES * len + 8];
      int pos = 0;
      for (int t = 0; t < len; t++) {
        long x = a[off + t];
        long share = 0;
        int base = 64 * t;
        for (int j = 0; j < 64; j++) {
          long r0j = h0[base + j];
          long v = r0j + x - h1[base + j];
          Iknp.LONGS.set(tau, pos, v); // the next correction overwrites the unneeded top bytes
          pos += 8 - (j >>> 3);
          share -= r0j << j;
        }
        c[off + t] = share;
      }
      h1 = null;
      int r1 = round(stream, chunk, 1);
      ctx.channel().send(peer, ctx.key(operator, partition, r1),
          Arrays.copyOf(tau, TAU_BYTES * len));

      // Back to the receiver side: pads, then the peer's corrections.
      long[] h = h0;
      Iknp.hash(tRows, m, Iknp.tag(recvLabel), null, h);
      byte[] tauIn = ctx.channel().receive(ctx.key(operator, partition, r1).withSender(peer),
          ctx.timeout());
      if (tauIn.length != TAU_BYTES * len) {
        throw new ProtocolException("party '" + peerName + "' sent " + tauIn.length
            + " bytes of OT corrections for " + len + " triples (operator " + operator
            + ", partition " + partition + ", stream " + stream + ")");
      }
      tauIn = Arrays.copyOf(tauIn, tauIn.length + 8);
      pos = 0;
      for (int t = 0; t < len; t++) {
        long y = b[off + t];
        long share = 0;
        int base = 64 * t;
        for (int j = 0; j < 64; j++) {
          // Bytes beyond this correction's 8 - j/8 belong to the next; they only reach bits at or
          // above 64 - j, which the shift by j discards.
          long v = (long) Iknp.LONGS.get(tauIn, pos);
          pos += 8 - (j >>> 3);
          long w = h[base + j] + (v & -((y >>> j) & 1));
          share += w << j;
        }
        c[off + t] += share + a[off + t] * y;
      }
    }
    return new BeaverTriples(a, b, c);
  }
}
