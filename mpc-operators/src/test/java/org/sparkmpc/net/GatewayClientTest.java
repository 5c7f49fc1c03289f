package org.sparkmpc.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkmpc.net.NetTestSupport.assertNoMarker;
import static org.sparkmpc.net.NetTestSupport.markerPayload;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.share.Reveal;

/**
 * Two parties' gateways on 127.0.0.1, each used through a {@link GatewayClient} of its own party
 * (as executors on other hosts would), keys from {@code keygen demo}.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class GatewayClientTest {

  private static final List<String> PARTIES = List.of("a", "b");
  private static final Duration TIMEOUT = Duration.ofSeconds(2);

  @TempDir
  static Path keys;

  private NetTestSupport.Cluster cluster;
  private GatewayClient clientA;
  private GatewayClient clientB;

  @BeforeAll
  static void keygen() {
    KeyGen.generateDemo(PARTIES, keys);
  }

  @BeforeEach
  void start() {
    cluster = new NetTestSupport.Cluster(keys, PARTIES, TIMEOUT, GatewayConfig.DEFAULT_MAX_BUFFERED_BYTES);
    clientA = new GatewayClient(cluster.get(0).config());
    clientB = new GatewayClient(cluster.get(1).config());
  }

  @AfterEach
  void stop() {
    clientA.close();
    clientB.close();
    cluster.close();
  }

  @Test
  void clientOfASendsAndClientOfBReceives() {
    byte[] payload = markerPayload(1000, 0);
    MessageKey key = new MessageKey("s1", 3, 0, 0, 0);
    clientA.send(1, key, payload.clone());
    assertArrayEquals(payload, clientB.receive(key, Duration.ofSeconds(5)));
    // A retried task reads the same message again.
    assertArrayEquals(payload, clientB.receive(key, Duration.ofSeconds(5)));
    assertEquals(payload.length, clientA.stats().bytesSent());
    assertEquals(1, clientA.stats().messagesSent());
    assertEquals(2L * payload.length, clientB.stats().bytesReceived());
    assertEquals(0, clientA.self());
    assertEquals("b", clientB.directory().self().name());
    clientB.endSession("s1");
    ProtocolException ended = assertThrows(ProtocolException.class,
        () -> clientB.receive(key, Duration.ofSeconds(1)));
    assertTrue(ended.getMessage().contains("has ended"), ended::getMessage);
  }

  @Test
  void receiveThroughAClientTimesOutNamingThePeerAndRound() {
    MessageKey key = new MessageKey("s2", 4, 1, 7, 1);
    long t0 = System.nanoTime();
    PeerTimeoutException e = assertThrows(PeerTimeoutException.class,
        () -> clientA.receive(key, Duration.ofMillis(300)));
    assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(250));
    assertTrue(e.getMessage().contains("party 'b'"), e::getMessage);
    assertTrue(e.getMessage().contains("round 7"), e::getMessage);
    // The connection stays usable after a reported error.
    clientB.send(0, key, new byte[] {1, 2});
    assertArrayEquals(new byte[] {1, 2}, clientA.receive(key, Duration.ofSeconds(5)));
  }

  @Test
  void identicalResendIsAcceptedAndAConflictIsAProtocolException() {
    MessageKey key = new MessageKey("s3", 5, 0, 1, 0);
    byte[] payload = markerPayload(16, 1);
    clientA.send(1, key, payload.clone());
    clientA.send(1, key, payload.clone());
    ProtocolException e = assertThrows(ProtocolException.class,
        () -> clientA.send(1, key, markerPayload(16, 2)));
    assertTrue(e.getMessage().contains("party 'b'"), e::getMessage);
    assertTrue(e.getMessage().contains("CONFLICT"), e::getMessage);
    assertNoMarker(e);
    ProtocolException atB = assertThrows(ProtocolException.class,
        () -> clientB.receive(key, Duration.ofSeconds(2)));
    assertTrue(atB.getMessage().contains("conflicting duplicate"), atB::getMessage);
    assertNoMarker(atB);
  }

  @Test
  void aPeersAbortFailsTheClientsReceiveAtOnce() {
    clientB.abort("s4", 9, "column 'x' has nulls at party b");
    MessageKey key = new MessageKey("s4", 9, 2, 0, 1);
    long t0 = System.nanoTime();
    PeerAbortedException e = assertThrows(PeerAbortedException.class,
        () -> clientA.receive(key, Duration.ofSeconds(20)));
    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
    assertTrue(e.getMessage().contains("column 'x' has nulls at party b"), e::getMessage);
    assertTrue(e.getMessage().contains("party 'b'"), e::getMessage);
  }

  @Test
  void manyThreadsShareOneClient() throws Exception {
    int threads = 8;
    int messages = 50;
    ExecutorService pool = Executors.newFixedThreadPool(2 * threads);
    try {
      List<Future<?>> tasks = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int part = t;
        tasks.add(pool.submit(() -> {
          for (int m = 0; m < messages; m++) {
            clientA.send(1, new MessageKey("s5", 1, part, m, 0), payload(part, m));
          }
          return null;
        }));
        tasks.add(pool.submit(() -> {
          for (int m = 0; m < messages; m++) {
            byte[] got = clientB.receive(new MessageKey("s5", 1, part, m, 0), Duration.ofSeconds(10));
            assertArrayEquals(payload(part, m), got);
          }
          return null;
        }));
      }
      for (Future<?> f : tasks) {
        f.get(25, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals((long) threads * messages, clientA.stats().messagesSent());
    assertEquals((long) threads * messages, clientB.stats().messagesReceived());
  }

  @Test
  void anotherPartysCertificateCannotActAsAClient() {
    Gateway a = cluster.get(0);
    // Party b's key and certificate, connecting to a's gateway (trusting a's certificate).
    try (GatewayClient impostor = new GatewayClient(cluster.get(1).config(), "127.0.0.1", a.port(), 0)) {
      MessageKey fromB = new MessageKey("s6", 2, 0, 0, 1);
      ProtocolException e = assertThrows(ProtocolException.class,
          () -> impostor.send(0, fromB, markerPayload(8, 0)));
      assertTrue(e.getMessage().contains("REFUSED"), e::getMessage);
      assertNoMarker(e);
      MessageKey toB = new MessageKey("s6", 2, 0, 0, 0);
      assertThrows(ProtocolException.class, () -> impostor.receive(toB, Duration.ofMillis(100)));
      assertThrows(ProtocolException.class, () -> impostor.endSession("s6"));
    }
    assertEquals(0, a.bufferedBytes());
    assertThrows(PeerTimeoutException.class,
        () -> a.receive(new MessageKey("s6", 2, 0, 0, 1), Duration.ofMillis(100)));
    // The real client of a still works.
    clientA.send(1, new MessageKey("s6", 2, 0, 0, 0), new byte[] {3});
  }

  @Test
  void aClientCannotInjectAPeersDataFrame() throws Exception {
    Gateway a = cluster.get(0);
    PartyCredentials own = PartyCredentials.load(a.config());
    try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) own.ownGatewayClientContext().getSocketFactory()
        .createSocket("127.0.0.1", a.port())) {
      s.setSoTimeout(5000);
      s.startHandshake();
      java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
      java.io.DataOutputStream out = new java.io.DataOutputStream(s.getOutputStream());
      assertEquals(0, Wire.readHello(in).party());
      Wire.writeData(out, new MessageKey("s7", 1, 0, 0, 1), markerPayload(4, 0));
      out.flush();
      assertEquals(Wire.TYPE_CLIENT_STATUS, Wire.readFrameType(in, in.readUnsignedByte()));
      Wire.ClientStatusReply r = Wire.readClientStatusBody(in);
      assertEquals(Wire.ClientStatus.REFUSED, r.status());
    }
    assertEquals(0, a.bufferedBytes());
    // Same messages as the gateway's own: a client is indistinguishable from the gateway.
    MessageKey key = new MessageKey("s7", 1, 0, 0, 1);
    String direct = assertThrows(PeerTimeoutException.class, () -> a.receive(key, Duration.ofMillis(50)))
        .getMessage();
    String viaClient = assertThrows(PeerTimeoutException.class,
        () -> clientA.receive(key, Duration.ofMillis(50))).getMessage();
    assertEquals(direct, viaClient);
  }

  @Test
  void sessionHelloAndRevealOverClients() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      long[][] shares = {{5, 10, -4}, {7, -3, Long.MIN_VALUE}};
      List<Future<long[]>> fs = new ArrayList<>();
      GatewayClient[] clients = {clientA, clientB};
      for (int p = 0; p < 2; p++) {
        int party = p;
        fs.add(pool.submit(() -> {
          MpcContext ctx = MpcContext.establish(clients[party], "client-test", Duration.ofSeconds(10),
              new SecureRandom());
          return Reveal.toAll(ctx, 1, 0, 0, shares[party].clone(), 3);
        }));
      }
      long[] expected = {12, 7, Long.MIN_VALUE - 4};
      for (Future<long[]> f : fs) {
        assertArrayEquals(expected, f.get(20, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** Both parties establish a session of {@code job} through their clients; the session ids. */
  private List<String> establishBoth(String job) throws Exception {
    return establishBoth(job, Duration.ofSeconds(5));
  }

  private List<String> establishBoth(String job, Duration timeout) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      GatewayClient[] clients = {clientA, clientB};
      List<Future<String>> fs = new ArrayList<>();
      for (int p = 0; p < 2; p++) {
        int party = p;
        fs.add(pool.submit(() -> MpcContext.establish(clients[party], job, timeout,
            new SecureRandom()).sessionId()));
      }
      List<String> ids = new ArrayList<>();
      for (Future<String> f : fs) {
        ids.add(f.get(20, TimeUnit.SECONDS));
      }
      return ids;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aLongLivedGatewayServesReRunsOfTheSameJob() throws Exception {
    List<String> first = establishBoth("nightly");
    List<String> second = establishBoth("nightly");
    assertEquals(first.get(0), first.get(1));
    assertEquals(second.get(0), second.get(1));
    assertTrue(!first.get(0).equals(second.get(0)), "each run agrees a fresh session");
  }

  @Test
  void aStaleHelloFromACrashedRunIsReplacedByTheNextRunsHello() throws Exception {
    // Party b's earlier run sent its hello to a and gave up before a received it.
    clientB.send(0, new MessageKey(MessageKey.HELLO_PREFIX + "nightly", 0, -1, 0, 1),
        new byte[4 + 32 + 32 + 4 + 64]);
    Thread.sleep(2_100);
    // Older than a whole wait of the next run: a drops it and waits for b's fresh hello.
    List<String> ids = establishBoth("nightly", Duration.ofSeconds(2));
    assertEquals(ids.get(0), ids.get(1));
  }

  @Test
  void clientsLearnWhenASessionEnded() {
    assertTrue(!clientA.sessionEnded("s9") && !cluster.get(0).isSessionEnded("s9"));
    cluster.get(0).endSession("s9");
    assertTrue(cluster.get(0).isSessionEnded("s9"));
    assertTrue(clientA.sessionEnded("s9"));
    // Per gateway: b's gateway did not end it.
    assertTrue(!clientB.sessionEnded("s9"));
    clientB.endSession("s9");
    assertTrue(clientB.sessionEnded("s9"));
  }

  @Test
  void gatewayMainReadsItsProperties() {
    Properties p = new Properties();
    p.setProperty("spark.mpc.party", "b");
    p.setProperty("spark.mpc.parties", "a=127.0.0.1:7001,b=127.0.0.1:7002");
    p.setProperty("spark.mpc.keyDir", keys.toString());
    p.setProperty("spark.mpc.timeout", "120s");
    p.setProperty("spark.mpc.gateway.maxBufferedBytes", "512m");
    GatewayConfig c = GatewayMain.config(p);
    assertEquals("b", c.directory().self().name());
    assertEquals(Duration.ofSeconds(120), c.timeout());
    assertEquals(512L << 20, c.maxBufferedBytes());
    assertEquals(500, ConfigValues.millis("k", "500ms"));
    assertEquals(120_000, ConfigValues.millis("k", "2m"));
    assertEquals(2L << 30, ConfigValues.bytes("k", "2g"));
    assertThrows(IllegalArgumentException.class, () -> ConfigValues.bytes("k", "lots"));
    p.remove("spark.mpc.keyDir");
    assertThrows(IllegalArgumentException.class, () -> GatewayMain.config(p));
  }

  private static byte[] payload(int part, int m) {
    byte[] b = new byte[64 + m];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (part * 31 + m + i);
    }
    return b;
  }
}
