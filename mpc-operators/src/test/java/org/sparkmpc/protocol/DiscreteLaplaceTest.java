package org.sparkmpc.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.inference.RecordingChannel;
import org.sparkmpc.net.Channel;
import org.sparkmpc.net.MessageKey;
import org.sparkmpc.ring.BitSlice;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.share.Reveal;

/**
 * Discrete Laplace noise drawn inside MPC: exactly the plaintext draw of the parties' seeds, the
 * right distribution (moments, a chi-square fit, the tails), a party's share, the bytes it
 * receives and the values each round opens to it independent of the noise, retries
 * byte-identical, and bad arguments refused. Run for the dealer
 * (2 and 3 parties, 5 for the exact check) and the OT source (2 parties).
 */
class DiscreteLaplaceTest {
  static final double SMALL = 2.5;
  static final double LARGE = 1000;
  /** A chi-square test passes above this p-value (and a test meant to detect, below it). */
  static final double ALPHA = 1e-4;
  private static final VarHandle LE = MethodHandles.byteArrayViewVarHandle(long[].class,
      ByteOrder.LITTLE_ENDIAN);

  static Stream<KernelSources> sources() {
    return Stream.of(new KernelSources("dealer", 2), new KernelSources("dealer", 3),
        new KernelSources("ot", 2));
  }

  /**
   * Draws per statistical test: 20,000 with the dealer; fewer with the OT source, whose boolean
   * triples cost 1 KiB of OT extension each way per 64 AND gates (about 26 KB per draw at scale
   * 2.5, 60 KB at scale 1000).
   */
  static int draws(KernelSources src) {
    return src.kind().equals("ot") ? 2000 : 20_000;
  }

  /** Party {@code party}'s own seed in run {@code run}. */
  static byte[] seed(long run, int party) {
    byte[] s = new byte[DiscreteLaplace.SEED_BYTES];
    new SplittableRandom(run * 1_000_003L + party).nextBytes(s);
    return s;
  }

  /** One call's coordinates, this party's shares and the opened draws. */
  record Draw(long operator, RoundRange rounds, StreamRange streams, int open, long[] share,
      long[] opened) {}

  /**
   * Draw under a fresh operator on partition 0 and open; with {@code retry}, run the kernel a
   * second time before opening (a retried task: identical messages, or the channel refuses).
   */
  static Draw draw(MpcContext ctx, CorrelationSource source, byte[] seed, int samples,
      double scale, boolean retry) {
    OperatorScope op = ctx.coordinates().operator("discrete Laplace test");
    StreamRange st = op.streams("noise", DiscreteLaplace.STREAMS);
    RoundRange r = op.rounds("noise", DiscreteLaplace.ROUNDS);
    int open = op.round("open");
    source.request(op.id(), DiscreteLaplace.needs(0, st, samples, scale));
    long[] share = DiscreteLaplace.sample(ctx, source, op.id(), 0, r, st, seed, samples, scale);
    if (retry) {
      assertArrayEquals(share, DiscreteLaplace.sample(ctx, source, op.id(), 0, r, st, seed,
          samples, scale), "a retry computes the same shares");
    }
    return new Draw(op.id(), r, st, open, share,
        Reveal.toAll(ctx, op.id(), 0, open, share, samples));
  }

  /** The draws in plaintext from every party's seed: what the circuit must compute. */
  static long[] plaintext(byte[][] seeds, long operator, StreamRange st, int samples,
      double scale) {
    int bits = DiscreteLaplace.bits(scale);
    int m = 2 * bits * samples;
    long[] r = new long[m];
    for (byte[] s : seeds) {
      long[] mine = DiscreteLaplace.ownBits(s, operator, 0, st, m);
      for (int e = 0; e < m; e++) {
        r[e] ^= mine[e];
      }
    }
    long[] c = DiscreteLaplace.thresholds(scale, bits);
    long[] x = new long[samples];
    for (int gi = 0; gi < 2 * bits; gi++) {
      for (int s = 0; s < samples; s++) {
        long bit = c[gi % bits] + r[gi * samples + s] < 0 ? 1 : 0; // c + r >= 2^63
        x[s] += gi < bits ? bit << gi : -(bit << (gi - bits));
      }
    }
    return x;
  }

