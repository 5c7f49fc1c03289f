package org.sparkmpc.inference;

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
import org.sparkmpc.protocol.Sigmoid;
import org.sparkmpc.protocol.VectorEngine;
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
 * <p><b>Lockstep.</b> Every request takes the next operator of the session (the head of the pool):
 * the client sends its header (mode and row count, public) under that operator's driver-partition
 * agreement round, and every party then runs the same steps on the same coordinates. Operators are
 * allocated in the same order at every party: the pool's slots at start, a batch's chunks as they
 * are prepared, the pool's refill after each request. The dealer, which serves operators in id
 * order, is asked in that order by the preparer thread.
 *
 * <p><b>Memory.</b> When a request is done each party drops its operator's material and releases
 * its messages in the channel ({@link org.sparkmpc.net.Channel#releaseOperator}), so a session of
 * any length holds only the pool's prepared material.
 */
final class InferenceSession {
  static final int MODE_PROBABILITY = 1;
  static final int MODE_LABEL = 2;
  static final int MODE_END = 3;
  private static final int HEADER_VERSION = 1;
  private static final int HEADER_BYTES = 16;
  /** How many chunks of a batch are prepared ahead of the one that runs (that one included). */
  private static final int CHUNKS_AHEAD = 2;

  final MpcContext ctx;
  final CorrelationSource source;
  final InferenceSettings settings;
  final int client;
  final InferenceModel.Kind kind;
  final int features;
  final int modelScale;
  final List<String> featureNames;
  private final long[] model;
  private final ExecutorService preparer;
  private final ArrayDeque<Slot> pool = new ArrayDeque<>();
  private final Map<String, VectorEngine> counted = new HashMap<>();
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
   * An operator of the session: its coordinates, and for a prepared one its layout and the
   * future of its material.
   */
  private record Slot(OperatorScope scope, Plan plan, Future<PreparedMaterial> material) {
    long op() {
      return scope.id();
    }
  }

  /** The blocks of one request operator and the correlated randomness they use. */
  private record Plan(int rows, StreamRange input, StreamRange logitStreams, RoundRange logitRounds,
      StreamRange probStreams, RoundRange probRounds, StreamRange labelStreams,
      RoundRange labelRounds, int revealRound, List<Need> needs) {}

  private InferenceSession(MpcContext ctx, CorrelationSource source, InferenceSettings settings,
      int client, InferenceModel.Kind kind, int features, int modelScale, List<String> names,
      long[] model) {
    this.ctx = ctx;
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
    try {
      String common = "inference v1 " + settings.canonical() + ",client=" + clientName
          + ",correlations=" + source.name() + ",parties=" + ctx.parties();
      String mine = common + "\n" + describe(model);
      byte[][] all = ctx.exchangeAll(op, Coordinates.DRIVER_PARTITION,
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
        checkSharedRange(ctx, source, scope, shares, settings, shape.scale);
      }
      // Every party ready: a party that refused (its model out of range) aborted the operator
      // instead, and its peers fail here with its reason.
      ctx.exchangeAll(op, Coordinates.DRIVER_PARTITION, readyRound.round(0), new byte[8]);
      InferenceSession s = new InferenceSession(ctx, source, settings, client, shape.kind, d,
          shape.scale, shape.names, shares);
      source.release(op);
      ctx.channel().releaseOperator(ctx.sessionId(), op);
      s.refill();
      return s;
    } catch (RuntimeException e) {
      ctx.abort(op, e);
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
   * From the logits to the output at {@code scale} fractional bits: the truncation, and for a
   * logistic model the sigmoid. 1 + {@value Sigmoid#ROUNDS} rounds (logistic) or 1 (linear).
   */
  private long[] probabilityTail(VectorEngine e, long[] z) {
    long[] y = e.truncate(z, modelScale);
    return kind == InferenceModel.Kind.LOGISTIC ? Sigmoid.apply(e, y, settings.scale()) : y;
  }

  /**
   * Shares of {@code [z >= 0]}: one comparison of the logit, at its own scale (no truncation).
   * {@value org.sparkmpc.protocol.Comparison#ROUNDS} rounds.
   */
  private static long[] labelTail(VectorEngine e, long[] z) {
    long[] s = e.ltz(z);
    long one = e.constant(1);
    for (int i = 0; i < s.length; i++) {
      s[i] = one - s[i];
    }
    return s;
  }

  private VectorEngine counted(String part, int n) {
    return counted.computeIfAbsent(part + "/" + n, k -> {
      VectorEngine c = VectorEngine.counting(source, 0);
      switch (part) {
        case "logit" -> logit(c, new long[n * features], n);
        case "probability" -> probabilityTail(c, new long[n]);
        case "label" -> labelTail(c, new long[n]);
        default -> throw new IllegalArgumentException(part);
      }
      return c;
    });
  }

  /** The layout of a request operator of {@code n} rows that can serve the given modes. */
  private Plan plan(OperatorScope scope, int n, boolean probability, boolean label) {
    List<Need> needs = new ArrayList<>();
    StreamRange input = scope.streams("rows", 1);
    VectorEngine c = counted("logit", n);
    StreamRange ls = scope.streams("logit", c.streams());
    RoundRange lr = scope.rounds("logit", c.rounds());
    needs.addAll(c.needs(ls));
    StreamRange ps = null;
    RoundRange pr = null;
    StreamRange bs = null;
    RoundRange br = null;
    if (probability) {
      c = counted("probability", n);
      ps = scope.streams("probability", c.streams());
      pr = scope.rounds("probability", c.rounds());
      needs.addAll(c.needs(ps));
    }
    if (label) {
      c = counted("label", n);
      bs = scope.streams("label", c.streams());
      br = scope.rounds("label", c.rounds());
      needs.addAll(c.needs(bs));
    }
    return new Plan(n, input, ls, lr, ps, pr, bs, br, scope.round("reveal"), needs);
  }

  // ---------------------------------------------------------------- the pool

  /** A request operator of {@code n} rows for the given modes, its preparation submitted. */
  private Slot prepared(OperatorScope scope, int n, boolean probability, boolean label) {
    Plan plan = plan(scope, n, probability, label);
    long op = scope.id();
    Future<PreparedMaterial> f = preparer.submit(
        () -> PreparedMaterial.prepare(source, op, plan.needs()));
    return new Slot(scope, plan, f);
  }

  private OperatorScope nextOperator() {
    return ctx.coordinates().operator("inference request");
  }

  /** Fill the pool to its depth with single-row operators for both modes, prepared ahead. */
  private void refill() {
    while (pool.size() < settings.poolDepth()) {
      pool.add(prepared(nextOperator(), 1, true, kind == InferenceModel.Kind.LOGISTIC));
    }
  }

  /** The operator of the next request: the pool's head, or a fresh one when there is no pool. */
  private Slot head() {
    Slot s = pool.poll();
    return s != null ? s : new Slot(nextOperator(), null, null);
  }

  private PreparedMaterial material(Slot s) {
    try {
      return s.material().get(4 * Math.max(1, ctx.timeout().toMillis()), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new MpcChannelException("preparing operator " + s.op() + "'s correlated randomness "
          + "failed: " + e.getCause());
    } catch (TimeoutException e) {
      throw new PeerTimeoutException("the correlated randomness of operator " + s.op() + " was "
          + "not ready within " + 4 * ctx.timeout().toSeconds() + " s (" + source.name()
          + " source)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new MpcChannelException("interrupted while waiting for operator " + s.op()
          + "'s correlated randomness");
    }
  }

  /** Forget an operator at this party: its material and its messages. */
  private void release(long op) {
    source.release(op);
    ctx.channel().releaseOperator(ctx.sessionId(), op);
  }

  /** An operator prepared for a request that did not use it: wait for it, then release it. */
  private void discard(Slot s) {
    if (s.material() != null) {
      try {
        material(s);
      } catch (RuntimeException e) {
        if (failure == null) {
          throw e;
        }
      }
    }
    release(s.op());
  }

  // ---------------------------------------------------------------- requests

  /** The header of a request: public metadata the client sends every server. */
  private static byte[] header(int mode, int rows) {
    return ByteBuffer.allocate(HEADER_BYTES).putInt(HEADER_VERSION).putInt(mode).putInt(rows)
        .putInt(0).array();
  }

  /**
   * Client side of one request: send the header, run the protocol on {@code rows} (already
   * checked), return the outputs at {@code scale} fractional bits (0 or 1 for labels).
   */
  long[] clientRequest(int mode, double[][] rows) {
    checkUsable();
    Slot head = head();
    long op = head.op();
    try {
      byte[] h = header(mode, rows.length);
      MessageKey key = ctx.key(op, Coordinates.DRIVER_PARTITION, Coordinates.AGREEMENT_ROUND);
      for (int q = 0; q < ctx.parties(); q++) {
        if (q != client) {
          ctx.channel().send(q, key, h.clone());
        }
      }
      return run(head, mode, rows.length, rows);
    } catch (RuntimeException e) {
      fail(op, e);
      throw e;
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
    long op = head.op();
    byte[] h;
    try {
      h = ctx.channel().receive(ctx.key(op, Coordinates.DRIVER_PARTITION,
          Coordinates.AGREEMENT_ROUND).withSender(client), wait);
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

  /** At a server, the operator whose header it waits for (taken from the pool on first wait). */
  private Slot waiting;

  /** Both sides of a request after the header. {@code rows} is null at the servers. */
  private long[] run(Slot head, int mode, int n, double[][] rows) {
    long[] out;
    if (n == 1 && head.plan() != null) {
      out = execute(head, mode, rows, 0);
    } else if (n == 1) {
      Slot s = prepared(head.scope(), 1, mode == MODE_PROBABILITY, mode == MODE_LABEL);
      out = execute(s, mode, rows, 0);
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
    if (head.plan() == null) {
      ahead.add(prepared(head.scope(), Math.min(chunkRows, n), prob, !prob));
      submitted = 1;
    } else {
      discard(head); // prepared for a single row: its material is not used
    }
    long[] out = rows != null ? new long[n] : null;
    for (int c = 0; c < chunks; c++) {
      while (submitted < chunks && ahead.size() < CHUNKS_AHEAD) {
        int len = Math.min(chunkRows, n - submitted * chunkRows);
        ahead.add(prepared(nextOperator(), len, prob, !prob));
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
   * One operator's rows, at every party: share the client's rows, the logit, the tail, the
   * opening to the client. Returns the opened outputs at the client, null elsewhere.
   */
  private long[] execute(Slot s, int mode, double[][] rows, int from) {
    long op = s.op();
    Plan p = s.plan();
    int n = p.rows();
    int d = features;
    long t0 = System.nanoTime();
    PreparedMaterial m = material(s);
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
      AdditiveSharing.shareOwnInPlace(ctx, op, 0, p.input().stream(0), x, n * d);
    } else {
      x = AdditiveSharing.peerShare(ctx, client, op, 0, p.input().stream(0), n * d);
    }
    long[] z = logit(VectorEngine.live(ctx, m, op, 0, p.logitRounds(), p.logitStreams()), x, n);
    long t2 = System.nanoTime();
    long[] y = mode == MODE_LABEL
        ? labelTail(VectorEngine.live(ctx, m, op, 0, p.labelRounds(), p.labelStreams()), z)
        : probabilityTail(VectorEngine.live(ctx, m, op, 0, p.probRounds(), p.probStreams()), z);
    long t3 = System.nanoTime();
    long[] out = Reveal.toParties(ctx, op, 0, p.revealRound(), y, n, new int[] {client});
    long t4 = System.nanoTime();
    release(op);
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
      byte[] h = header(MODE_END, 0);
      MessageKey key = ctx.key(head.op(), Coordinates.DRIVER_PARTITION,
          Coordinates.AGREEMENT_ROUND);
      for (int q = 0; q < ctx.parties(); q++) {
        if (q != client) {
          ctx.channel().send(q, key, h.clone());
        }
      }
      endLocally(head);
    } catch (RuntimeException e) {
      fail(head.op(), e);
      throw e;
    }
  }

  /**
   * Wait for every prepared operator (the dealer has then sent all it will), release them, tell
   * the dealer the session is over, and end the session in the channel.
   */
  private void endLocally(Slot head) {
    discard(head);
    while (!pool.isEmpty()) {
      discard(pool.poll());
    }
    if (source instanceof DealerCorrelationSource dealer) {
      dealer.finish(ctx.coordinates().operator("end of inference session").id());
    }
    shutdown();
  }

  private void shutdown() {
    ended = true;
    preparer.shutdownNow();
    pool.clear();
    waiting = null;
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
