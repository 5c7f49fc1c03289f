package org.sparkmpc.inference;

import org.sparkmpc.net.SendAheadChannel;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.DealerCorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.net.MessageKey;
import org.sparkmpc.net.MpcChannelException;
import org.sparkmpc.net.PeerTimeoutException;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.protocol.BitConversion;
import org.sparkmpc.protocol.LinearPiecesSigmoid;
import org.sparkmpc.protocol.ProductSigmoid;
import org.sparkmpc.protocol.VectorEngine;
import org.sparkmpc.ring.BitSlice;
import org.sparkmpc.ring.LongCodec;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.QueryMismatchException;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.share.AdditiveSharing;
import org.sparkmpc.share.Reveal;

/**
 * The protocol of a long-lived inference session, run alike by the client and every server: the
 * session's set-up (agreement on the public parameters, the model shared once, its range check),
 * the pool of operators whose randomness is prepared ahead, and the steps of one request. {@link
 * InferenceClient} and {@link InferenceServer} are its two faces.
 *
 * <p><b>Lockstep.</b> Every request takes the next slot of the session: slot {@code j} of a
 * request operator is partition {@code j} of that operator, and a pooled operator has {@code
 * poolDepth} slots that share one batch of correlated randomness. The client sends its header
 * (mode and row count, public) under round 0 of the slot's partition, and every party then runs
 * the same steps on the same coordinates. Operators are allocated in the same order at every
 * party: the pool's two operators at start, a batch's chunks (one operator each) as they are
 * prepared, the pool's next operator when one is used up. The dealer, which serves operators in id
 * order, is asked in that order by the preparer thread.
 *
 * <p><b>Memory.</b> Once every slot of an operator is done (or skipped) each party drops its
 * material and releases its messages in the channel ({@link
 * org.sparkmpc.net.Channel#releaseOperator}), so a session of any length holds at most the
 * material and messages of two pooled operators and two chunks.
 */
final class InferenceSession {
  static final int MODE_PROBABILITY = 1;
  static final int MODE_LABEL = 2;
  static final int MODE_END = 3;
  private static final int HEADER_VERSION = 1;
  private static final int HEADER_BYTES = 16;
  /** How many chunks of a batch are prepared ahead of the one that runs (that one included). */
  private static final int CHUNKS_AHEAD = 2;

  /** The caller's context: operator ids, aborts; the correlation source uses it too. */
  final MpcContext ctx;
  /** The same session over a channel whose sends do not wait: the online rounds. */
  private final MpcContext net;
  private final SendAheadChannel sendAhead;
  final CorrelationSource source;
  final InferenceSettings settings;
  final int client;
  final InferenceModel.Kind kind;
  final int features;
  final int modelScale;
  final List<String> featureNames;
  private final long[] model;
  private final ExecutorService preparer;
  /** Runs the powers of the sigmoid beside its comparisons. */
  private final ExecutorService helper;
  private final ArrayDeque<RequestOperator> pool = new ArrayDeque<>();
  private final Map<String, VectorEngine[]> counted = new HashMap<>();
  private final long[] phaseNanos = new long[Phase.values().length];
  private long requests;
  private volatile String failure;
  private boolean ended;

  /** Where a request's time goes, measured at this party. */
  enum Phase {
    /** Waiting for the operator's correlated randomness to be ready. */
    MATERIAL,
    /** From the header to the shared logit (the dot product's round included). */
    LOGIT,
    /** The sigmoid, truncation or comparison. */
    TAIL,
    /** Opening the result to the client. */
    REVEAL
  }

  /**
   * The blocks of one request operator and the correlated randomness they use: the dot product,
   * the probability's two engines (comparisons and the rest; powers beside them), the label's
   * sign bits, and the opening.
   */
  private record Plan(int rows, StreamRange input, StreamRange logitStreams, RoundRange logitRounds,
      StreamRange probStreams, RoundRange probRounds, StreamRange sideStreams,
      RoundRange sideRounds, StreamRange labelStreams, RoundRange labelRounds, int revealRound,
      List<Need> needs) {}