  static byte[][] seeds(long run, int parties) {
    byte[][] s = new byte[parties][];
    for (int j = 0; j < parties; j++) {
      s[j] = seed(run, j);
    }
    return s;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("org.sparkmpc.protocol.KernelSources#all")
  void drawsAreThePlaintextDrawsOfTheSeeds(KernelSources src) throws Exception {
    int[] sizes = {1, 33, 64, 1000};
    double huge = 1e6; // 26 bits, thresholds near 2^62
    List<List<Draw>> out = src.run((ctx, s) -> {
      List<Draw> ds = new ArrayList<>();
      for (int n : sizes) {
        ds.add(draw(ctx, s, seed(1, ctx.self()), n, SMALL, false));
      }
      ds.add(draw(ctx, s, seed(1, ctx.self()), 200, huge, false));
      return ds;
    });
    byte[][] seeds = seeds(1, src.parties());
    for (int k = 0; k <= sizes.length; k++) {
      Draw d = out.get(0).get(k);
      double scale = k < sizes.length ? SMALL : huge;
      long[] expected = plaintext(seeds, d.operator(), d.streams(), d.opened().length, scale);
      for (List<Draw> party : out) {
        assertArrayEquals(expected, party.get(k).opened(), "draws of " + expected.length);
      }
    }
    assertTrue(Arrays.stream(out.get(0).get(sizes.length).opened()).anyMatch(v -> v > 1 << 20),
        "scale 1e6 reaches the high bits");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sources")
  void drawsFollowTheDiscreteLaplaceDistribution(KernelSources src) throws Exception {
    int n = draws(src);
    List<long[][]> out = src.run((ctx, s) -> new long[][] {
        draw(ctx, s, seed(2, ctx.self()), n, SMALL, false).opened(),
        draw(ctx, s, seed(2, ctx.self()), n, LARGE, false).opened()});
    for (long[][] party : out) {
      assertArrayEquals(out.get(0)[0], party[0]);
      assertArrayEquals(out.get(0)[1], party[1]);
    }
    assertDiscreteLaplace(out.get(0)[0], SMALL);
    assertDiscreteLaplace(out.get(0)[1], LARGE);
  }

  /** {@code P(|X| >= k)}: 1 for k = 0, else {@code 2 p^k / (1 + p)}. */
  static double tail(long k, double scale) {
    double p = Math.exp(-1 / scale);
    return k <= 0 ? 1 : 2 * Math.exp(-k / scale) / (1 + p);
  }

  /** Bin starts for |X|, each bin (the last one unbounded) of probability at least 2%. */
  static long[] bins(double scale) {
    double target = 0.02;
    List<Long> starts = new ArrayList<>(List.of(0L));
    long a = 0;
    while (true) {
      long e = a + 1;
      while (tail(a, scale) - tail(e, scale) < target) {
        e++;
      }
      if (tail(e, scale) < target) {
        break; // the rest would be too small a bin: [a, inf) is the last
      }
      starts.add(e);
      a = e;
    }
    return starts.stream().mapToLong(Long::longValue).toArray();
  }

  static double[] binProbabilities(long[] starts, double scale) {
    double[] pr = new double[starts.length];
    for (int k = 0; k < starts.length; k++) {
      pr[k] = tail(starts[k], scale) - (k + 1 < starts.length ? tail(starts[k + 1], scale) : 0);
    }
    return pr;
  }

  /** Mean, second moment, a chi-square fit of |X|, the sign balance and the tails. */
  static void assertDiscreteLaplace(long[] x, double scale) {
    int n = x.length;
    String what = n + " draws at scale " + scale;
    double p = Math.exp(-1 / scale);
    double var = 2 * p / ((1 - p) * (1 - p));
    double m4 = 0;
    for (long k = 1; k < 80 * scale + 50; k++) {
      m4 += Math.pow(k, 4) * 2 * (1 - p) / (1 + p) * Math.exp(-k / scale);
    }
    double sum = 0;
    double sumSq = 0;
    long limit = 1L << DiscreteLaplace.bits(scale);
    for (long v : x) {
      assertTrue(Math.abs(v) < limit, what + ": a draw outside (-2^L, 2^L)");
      sum += v;
      sumSq += (double) v * v;
    }
    double mean = sum / n;
    assertTrue(Math.abs(mean) < 5 * Math.sqrt(var / n), what + ": mean " + mean);
    double second = sumSq / n;
    assertTrue(Math.abs(second - var) < 5 * Math.sqrt((m4 - var * var) / n),
        what + ": variance " + second + ", exact " + var);

    long[] starts = bins(scale);
    assertTrue(starts.length >= 8, what + ": " + starts.length + " bins");
    long[] hist = new long[starts.length];
    long pos = 0;
    long neg = 0;
    for (long v : x) {
      int at = Arrays.binarySearch(starts, Math.abs(v));
      hist[at >= 0 ? at : -at - 2]++;
      pos += v > 0 ? 1 : 0;
      neg += v < 0 ? 1 : 0;
    }
    double fit = ChiSquare.fit(hist, binProbabilities(starts, scale));
    assertTrue(fit > ALPHA, what + ": |X| fits with p = " + fit);
    double wrong = ChiSquare.fit(hist, binProbabilities(starts, 1.5 * scale));
    assertTrue(wrong < ALPHA, what + ": the fit cannot tell scale 1.5x (p = " + wrong + ")");
    double sign = ChiSquare.fit(new long[] {pos, neg}, new double[] {0.5, 0.5});
    assertTrue(sign > ALPHA, what + ": " + pos + " positive, " + neg + " negative");
    for (double f : new double[] {1, 3, 6}) {
      long k = (long) Math.ceil(f * scale);
      double t = tail(k, scale);
      long seen = Arrays.stream(x).filter(v -> Math.abs(v) >= k).count();
      assertTrue(Math.abs((double) seen / n - t) < 5 * Math.sqrt(t * (1 - t) / n) + 1.0 / n,
          what + ": " + seen + " draws with |X| >= " + k + ", expected " + t * n);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sources")
  void noPartysShareOrMessagesDependOnTheNoise(KernelSources src) throws Exception {
    int n = draws(src);
    Map<Integer, RecordingChannel> views = new ConcurrentHashMap<>();
    List<Draw> out = src.run((p, ch) -> record(views, p, ch),
        (ctx, s) -> draw(ctx, s, seed(3, ctx.self()), n, SMALL, false));
    Draw d = out.get(0);
    long[] x = d.opened();
    long[] share = d.share();
    long[][] top = new long[2][16];
    int equal = 0;
    for (int i = 0; i < n; i++) {
      top[x[i] < 0 ? 0 : 1][(int) (share[i] >>> 60)]++;
      equal += share[i] == x[i] ? 1 : 0;
    }
    assertTrue(equal < 3, equal + " of party 0's shares are the noise itself");
    long[] all = new long[16];
    for (int b = 0; b < 16; b++) {
      all[b] = top[0][b] + top[1][b];
    }
    double[] uniform = new double[16];
    Arrays.fill(uniform, 1.0 / 16);
    assertTrue(ChiSquare.fit(all, uniform) > ALPHA, "party 0's shares are uniform");
    assertIndependent(x, top, "the top 4 bits of party 0's share");

    // Party 0's view of the kernel's rounds: the bytes it received, and the values each round
    // opens (its own message XOR the peers'). A word of an AND level or of the conversion holds
    // the bits of 64 consecutive elements, and bit i of G_g for draw s is element
    // (g * L + i) * n + s. The feature per draw: one bits of G1's elements minus G2's, which
    // would follow the sign of G1 - G2 if the bits showed through.
    int bits = DiscreteLaplace.bits(SMALL);
    int m = 2 * bits * n;
    int nb = BitSlice.blocks(m);
    int conversion = d.rounds().round(DiscreteLaplace.ROUNDS - 1);
    Map<Integer, byte[]> opened = new HashMap<>();
    int[][] received = new int[2][n]; // AND levels, conversion
    long[] opening = new long[n];
    int messages = 0;
    for (RecordingChannel.Message msg : views.get(0).receivedSnapshot()) {
      MessageKey key = msg.key();
      byte[] in = msg.payload();
      if (key.operator() == d.operator() && key.round() == d.open()) {
        for (int i = 0; i < n; i++) {
          opening[i] += (long) LE.get(in, 8 * i);
        }
      }
      if (key.operator() == d.operator() && d.rounds().contains(key.round())) {
        messages++;
        signedOnes(in, m, n, bits, nb, received[key.round() == conversion ? 1 : 0]);
        xorInto(opened, key.round(), in);
      }
    }
    assertEquals(DiscreteLaplace.ROUNDS * (src.parties() - 1), messages, "kernel messages");
    for (RecordingChannel.Message msg : views.get(0).sentSnapshot()) {
      if (msg.key().operator() == d.operator() && d.rounds().contains(msg.key().round())
          && msg.peer() == 1) {
        xorInto(opened, msg.key().round(), msg.payload());
      }
    }
    int[][] open = new int[2][n];
    opened.forEach((round, v) -> signedOnes(v, m, n, bits, nb, open[round == conversion ? 1 : 0]));
    assertIndependent(x, byQuantiles(x, received[0], 10), "bits received in the AND levels");
    assertIndependent(x, byQuantiles(x, received[1], 8), "bits received in the conversion");
    assertIndependent(x, byQuantiles(x, open[0], 10), "bits opened in the AND levels");
    assertIndependent(x, byQuantiles(x, open[1], 8), "bits opened in the conversion");
    // The control: the same test on the opening round, which does reveal the noise, fails.
    long[][] noise = new long[2][16];
    for (int i = 0; i < n; i++) {
      noise[x[i] < 0 ? 0 : 1][(int) ((opening[i] + share[i]) >>> 60)]++;
    }
    assertTrue(ChiSquare.independence(noise[0], noise[1]) < ALPHA, "the opening shows the sign");
  }

  /** Add, per draw, the one bits of G1's elements and subtract G2's, of packed words. */
  static void signedOnes(byte[] words, int m, int n, int bits, int nb, int[] into) {
    for (int w = 0; w < words.length / 8; w++) {
      long word = (long) LE.get(words, 8 * w);
      int base = 64 * (w % nb);
      while (word != 0) {
        int e = base + Long.numberOfTrailingZeros(word);
        if (e < m) {
          into[e % n] += e / n < bits ? 1 : -1;
        }
        word &= word - 1;
      }
    }
  }

  static void xorInto(Map<Integer, byte[]> opened, int round, byte[] payload) {
    byte[] v = opened.computeIfAbsent(round, r -> new byte[payload.length]);
    for (int i = 0; i < v.length; i++) {
      v[i] ^= payload[i];
    }
  }

  static Channel record(Map<Integer, RecordingChannel> views, int party, Channel ch) {
    if (party != 0) {
      return ch;
    }
    RecordingChannel r = new RecordingChannel(ch);
    views.put(party, r);
    return r;
  }

  static void assertIndependent(long[] x, long[][] hist, String what) {
    double p = ChiSquare.independence(hist[0], hist[1]);
    assertTrue(p > ALPHA, what + " depends on the sign of the noise: p = " + p);
    assertTrue(Arrays.stream(hist[0]).sum() > x.length / 4, "both signs are drawn");
  }

  /**
   * Histograms of {@code feature} for the negative and the other draws of {@code x}, in bins cut
   * at the pooled quantiles (ties kept in one bin), so that every bin is well filled.
   */
  static long[][] byQuantiles(long[] x, int[] feature, int bins) {
    int[] sorted = feature.clone();
    Arrays.sort(sorted);
    int[] cuts = new int[bins - 1];
    for (int k = 1; k < bins; k++) {
      cuts[k - 1] = sorted[(int) ((long) sorted.length * k / bins)];
    }
    long[][] hist = new long[2][bins];
    for (int i = 0; i < x.length; i++) {
      int b = 0;
      while (b < cuts.length && feature[i] >= cuts[b]) {
        b++;
      }
      hist[x[i] < 0 ? 0 : 1][b]++;
    }
    return hist;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sources")
  void theSameSeedsDrawTheSameNoiseAndRetriesSendTheSameBytes(KernelSources src)
      throws Exception {
    int n = 500;
    Map<Integer, RecordingChannel> views = new ConcurrentHashMap<>();
    Draw a = src.run((p, ch) -> record(views, p, ch),
        (ctx, s) -> draw(ctx, s, seed(4, ctx.self()), n, SMALL, true)).get(0);
    // The retry: every kernel message sent twice, with the same bytes.
    Map<MessageKey, List<byte[]>> sent = new HashMap<>();
    for (RecordingChannel.Message msg : views.get(0).sentSnapshot()) {
      if (msg.key().operator() == a.operator() && a.rounds().contains(msg.key().round())) {
        sent.computeIfAbsent(msg.key().withSender(msg.peer()), k -> new ArrayList<>())
            .add(msg.payload());
      }
    }
    assertEquals(DiscreteLaplace.ROUNDS * (src.parties() - 1), sent.size(), "kernel messages");
    for (List<byte[]> copies : sent.values()) {
      assertEquals(2, copies.size(), "the kernel ran twice");
      assertArrayEquals(copies.get(0), copies.get(1), "a retry sends the same bytes");
    }
    // Another session (new keys, new correlated material) with the same seeds: the same noise,
    // other shares; party 0's seed changed: other noise.
    Draw b = src.run((ctx, s) -> draw(ctx, s, seed(4, ctx.self()), n, SMALL, false)).get(0);
    Draw c = src.run((ctx, s) -> draw(ctx, s, seed(ctx.self() == 0 ? 5 : 4, ctx.self()), n,
        SMALL, false)).get(0);
    assertEquals(a.operator(), b.operator());
    assertEquals(a.operator(), c.operator());
    assertArrayEquals(a.opened(), b.opened(), "the same seeds draw the same noise");
    assertFalse(Arrays.equals(a.share(), b.share()), "shares are fresh in every session");
    int same = 0;
    for (int i = 0; i < n; i++) {
      same += a.opened()[i] == c.opened()[i] ? 1 : 0;
    }
    assertTrue(same < n / 4, same + " of " + n + " draws equal with another own seed");
  }

  @Test
  void theVectorEngineCountsAndDrawsLikeTheKernel() throws Exception {
    int n = 300;
    KernelSources src = new KernelSources("dealer", 2);
    List<long[]> out = src.run((ctx, s) -> {
      VectorEngine counted = VectorEngine.counting(s, 0);
      // A bad scale is refused by the counting engine too, naming it.
      String engine = assertThrows(IllegalArgumentException.class,
          () -> VectorEngine.counting(s, 0).discreteLaplace(10, -2, null)).getMessage();
      assertTrue(engine.contains("scale") && engine.contains("-2.0"), engine);
      counted.discreteLaplace(n, SMALL, null);
      assertEquals(DiscreteLaplace.ROUNDS, counted.rounds());
      assertEquals(DiscreteLaplace.STREAMS, counted.streams());
      OperatorScope op = ctx.coordinates().operator("engine test");
      StreamRange st = op.streams("engine", counted.streams());
      RoundRange r = op.rounds("engine", counted.rounds());
      assertEquals(DiscreteLaplace.needs(0, st, n, SMALL), counted.needs(st));
      s.request(op.id(), counted.needs(st));
      long[] z = VectorEngine.live(ctx, s, op.id(), 0, r, st)
          .discreteLaplace(n, SMALL, seed(6, ctx.self()));
      long[] opened = Reveal.toAll(ctx, op.id(), 0, op.round("open"), z, n);
      long[] expected = plaintext(seeds(6, 2), op.id(), st, n, SMALL);
      assertArrayEquals(expected, opened, "the engine draws what the kernel draws");
      return opened;
    });
    assertArrayEquals(out.get(0), out.get(1));
  }

  @Test
  void badArgumentsAreRefusedNamingTheArgument() {
    for (double bad : new double[] {0, -0.0, -1, Double.NaN, Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY}) {
      String m = assertThrows(IllegalArgumentException.class, () -> DiscreteLaplace.bits(bad))
          .getMessage();
      assertTrue(m.contains("scale") && m.contains(String.valueOf(bad)), m);
    }
    String large = assertThrows(IllegalArgumentException.class,
        () -> DiscreteLaplace.bits(1e17)).getMessage();
    assertTrue(large.contains("scale 1.0E17") && large.contains("too large"), large);
    assertEquals(DiscreteLaplace.MAX_BITS, DiscreteLaplace.bits(5e16));
    assertEquals(7, DiscreteLaplace.bits(SMALL)); // 2^7 >= 60 ln 2 * 2.5 = 104
    assertEquals(16, DiscreteLaplace.bits(LARGE));
    assertEquals(1, DiscreteLaplace.bits(1e-9));

    StreamRange st = new StreamRange("noise", 0, DiscreteLaplace.STREAMS);
    RoundRange r = new RoundRange("noise", 1, DiscreteLaplace.ROUNDS);
    for (int bad : new int[] {0, -5}) {
      String m = assertThrows(IllegalArgumentException.class,
          () -> DiscreteLaplace.needs(0, st, bad, SMALL)).getMessage();
      assertTrue(m.contains("samples") && m.contains(String.valueOf(bad)), m);
    }
    String many = assertThrows(IllegalArgumentException.class,
        () -> DiscreteLaplace.needs(0, st, Integer.MAX_VALUE, SMALL)).getMessage();
    assertTrue(many.contains("samples " + Integer.MAX_VALUE) && many.contains("split"), many);
    String scale = assertThrows(IllegalArgumentException.class,
        () -> DiscreteLaplace.needs(0, st, 10, Double.NaN)).getMessage();
    assertTrue(scale.contains("scale"), scale);
    // Checked before any message: no context or source is touched.
    String shortSeed = assertThrows(IllegalArgumentException.class,
        () -> DiscreteLaplace.sample(null, null, 1, 0, r, st, new byte[31], 10, SMALL))
        .getMessage();
    assertTrue(shortSeed.contains("seed") && shortSeed.contains("31 bytes"), shortSeed);
    String noSeed = assertThrows(IllegalArgumentException.class,
        () -> DiscreteLaplace.sample(null, null, 1, 0, r, st, null, 10, SMALL)).getMessage();
    assertTrue(noSeed.contains("seed") && noSeed.contains("null"), noSeed);
    String samples = assertThrows(IllegalArgumentException.class,
        () -> DiscreteLaplace.sample(null, null, 1, 0, r, st, seed(0, 0), 0, SMALL))
        .getMessage();
    assertTrue(samples.contains("samples"), samples);
    String rounds = assertThrows(IllegalArgumentException.class,
        () -> DiscreteLaplace.sample(null, null, 1, 0, new RoundRange("short", 1, 6), st,
            seed(0, 0), 10, SMALL)).getMessage();
    assertTrue(rounds.contains("outside its block"), rounds);
    String streams = assertThrows(IllegalArgumentException.class,
        () -> DiscreteLaplace.needs(0, new StreamRange("short", 0, 1), 10, SMALL)).getMessage();
    assertTrue(streams.contains("stream 1"), streams);
  }

  @Test
  void theChiSquarePValuesAreRight() {
    assertEquals(Math.exp(-3.0), ChiSquare.pValue(6, 2), 1e-12); // df 2: exp(-x/2)
    assertEquals(0.05, ChiSquare.pValue(3.841459, 1), 1e-6);
    assertEquals(0.05, ChiSquare.pValue(18.307038, 10), 1e-6);
    assertEquals(0.01, ChiSquare.pValue(13.276704, 4), 1e-6);
    assertEquals(1e-4, ChiSquare.pValue(35.564, 10), 1e-8);
    assertEquals(0.5, ChiSquare.pValue(0.454936, 1), 1e-6);
  }
}
