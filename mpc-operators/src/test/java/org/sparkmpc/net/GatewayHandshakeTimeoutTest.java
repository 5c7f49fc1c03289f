package org.sparkmpc.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
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

/**
 * Bad input: connections that never complete their TLS handshake (silent, a partial ClientHello, a
 * slow dribble) are closed after the short handshake timeout, not the query timeout, and do not keep
 * legitimate peers and clients out.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GatewayHandshakeTimeoutTest {

  private static final List<String> PARTIES = List.of("a", "b");
  /** The query timeout: long, so that a stall held for it would be plainly visible. */
  private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration HANDSHAKE = Duration.ofMillis(1000);
  /** A TLS handshake record header announcing 256 bytes, and the start of a ClientHello. */
  private static final byte[] PARTIAL_CLIENT_HELLO = {0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, (byte) 0xfc,
      0x03, 0x03};

  @TempDir
  static Path keys;

  private final List<Gateway> gateways = new ArrayList<>();

  @BeforeAll
  static void keygen() {
    KeyGen.generateDemo(PARTIES, keys);
  }

  @BeforeEach
  void start() {
    int[] ports = {NetTestSupport.freePort(), NetTestSupport.freePort()};
    for (String n : PARTIES) {
      gateways.add(Gateway.start(GatewayConfig.defaults(NetTestSupport.directory(PARTIES, ports, n), keys)
          .withTimeout(QUERY_TIMEOUT).withHandshakeTimeout(HANDSHAKE)));
    }
  }

  @AfterEach
  void stop() {
    gateways.forEach(Gateway::close);
  }

  private enum Stall { SILENT, PARTIAL_HELLO, DRIBBLE }

  /**
   * Connect and stall as {@code how}; return the milliseconds from connecting until the gateway
   * closed the connection, or -1 if it was still open after {@code giveUpMs}.
   */
  private static long stallUntilClosed(int port, Stall how, long giveUpMs) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      long t0 = System.nanoTime();
      s.setSoTimeout(100);
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      if (how == Stall.PARTIAL_HELLO) {
        out.write(PARTIAL_CLIENT_HELLO);
        out.flush();
      }
      int dribbled = 0;
      while (elapsedMs(t0) < giveUpMs) {
        try {
          if (how == Stall.DRIBBLE) {
            // One byte of the ClientHello per read timeout: every single read succeeds in time.
            out.write(PARTIAL_CLIENT_HELLO[dribbled++ % PARTIAL_CLIENT_HELLO.length]);
            out.flush();
          }
          int b = in.read();
          if (b < 0) {
            return elapsedMs(t0);
          }
        } catch (SocketTimeoutException e) {
          // still open
        } catch (IOException e) {
          return elapsedMs(t0); // reset by the gateway
        }
      }
      return -1;
    }
  }

  private static long elapsedMs(long t0) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }

  @Test
  void stalledHandshakesAreClosedAfterTheHandshakeTimeoutAndPeersStillGetThrough() throws Exception {
    Gateway a = gateways.get(0);
    Gateway b = gateways.get(1);
    int stalls = Gateway.MAX_INBOUND_CONNECTIONS;
    ExecutorService pool = Executors.newFixedThreadPool(stalls);
    try {
      List<Future<Long>> closedAfter = new ArrayList<>();
      for (int i = 0; i < stalls; i++) {
        Stall how = Stall.values()[i % Stall.values().length];
        closedAfter.add(pool.submit(() -> stallUntilClosed(a.port(), how, QUERY_TIMEOUT.toMillis() / 3)));
      }
      // Let the stalls take every slot, then have party b send to a: it is refused while they hold the
      // slots and retries; it must get through once they are dropped, long before the query timeout.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (a.inboundConnections() < stalls && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(stalls, a.inboundConnections(), "the stalled connections hold every slot");
      MessageKey key = new MessageKey("s", 1, 0, 0, 1);
      byte[] payload = {1, 2, 3};
      long t0 = System.nanoTime();
      b.send(0, key, payload.clone());
      long sendMs = elapsedMs(t0);
      assertTrue(sendMs < HANDSHAKE.toMillis() + 4000, "party b waited " + sendMs + " ms to get through");
      assertArrayEquals(payload, a.receive(key, Duration.ofSeconds(5)));

      for (int i = 0; i < stalls; i++) {
        long ms = closedAfter.get(i).get(QUERY_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        Stall how = Stall.values()[i % Stall.values().length];
        assertTrue(ms >= 0, how + " connection #" + i + " was still open after a third of the query timeout");
        assertTrue(ms >= HANDSHAKE.toMillis() - 200 && ms <= HANDSHAKE.toMillis() + 2500,
            how + " connection #" + i + " was closed after " + ms + " ms; the handshake timeout is "
                + HANDSHAKE.toMillis() + " ms");
      }
      // A client of party a (an executor) connects and is served after the stalls.
      try (GatewayClient client = new GatewayClient(a.config())) {
        assertArrayEquals(payload, client.receive(key, Duration.ofSeconds(5)));
      }
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (a.inboundConnections() > 1 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(a.inboundConnections() <= 1, "slots left held: " + a.inboundConnections());
    } finally {
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void anAuthenticatedConnectionOutlivesTheHandshakeTimeout() throws Exception {
    try (GatewayClient client = new GatewayClient(gateways.get(0).config())) {
      client.endSession("first");
      Thread.sleep(HANDSHAKE.toMillis() + 700);
      // The pooled connection is reused: had the handshake deadline closed it, this call would fail.
      client.endSession("second");
    }
    // A peer's connection too: b's link to a stays open across the deadline.
    Gateway b = gateways.get(1);
    b.send(0, new MessageKey("s", 1, 0, 0, 1), new byte[] {1});
    int before = gateways.get(0).inboundConnections();
    Thread.sleep(HANDSHAKE.toMillis() + 700);
    assertEquals(before, gateways.get(0).inboundConnections(), "the peer's connection was closed");
    b.send(0, new MessageKey("s", 1, 0, 1, 1), new byte[] {2});
    assertArrayEquals(new byte[] {2}, gateways.get(0).receive(new MessageKey("s", 1, 0, 1, 1),
        Duration.ofSeconds(5)));
  }

  @Test
  void theHandshakeTimeoutIsASettingOfItsOwn() {
    Properties p = new Properties();
    p.setProperty("spark.mpc.party", "a");
    p.setProperty("spark.mpc.parties", "a=127.0.0.1:7001,b=127.0.0.1:7002");
    p.setProperty("spark.mpc.keyDir", keys.toString());
    assertEquals(GatewayConfig.DEFAULT_HANDSHAKE_TIMEOUT, GatewayMain.config(p).handshakeTimeout());
    p.setProperty(GatewayConfig.HANDSHAKE_TIMEOUT_SETTING, "750ms");
    GatewayConfig c = GatewayMain.config(p);
    assertEquals(Duration.ofMillis(750), c.handshakeTimeout());
    assertEquals(Duration.ofMillis(750), c.effectiveHandshakeTimeout());
    // Never longer than the query timeout.
    assertEquals(Duration.ofMillis(200), c.withTimeout(Duration.ofMillis(200)).effectiveHandshakeTimeout());
    p.setProperty(GatewayConfig.HANDSHAKE_TIMEOUT_SETTING, "soon");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GatewayMain.config(p));
    assertTrue(e.getMessage().contains(GatewayConfig.HANDSHAKE_TIMEOUT_SETTING), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> c.withHandshakeTimeout(Duration.ZERO));
  }
}
