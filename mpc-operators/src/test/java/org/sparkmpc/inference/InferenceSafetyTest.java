package org.sparkmpc.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkmpc.inference.InferenceTest.refusedNaming;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.sparkmpc.correlation.ot.OtCorrelationSource;
import org.sparkmpc.net.LocalChannelHub;
import org.sparkmpc.net.MpcChannelException;
import org.sparkmpc.net.PeerTimeoutException;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;

/**
 * What the parties see and how a session fails: bad rows refused at the client before anything is
 * sent, the owner's view of a repeated row (and the client's of the model) uniformly masked, and
 * a server that stopped or does not answer named in the client's error.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class InferenceSafetyTest {
  static final int D = 30;

  @Test
  void badRowsAreRefusedAtTheClientNamingTheFeatureBeforeAnythingIsSent() throws Exception {
    InferenceModel m = InferenceTest.model(1, D);
    Map<Integer, RecordingChannel> views = new HashMap<>();
    double[] good = InferenceTest.rows(2, 1, D)[0];
    var out = InferenceParties.run(new InferenceParties.Setup("dealer", 2),
        p -> p == 0 ? m : null, ch -> record(views, ch), c -> {
          RecordingChannel mine = views.get(InferenceParties.CLIENT);
          // the pool's requests to the dealer go on in the background: count what the owner gets
          long before = toOwner(mine);
          refusedNaming(() -> c.predictProbability(new double[D - 1]),
              "the row has 29 features; the model takes 30");
          double[] nan = good.clone();
          nan[7] = Double.NaN;
          refusedNaming(() -> c.predictProbability(nan), "feature 7 of the row is NaN");
          double[] inf = good.clone();
          inf[3] = Double.NEGATIVE_INFINITY;
          refusedNaming(() -> c.predictLabel(inf), "feature 3 of the row is infinite");
          double[] big = good.clone();
          big[5] = 2_000_001.5;
          refusedNaming(() -> c.predictProbability(big),
              "feature 5 of the row is outside the inference range (magnitude at most 1048576)");
          MpcInputExceptionHolder.noValue(() -> c.predictProbability(big), "2000001");
          double[][] batch = InferenceTest.rows(3, 5, D);
          batch[2][4] = Double.NaN;
          refusedNaming(() -> c.predict(batch), "feature 4 of row 2 is NaN");
          refusedNaming(() -> c.predict(new double[0][]), "no rows");
          refusedNaming(() -> c.predictProbability(null), "the row is null");
          assertEquals(before, toOwner(mine), "nothing was sent for a bad row");
          return c.predictProbability(good); // the session is still usable
        });
    InferenceTest.check(m, good, out.result(), m.predictLabel(good), "after the refusals");
  }

  private static long toOwner(RecordingChannel view) {
    return view.sentSnapshot().stream().filter(m -> m.peer() == 0).count();
  }

  /** Checks that an exception's message does not show a value. */
  static final class MpcInputExceptionHolder {
    static void noValue(org.junit.jupiter.api.function.Executable call, String value) {
      Exception e = assertThrows(Exception.class, call);
      assertFalse(e.getMessage().contains(value), e.getMessage());
    }
  }

  private static RecordingChannel record(Map<Integer, RecordingChannel> views,
      org.sparkmpc.net.Channel ch) {
    RecordingChannel r = new RecordingChannel(ch);
    synchronized (views) {
      views.put(ch.directory().selfIndex(), r);
    }
    return r;
  }

  /**
   * The same row asked for 150 times: every value the owner opens from the dot product's round
   * (its own share plus the client's, i.e. the row minus the triple's mask) is fresh and uniform,
   * and so are the model's masked coefficients the client opens. Nothing the owner receives
   * holds the row's encoded values.
   */
  @Test
  void theOwnerSeesOnlyUniformlyMaskedValuesOfARepeatedRow() throws Exception {
    InferenceModel m = InferenceTest.model(1, D);
    double[] row = InferenceTest.rows(9, 1, D)[0];
    int requests = 150;
    Map<Integer, RecordingChannel> views = new HashMap<>();
    InferenceParties.run(new InferenceParties.Setup("dealer", 2), p -> p == 0 ? m : null,
        ch -> record(views, ch), c -> {
          for (int i = 0; i < requests; i++) {
            c.predictProbability(row);
          }
          return null;
        });
    RecordingChannel owner = views.get(0);
    RecordingChannel client = views.get(InferenceParties.CLIENT);
    List<long[]> ownerOpened = dotProductOpenings(owner, InferenceParties.CLIENT);
    List<long[]> clientOpened = dotProductOpenings(client, 0);
    assertEquals(requests, ownerOpened.size());
    List<Long> maskedRow = new ArrayList<>();
    List<Long> maskedModel = new ArrayList<>();
    for (long[] o : ownerOpened) {
      for (int j = 0; j < D; j++) {
        maskedRow.add(o[j]);
      }
    }
    for (long[] o : clientOpened) {
      for (int j = 0; j < D; j++) {
        maskedModel.add(o[D + j]);
      }
    }
    assertUniform(maskedRow, "the row as the owner opens it");
    assertUniform(maskedModel, "the model as the client opens it");
    // and no received payload holds an encoded feature of the row
    Set<Long> encoded = new HashSet<>();
    for (double v : row) {
      encoded.add(Math.round(Math.scalb(v, 16)));
    }
    for (RecordingChannel.Message msg : owner.receivedSnapshot()) {
      if (msg.key().partition() == Coordinates.DRIVER_PARTITION || msg.key().round() == 0) {
        continue; // headers and the session's public descriptions
      }
      for (long v : longs(msg.payload())) {
        assertFalse(encoded.contains(v), "the owner received an encoded feature in the clear");
      }
    }
  }

  /**
   * Per request, the values opened in its dot-product round (its first kernel round): this
   * party's sent share plus the peer's received share.
   */
  static List<long[]> dotProductOpenings(RecordingChannel view, int peer) {
    // a request is a partition of an operator (a pooled operator serves several)
    Map<List<Long>, RecordingChannel.Message> firstIn = new HashMap<>();
    for (RecordingChannel.Message msg : view.receivedSnapshot()) {
      if (msg.key().partition() >= 0 && msg.key().round() > 0 && msg.key().sender() == peer) {
        firstIn.merge(List.of(msg.key().operator(), (long) msg.key().partition()), msg,
            (a, b) -> a.key().round() <= b.key().round() ? a : b);
      }
    }
    List<long[]> out = new ArrayList<>();
    for (RecordingChannel.Message in : firstIn.values()) {
      if (in.payload().length != 16 * D) {
        continue; // the session's range check or a batch
      }
      for (RecordingChannel.Message mine : view.sentSnapshot()) {
        if (mine.peer() == peer && mine.key().operator() == in.key().operator()
            && mine.key().partition() == in.key().partition()
            && mine.key().round() == in.key().round()) {
          long[] a = longs(mine.payload());
          long[] b = longs(in.payload());
          for (int i = 0; i < a.length; i++) {
            a[i] += b[i];
          }
          out.add(a);
        }
      }
    }
    return out;
  }

  static long[] longs(byte[] b) {
    long[] v = new long[b.length / 8];
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(v);
    return v;
  }

  /**
   * All distinct, every bit set in 50% ± 5% of the values (more than 6 standard deviations for
   * 4,500 values), and the top 4 bits pass a chi-square test (15 degrees of freedom, p = 1e-5).
   */
  static void assertUniform(List<Long> values, String what) {
    int n = values.size();
    assertTrue(n >= 4000, what + ": " + n + " values");
    assertEquals(n, new HashSet<>(values).size(), what + ": a value repeats");
    for (int bit = 0; bit < 64; bit++) {
      int ones = 0;
      for (long v : values) {
        ones += (int) ((v >>> bit) & 1);
      }
      double f = ones / (double) n;
      assertTrue(Math.abs(f - 0.5) < 0.05, what + ": bit " + bit + " is set in " + f);
    }
    int[] bins = new int[16];
    for (long v : values) {
      bins[(int) (v >>> 60)]++;
    }
    double e = n / 16.0;
    double chi = 0;
    for (int c : bins) {
      chi += (c - e) * (c - e) / e;
    }
    assertTrue(chi < 50, what + ": chi-square " + chi);
  }

  /** Two parties over OT on an in-JVM hub, the server opened but driven by the test. */
  private static final class Pair implements AutoCloseable {
    final LocalChannelHub hub;
    final ExecutorService pool = Executors.newFixedThreadPool(3);
    final InferenceServer server;
    final InferenceClient client;

    Pair(Duration timeout) throws Exception {
      hub = new LocalChannelHub(List.of("p0", "p1"), timeout);
      InferenceSettings settings = InferenceSettings.DEFAULTS.withPoolDepth(2);
      Future<InferenceServer> s = pool.submit(() -> {
        MpcContext ctx = MpcContext.establish(hub.channel(0), "t", timeout, new SecureRandom());
        return InferenceServer.open(ctx, new OtCorrelationSource(ctx), settings, "p1",
            InferenceTest.model(1, D));
      });
      Future<InferenceClient> c = pool.submit(() -> {
        MpcContext ctx = MpcContext.establish(hub.channel(1), "t", timeout, new SecureRandom());
        return InferenceClient.open(ctx, new OtCorrelationSource(ctx), settings);
      });
      server = s.get(60, TimeUnit.SECONDS);
      client = c.get(60, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
      pool.shutdownNow();
      hub.close();
    }
  }

  @Test
  void aServerThatStoppedFailsTheNextRequestNamingIt() throws Exception {
    double[] row = InferenceTest.rows(2, 1, D)[0];
    try (Pair pair = new Pair(Duration.ofSeconds(5))) {
      Future<Long> serving = pair.pool.submit(() -> pair.server.serve());
      pair.client.predictProbability(row);
      pair.server.close();
      assertEquals(1L, serving.get(10, TimeUnit.SECONDS));
      MpcChannelException e = assertThrows(MpcChannelException.class,
          () -> pair.client.predictProbability(row));
      assertTrue(e.getMessage().contains("party 'p0'"), e.getMessage());
      IllegalStateException again = assertThrows(IllegalStateException.class,
          () -> pair.client.predictLabel(row));
      assertTrue(again.getMessage().contains("failed earlier"), again.getMessage());
      pair.client.close();
    }
  }

  @Test
  void aServerThatDoesNotAnswerFailsTheRequestWithinTheTimeoutNamingIt() throws Exception {
    double[] row = InferenceTest.rows(2, 1, D)[0];
    try (Pair pair = new Pair(Duration.ofSeconds(3))) {
      long t0 = System.nanoTime();
      PeerTimeoutException e = assertThrows(PeerTimeoutException.class,
          () -> pair.client.predictProbability(row));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(e.getMessage().contains("waiting for party 'p0'"), e.getMessage());
      assertTrue(ms < 10_000, "failed after " + ms + " ms");
      pair.client.close();
      pair.server.close();
    }
  }
}