  private InferenceSession(MpcContext ctx, MpcContext net, CorrelationSource source,
      InferenceSettings settings, int client, InferenceModel.Kind kind, int features,
      int modelScale, List<String> names, long[] model) {
    this.ctx = ctx;
    this.net = net;
    this.sendAhead = (SendAheadChannel) net.channel();
    this.source = source;
    this.settings = settings;
    this.client = client;
    this.kind = kind;
    this.features = features;
    this.modelScale = modelScale;
    this.featureNames = names;
    this.model = model;
    String party = ctx.directory().self().name();
    this.preparer = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "inference-prepare-" + party);
      t.setDaemon(true);
      return t;
    });
    this.helper = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "inference-powers-" + party);
      t.setDaemon(true);
      return t;
    });
  }

  // ---------------------------------------------------------------- set-up

  /**
   * Set up the session at this party: agree on the settings, the client and the model's public
   * shape; share the model (if a party brought it in plaintext) or take this party's shares; check
   * that no admissible row can take the logit out of the ring's exact range; prepare the pool.
   *
   * <p>Rounds: 1 (agreement) + 1 (every party ready); with a shared model also the range check's
   * 18. Bytes: the descriptions, and 8 per round to each peer. Reveals: the public shape (kind,
   * number of features, scale, feature names, who holds the model), and for a shared model how
   * many of its {@code d + 2} range conditions fail (0 when it fits).
   *
   * @param model this party's model (plaintext at the owner, its shares when trained
   *     secret-shared), or null when it holds no part of it
   */
  static InferenceSession open(MpcContext ctx, CorrelationSource source,
      InferenceSettings settings, String clientName, InferenceModel model) {
    int client = ctx.directory().indexOf(clientName);
    if (client < 0 || client >= ctx.parties()) {
      throw new MpcInputException("the client '" + clientName + "' is not a computing party of "
          + "the session (" + ctx.directory() + ")");
    }
    OperatorScope scope = ctx.coordinates().operator("inference session");
    long op = scope.id();
    SendAheadChannel sendAhead = new SendAheadChannel(ctx.channel());
    MpcContext net = new MpcContext(ctx.directory(), sendAhead, ctx.sessionId(), ctx.keys(),
        ctx.timeout(), ctx.parties());
    try {
      String common = "inference v1 " + settings.canonical() + ",client=" + clientName
          + ",correlations=" + source.name() + ",parties=" + ctx.parties();
      String mine = common + "\n" + describe(model);
      byte[][] all = net.exchangeAll(op, Coordinates.DRIVER_PARTITION,
          Coordinates.AGREEMENT_ROUND, mine.getBytes(StandardCharsets.UTF_8));
      String[] descriptions = new String[all.length];
      for (int q = 0; q < all.length; q++) {
        descriptions[q] = new String(all[q], StandardCharsets.UTF_8);
        String theirs = descriptions[q].split("\n", 2)[0];
        if (!theirs.equals(common)) {
          throw new QueryMismatchException("party '" + ctx.directory().name(q) + "' opened "
              + "another inference session; refused before any share was sent.\n  this party ("
              + ctx.directory().self().name() + "): " + common + "\n  party "
              + ctx.directory().name(q) + ": " + theirs);
        }
      }
      Shape shape = Shape.combine(ctx, descriptions, client);
      RoundRange readyRound = scope.rounds("ready", 1);
      StreamRange modelStream = scope.streams("model", 1);
      long[] shares;
      int d = shape.features;
      if (shape.owner >= 0) {
        if (ctx.self() == shape.owner) {
          shares = model.encodedOrShares();
          checkPlainRange(shares, settings, model);
          AdditiveSharing.shareOwnInPlace(ctx, op, 0, modelStream.stream(0), shares, d + 1);
        } else {
          shares = AdditiveSharing.peerShare(ctx, shape.owner, op, 0, modelStream.stream(0),
              d + 1);
        }
        source.request(op, List.of());
      } else {
        shares = model != null ? model.encodedOrShares() : new long[d + 1];
        checkSharedRange(net, source, scope, shares, settings, shape.scale);
      }
      // Every party ready: a party that refused (its model out of range) aborted the operator
      // instead, and its peers fail here with its reason.
      net.exchangeAll(op, Coordinates.DRIVER_PARTITION, readyRound.round(0), new byte[8]);
      InferenceSession s = new InferenceSession(ctx, net, source, settings, client, shape.kind,
          d, shape.scale, shape.names, shares);
      source.release(op);
      ctx.channel().releaseOperator(ctx.sessionId(), op);
      s.refill();
      return s;
    } catch (RuntimeException e) {
      ctx.abort(op, e);
      sendAhead.stop();
      throw e;
    }
  }

  /** The public part of what a party brings: whether it holds the model, and its shape. */
  private static String describe(InferenceModel m) {
    if (m == null) {
      return "none";
    }
    return (m.isPlaintext() ? "plaintext" : "shares") + "," + m.kind().id() + "," + m.features()
        + "," + m.scale() + "," + String.join("\t", m.featureNames());
  }

  /** The model's public shape, as the parties' descriptions give it. */
  private record Shape(InferenceModel.Kind kind, int features, int scale, List<String> names,
      int owner) {

    static Shape combine(MpcContext ctx, String[] descriptions, int client) {
      Shape out = null;
      int first = -1;
      int owner = -1;
      boolean shares = false;
      for (int q = 0; q < descriptions.length; q++) {
        String[] lines = descriptions[q].split("\n", 2);
        String m = lines.length > 1 ? lines[1] : "none";
        if (m.equals("none")) {
          continue;
        }
        String[] f = m.split(",", 5);
        boolean plain = f[0].equals("plaintext");
        String who = "party '" + ctx.directory().name(q) + "'";
        if (plain) {
          if (owner >= 0) {
            throw new MpcInputException("both party '" + ctx.directory().name(owner) + "' and "
                + who + " bring a plaintext model; one owner shares it");
          }
          if (q == client) {
            throw new MpcInputException("the client " + who + " holds the plaintext model: it "
                + "can predict by itself; the model's owner serves it");
          }
          owner = q;
        } else {
          shares = true;
        }
        List<String> names = f.length < 5 || f[4].isEmpty() ? List.of()
            : List.of(f[4].split("\t"));
        Shape s = new Shape(InferenceModel.Kind.parse(f[1]), Integer.parseInt(f[2]),
            Integer.parseInt(f[3]), names, -1);
        if (out == null) {
          out = s;
          first = q;
        } else {
          String other = "party '" + ctx.directory().name(first) + "'";
          if (s.features != out.features) {
            throw new MpcInputException(who + " holds a model of " + s.features + " features, "
                + other + " one of " + out.features);
          }
          if (s.kind != out.kind) {
            throw new MpcInputException(who + " holds a " + s.kind.id() + " model, " + other
                + " a " + out.kind.id() + " one");
          }
          if (s.scale != out.scale) {
            throw new MpcInputException(who + " holds model shares at scale 2^-" + s.scale + ", "
                + other + " at 2^-" + out.scale);
          }
          if (out.names.isEmpty()) {
            out = new Shape(out.kind, out.features, out.scale, s.names, -1);
          }
        }
      }
      if (out == null) {
        throw new MpcInputException("no party of the session brought a model");
      }
      if (owner >= 0 && shares) {
        throw new MpcInputException("party '" + ctx.directory().name(owner) + "' brings a "
            + "plaintext model while others bring shares of one");
      }
      return new Shape(out.kind, out.features, out.scale, out.names, owner);
    }
  }

  /** The owner's check of its encoded model: {@code Σ|W_i| + |B| <= bound}. */
  private static void checkPlainRange(long[] encoded, InferenceSettings settings,
      InferenceModel model) {
    double sum = 0;
    for (long v : encoded) {
      sum += Math.abs((double) v);
    }
    if (sum > settings.modelBound()) {
      throw new MpcInputException(rangeMessage(settings, model.scale()));
    }
  }

  private static String rangeMessage(InferenceSettings settings, int modelScale) {
    return "the model is too large for features up to 2^" + settings.maxFeatureBits()
        + ": a logit could leave the ring's exact range (the sum of the coefficients' and the "
        + "intercept's magnitudes must be at most 2^" + (61 - settings.maxFeatureBits()
            - settings.scale() - modelScale) + "); lower maxFeatureBits (the features' range) or "
        + "the scale";
  }

  /**
   * The secure range check of a shared model {@code m = [W, B]}: {@code s = [m < 0]},
   * {@code |m| = m - 2·s·m}, {@code V = Σ|m|}, then {@code [bound - |m_i| < 0]} for every entry
   * and {@code [bound - V < 0]}, whose sum is opened to all. Each entry's bound keeps {@code V}
   * from wrapping, so the check is exact. Rounds: 18 ({@value
   * org.sparkmpc.protocol.Comparison#ROUNDS} + 1 + {@value
   * org.sparkmpc.protocol.Comparison#ROUNDS} + 1). Reveals how many of the {@code d + 2}
   * conditions fail.
   */
  private static void checkSharedRange(MpcContext ctx, CorrelationSource source,
      OperatorScope scope, long[] m, InferenceSettings settings, int modelScale) {
    VectorEngine c = VectorEngine.counting(source, 0);
    rangeFailures(c, new long[m.length], settings.modelBound());
    StreamRange streams = scope.streams("range check", c.streams());
    RoundRange rounds = scope.rounds("range check", c.rounds());
    int reveal = scope.round("range check result");
    source.request(scope.id(), c.needs(streams));
    VectorEngine e = VectorEngine.live(ctx, source, scope.id(), 0, rounds, streams);
    long failures = rangeFailures(e, m.clone(), settings.modelBound());
    long opened = Reveal.toAll(ctx, scope.id(), 0, reveal, new long[] {failures}, 1)[0];
    if (opened != 0) {
      throw new MpcInputException(rangeMessage(settings, modelScale));
    }
  }

  /** Shares of the number of failed range conditions (see {@link #checkSharedRange}). */
  private static long rangeFailures(VectorEngine e, long[] m, long bound) {
    int n = m.length;
    long[] s = e.ltz(m);
    long[] sm = e.mul(s, m);
    long[] diff = new long[n + 1];
    long total = 0;
    for (int i = 0; i < n; i++) {
      long abs = m[i] - 2 * sm[i];
      total += abs;
      diff[i] = e.constant(bound) - abs;
    }
    diff[n] = e.constant(bound) - total;
    long[] bad = e.ltz(diff);
    long count = 0;
    for (long b : bad) {
      count += b;
    }
    return count;
  }

  // ---------------------------------------------------------------- circuits

  /**
   * Shares of the logits {@code X·w + b} at {@code scale + modelScale} fractional bits, for the
   * shared rows {@code x} (n × d, row-major). One round (a matrix product).
   */
  private long[] logit(VectorEngine e, long[] x, int n) {
    int d = features;
    long[] z = e.matmul(x, Arrays.copyOf(model, d), n, d, 1);
    long b = model[d] << settings.scale();
    for (int i = 0; i < n; i++) {
      z[i] += b;
    }
    return z;
  }

  /**
   * From the logits (at {@code scale + modelScale} bits) to the output at {@code scale} bits. A
   * logistic model's single row: {@link LinearPiecesSigmoid} ({@value LinearPiecesSigmoid#ROUNDS}
   * rounds, 10 messages, no second engine); a chunk of rows: {@link ProductSigmoid} (as many
   * rounds, its powers on {@code side} beside the comparisons; 4 times fewer comparisons per row).
   * Both are within {@link org.sparkmpc.protocol.Sigmoid#MAX_ERROR} of {@code σ}. A linear model:
   * one truncation.
   */
  private long[] probabilityTail(VectorEngine main, VectorEngine side, long[] z) {
    if (kind == InferenceModel.Kind.LINEAR) {
      return main.truncate(z, modelScale);
    }
    if (z.length == 1) {
      return LinearPiecesSigmoid.apply(main, z, settings.scale(), modelScale);
    }
    return ProductSigmoid.apply(main, side, helper, z, settings.scale(), modelScale);
  }

  /** Rounds of the label's sign bits: the opening and the carry circuit, no conversion. */
  private static final int LABEL_ROUNDS = BitConversion.A2B_ROUNDS;

  /**
   * Open XOR-shared words to the client only: every other party sends its words, the client XORs.
   * One round; 8 bytes per 64 labels from each server. Returns the words at the client.
   */
  private long[] openBitsToClient(long op, int partition, int round, long[] v) {
    MessageKey key = net.key(op, partition, round);
    if (net.self() != client) {
      net.channel().send(client, key, LongCodec.encode(v, 0, v.length));
      return null;
    }
    long[] out = v.clone();
    for (int q = 0; q < net.parties(); q++) {
      if (q == client) {
        continue;
      }
      byte[] in = net.channel().receive(key.withSender(q), net.timeout());
      if (in.length != 8L * v.length) {
        throw new ProtocolException("party '" + net.directory().name(q) + "' sent " + in.length
            + " bytes of label shares for " + v.length + " words (" + key.describe() + ")");
      }
      LongCodec.xorInto(in, 0, out, v.length);
    }
    return out;
  }

  /** Counting engines of one part for {@code n} rows: {@code [main]} or {@code [main, side]}. */
  private VectorEngine[] counted(String part, int n) {
    return counted.computeIfAbsent(part + "/" + n, k -> {
      VectorEngine c = VectorEngine.counting(source, 0);
      VectorEngine side = VectorEngine.counting(source, 0);
      switch (part) {
        case "logit" -> logit(c, new long[n * features], n);
        case "probability" -> probabilityTail(c, side, new long[n]);
        default -> throw new IllegalArgumentException(part);
      }
      return side.rounds() == 0 ? new VectorEngine[] {c} : new VectorEngine[] {c, side};
    });
  }

  /** The layout of a request operator of {@code n} rows that can serve the given modes. */
  private Plan plan(OperatorScope scope, int n, boolean probability, boolean label) {
    List<Need> needs = new ArrayList<>();
    StreamRange input = scope.streams("rows", 1);
    VectorEngine c = counted("logit", n)[0];
    StreamRange ls = scope.streams("logit", c.streams());
    RoundRange lr = scope.rounds("logit", c.rounds());
    needs.addAll(c.needs(ls));
    StreamRange ps = null;
    RoundRange pr = null;
    StreamRange ss = null;
    RoundRange sr = null;
    StreamRange bs = null;
    RoundRange br = null;
    if (probability) {
      VectorEngine[] e = counted("probability", n);
      ps = scope.streams("probability", e[0].streams());
      pr = scope.rounds("probability", e[0].rounds());
      needs.addAll(e[0].needs(ps));
      if (e.length > 1) {
        ss = scope.streams("powers", e[1].streams());
        sr = scope.rounds("powers", e[1].rounds());
        needs.addAll(e[1].needs(ss));
      }
    }
    if (label) {
      bs = scope.streams("label", 2);
      br = scope.rounds("label", LABEL_ROUNDS);
      needs.add(Need.edaBits(0, bs.stream(0), n));
      needs.add(Need.bitTriples(0, bs.stream(1), BitConversion.signTripleWords(n)));
    }
    return new Plan(n, input, ls, lr, ps, pr, ss, sr, bs, br, scope.round("reveal"), needs);
  }

  // ---------------------------------------------------------------- the pool

  /**
   * An operator of requests: {@code slots} requests of {@code plan.rows()} rows each, request
   * {@code j} in partition {@code j}, whose correlated randomness is prepared in one batch for all
   * of them. Without a pool, a single request's operator is allocated unprepared (plan null) and
   * prepared by the request that takes it.
   */
  private static final class RequestOperator {
    final OperatorScope scope;
    final int slots;
    Plan plan;
    Future<PreparedMaterial> material;
    /** Slots handed to requests, and slots finished (used or skipped). */
    int taken;
    int done;
    boolean released;

    RequestOperator(OperatorScope scope, int slots) {
      this.scope = scope;
      this.slots = slots;
    }

    long id() {
      return scope.id();
    }
  }

  /** One request's place: slot {@code index} (its partition) of an operator. */
  private record Slot(RequestOperator op, int index) {
    long id() {
      return op.id();
    }
  }

  /** Plan {@code op} for {@code n} rows and the given modes, and submit its preparation. */
  private void prepare(RequestOperator op, int n, boolean probability, boolean label) {
    Plan plan = plan(op.scope, n, probability, label);
    long id = op.id();
    int slots = op.slots;
    op.plan = plan;
    op.material = preparer.submit(() -> PreparedMaterial.prepare(source, id, plan.needs(), slots));
  }

  private OperatorScope nextOperator() {
    return ctx.coordinates().operator("inference request");
  }

  /**
   * Keep two operators of {@code poolDepth} single-row requests each (both modes) prepared: the
   * one being used and the next.
   */
  private void refill() {
    while (settings.poolDepth() > 0 && pool.size() < 2) {
      RequestOperator op = new RequestOperator(nextOperator(), settings.poolDepth());
      prepare(op, 1, true, kind == InferenceModel.Kind.LOGISTIC);
      pool.add(op);
    }
  }

  /** The next request's slot: the next of the pool, or a fresh operator without a pool. */
  private Slot head() {
    if (settings.poolDepth() == 0) {
      RequestOperator op = new RequestOperator(nextOperator(), 1);
      op.taken = 1;
      return new Slot(op, 0);
    }
    RequestOperator op = pool.peek();
    Slot s = new Slot(op, op.taken++);
    if (op.taken == op.slots) {
      pool.poll();
    }
    return s;
  }

  private PreparedMaterial material(RequestOperator op) {
    try {
      return op.material.get(4 * Math.max(1, ctx.timeout().toMillis()), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new MpcChannelException("preparing operator " + op.id() + "'s correlated randomness "
          + "failed: " + e.getCause());
    } catch (TimeoutException e) {
      throw new PeerTimeoutException("the correlated randomness of operator " + op.id() + " was "
          + "not ready within " + 4 * ctx.timeout().toSeconds() + " s (" + source.name()
          + " source)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new MpcChannelException("interrupted while waiting for operator " + op.id()
          + "'s correlated randomness");
    }
  }

  /** A slot is done (used, or skipped by a batch or the end); its operator's last frees it. */
  private void finish(Slot s) {
    if (++s.op().done == s.op().slots) {
      release(s.op());
    }
  }

  /**
   * Forget an operator at this party once its preparation is over (the dealer has then sent all
   * of it): its material and its messages.
   */
  private void release(RequestOperator op) {
    if (op.released) {
      return;
    }
    op.released = true;
    if (op.material != null) {
      try {
        material(op);
      } catch (RuntimeException e) {
        if (failure == null) {
          throw e;
        }
      }
    }
    source.release(op.id());
    ctx.channel().releaseOperator(ctx.sessionId(), op.id());
  }

  // ---------------------------------------------------------------- requests

  /** The header of a request: public metadata the client sends every server. */
  private static byte[] header(int mode, int rows) {
    return ByteBuffer.allocate(HEADER_BYTES).putInt(HEADER_VERSION).putInt(mode).putInt(rows)
        .putInt(0).array();
  }

  /** Where a request's header goes: round 0 of its slot's partition (kernels start at 1). */
  private MessageKey headerKey(Slot s) {
    return net.key(s.id(), s.index(), 0);
  }

  /**
   * Client side of one request: send the header, run the protocol on {@code rows} (already
   * checked), return the outputs at {@code scale} fractional bits (0 or 1 for labels).
   */
  long[] clientRequest(int mode, double[][] rows) {
    checkUsable();
    Slot head = head();
    try {
      sendHeader(head, header(mode, rows.length));
      return run(head, mode, rows.length, rows);
    } catch (RuntimeException e) {
      fail(head.id(), e);
      throw e;
    }
  }

  private void sendHeader(Slot head, byte[] h) {
    MessageKey key = headerKey(head);
    for (int q = 0; q < net.parties(); q++) {
      if (q != client) {
        net.channel().send(q, key, h.clone());
      }
    }
  }

  /**
   * Server side: wait up to {@code wait} for the client's next header. Returns false if none came
   * (call again), true once a request was served, and throws if the session failed. Sets
   * {@link #ended()} when the client ended the session.
   */
  boolean serveOne(Duration wait) {
    checkUsable();
    if (waiting == null) {
      waiting = head();
    }
    Slot head = waiting;
    long op = head.id();
    byte[] h;
    try {
      h = net.channel().receive(headerKey(head).withSender(client), wait);
    } catch (PeerTimeoutException idle) {
      return false;
    } catch (RuntimeException e) {
      fail(op, e);
      throw e;
    }
    waiting = null;
    try {
      ByteBuffer b = ByteBuffer.wrap(h);
      if (h.length != HEADER_BYTES || b.getInt() != HEADER_VERSION) {
        throw new ProtocolException("the client '" + ctx.directory().name(client) + "' sent a "
            + "malformed request header (operator " + op + ")");
      }
      int mode = b.getInt();
      int rows = b.getInt();
      if (mode == MODE_END) {
        endLocally(head);
        return true;
      }
      if ((mode != MODE_PROBABILITY && mode != MODE_LABEL) || rows < 1
          || (mode == MODE_LABEL && kind != InferenceModel.Kind.LOGISTIC)) {
        throw new ProtocolException("the client '" + ctx.directory().name(client) + "' sent a "
            + "request this session cannot serve (mode " + mode + ", " + rows + " rows, operator "
            + op + ")");
      }
      run(head, mode, rows, null);
      return true;
    } catch (RuntimeException e) {
      fail(op, e);
      throw e;
    }
  }

  /** At a server, the slot whose header it waits for (taken on its first wait). */
  private Slot waiting;

  /** Both sides of a request after the header. {@code rows} is null at the servers. */
  private long[] run(Slot head, int mode, int n, double[][] rows) {
    long[] out;
    if (n == 1) {
      if (head.op().plan == null) {
        prepare(head.op(), 1, mode == MODE_PROBABILITY, mode == MODE_LABEL);
      }
      out = execute(head, mode, rows, 0);
    } else {
      out = batch(head, mode, n, rows);
    }
    refill();
    requests++;
    return out;
  }

  /** A batch: chunks of {@code chunkRows} rows, each its own operator, prepared two ahead. */
  private long[] batch(Slot head, int mode, int n, double[][] rows) {
    int chunkRows = settings.chunkRows();
    int chunks = (int) ((n + (long) chunkRows - 1) / chunkRows);
    boolean prob = mode == MODE_PROBABILITY;
    ArrayDeque<Slot> ahead = new ArrayDeque<>();
    int submitted = 0;
    if (head.op().plan == null) {
      prepare(head.op(), Math.min(chunkRows, n), prob, !prob); // chunk 0 on the head's operator
      ahead.add(head);
      submitted = 1;
    } else {
      finish(head); // a pooled single-row slot: the batch does not use it
    }
    long[] out = rows != null ? new long[n] : null;
    for (int c = 0; c < chunks; c++) {
      while (submitted < chunks && ahead.size() < CHUNKS_AHEAD) {
        RequestOperator op = new RequestOperator(nextOperator(), 1);
        op.taken = 1;
        prepare(op, Math.min(chunkRows, n - submitted * chunkRows), prob, !prob);
        ahead.add(new Slot(op, 0));
        submitted++;
      }
      long[] r = execute(ahead.poll(), mode, rows, c * chunkRows);
      if (out != null) {
        System.arraycopy(r, 0, out, c * chunkRows, r.length);
      }
    }
    return out;
  }

  /**
   * One slot's rows, at every party: share the client's rows, the logit, the tail, the opening to
   * the client. Returns the opened outputs at the client, null elsewhere.
   */
  private long[] execute(Slot s, int mode, double[][] rows, int from) {
    long op = s.id();
    int part = s.index();
    Plan p = s.op().plan;
    int n = p.rows();
    int d = features;
    long t0 = System.nanoTime();
    CorrelationSource m = material(s.op()).view(part);
    long t1 = System.nanoTime();
    long[] x;
    if (ctx.self() == client) {
      x = new long[n * d];
      double unit = Math.scalb(1.0, settings.scale());
      for (int i = 0; i < n; i++) {
        double[] row = rows[from + i];
        for (int j = 0; j < d; j++) {
          x[i * d + j] = Math.round(row[j] * unit);
        }
      }
      AdditiveSharing.shareOwnInPlace(net, op, part, p.input().stream(0), x, n * d);
    } else {
      x = AdditiveSharing.peerShare(net, client, op, part, p.input().stream(0), n * d);
    }
    long[] z = logit(VectorEngine.live(net, m, op, part, p.logitRounds(), p.logitStreams()), x,
        n);
    long t2 = System.nanoTime();
    long[] out;
    long t3;
    if (mode == MODE_LABEL) {
      long[] bits = BitConversion.signBits(net, m, op, part, p.labelRounds(), 0,
          p.labelStreams(), z);
      bits[bits.length - 1] &= BitSlice.tailMask(n);
      t3 = System.nanoTime();
      long[] open = openBitsToClient(op, part, p.revealRound(), bits);
      out = null;
      if (open != null) {
        out = new long[n];
        for (int i = 0; i < n; i++) {
          out[i] = 1 - ((open[i >>> 6] >>> (i & 63)) & 1); // [z >= 0] = 1 - [z < 0]
        }
      }
    } else {
      long[] y = probabilityTail(
          VectorEngine.live(net, m, op, part, p.probRounds(), p.probStreams()),
          p.sideRounds() == null ? null
              : VectorEngine.live(net, m, op, part, p.sideRounds(), p.sideStreams()), z);
      t3 = System.nanoTime();
      out = Reveal.toParties(net, op, part, p.revealRound(), y, n, new int[] {client});
    }
    long t4 = System.nanoTime();
    finish(s);
    phaseNanos[Phase.MATERIAL.ordinal()] += t1 - t0;
    phaseNanos[Phase.LOGIT.ordinal()] += t2 - t1;
    phaseNanos[Phase.TAIL.ordinal()] += t3 - t2;
    phaseNanos[Phase.REVEAL.ordinal()] += t4 - t3;
    return out;
  }

  // ---------------------------------------------------------------- end and failure

  /**
   * Client side: tell the servers the session is over (an END header on the next operator), then
   * end it here. Idempotent; after a failure only the local part runs.
   */
  void clientEnd() {
    if (ended) {
      return;
    }
    if (failure != null) {
      shutdown();
      return;
    }
    Slot head = head();
    try {
      sendHeader(head, header(MODE_END, 0));
      endLocally(head);
    } catch (RuntimeException e) {
      fail(head.id(), e);
      throw e;
    }
  }

  /**
   * Wait for every prepared operator (the dealer has then sent all it will), release them, tell
   * the dealer the session is over, and end the session in the channel.
   */
  private void endLocally(Slot head) {
    if (head.op().material == null) {
      // an operator allocated for the END header only: the dealer follows every id in order
      long id = head.id();
      head.op().material = preparer.submit(() -> {
        source.request(id, List.of());
        return null;
      });
    }
    release(head.op());
    while (!pool.isEmpty()) {
      release(pool.poll());
    }
    if (source instanceof DealerCorrelationSource dealer) {
      dealer.finish(ctx.coordinates().operator("end of inference session").id());
    }
    shutdown();
  }

  private void shutdown() {
    ended = true;
    preparer.shutdownNow();
    helper.shutdownNow();
    pool.clear();
    waiting = null;
    if (failure == null) {
      sendAhead.drain(ctx.timeout());
    }
    sendAhead.stop();
    ctx.channel().endSession(ctx.sessionId());
  }

  /** Stop the session at this party after a failure, telling the peers why (no secret). */
  private void fail(long op, RuntimeException e) {
    if (failure == null) {
      failure = e.getClass().getSimpleName() + ": " + e.getMessage();
      ctx.abort(op, e);
    }
  }

  private void checkUsable() {
    if (ended) {
      throw new IllegalStateException("the inference session has ended");
    }
    if (failure != null) {
      throw new IllegalStateException("the inference session failed earlier (" + failure + "); "
          + "open a new session");
    }
  }

  /** Close at this party without telling the peers (a server that stops, or after a failure). */
  void closeLocally() {
    if (!ended) {
      shutdown();
    }
  }

  boolean ended() {
    return ended;
  }

  String failure() {
    return failure;
  }

  long requests() {
    return requests;
  }

  /** Mean milliseconds per request of each phase at this party. */
  Map<String, Double> phaseMillis() {
    Map<String, Double> out = new java.util.LinkedHashMap<>();
    for (Phase ph : Phase.values()) {
      out.put(ph.name().toLowerCase(java.util.Locale.ROOT),
          requests == 0 ? 0 : phaseNanos[ph.ordinal()] / 1e6 / requests);
    }
    return out;
  }
}
