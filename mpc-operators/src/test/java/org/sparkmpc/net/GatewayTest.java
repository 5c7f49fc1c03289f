package org.sparkmpc.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkmpc.net.NetTestSupport.assertNoMarker;
import static org.sparkmpc.net.NetTestSupport.markerPayload;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three gateways on 127.0.0.1 with keys from {@code keygen demo}. */
class GatewayTest {

  private static final List<String> PARTIES = List.of("a", "b", "c");
  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private static final long MAX_BUFFERED = GatewayConfig.DEFAULT_MAX_BUFFERED_BYTES;

  @TempDir
  static Path keys;

  @BeforeAll
  static void keygen() {
    KeyGen.generateDemo(PARTIES, keys);
  }

  @Test
  void threeGatewaysExchangeAllToAllAndALargePayload() throws Exception {
    int partitions = 4;
    try (NetTestSupport.Cluster cluster = new NetTestSupport.Cluster(keys, PARTIES, TIMEOUT, MAX_BUFFERED)) {
      ExecutorService pool = Executors.newFixedThreadPool(PARTIES.size() * partitions);
      try {
        List<Future<?>> tasks = new ArrayList<>();
        for (int p = 0; p < PARTIES.size(); p++) {
          Gateway g = cluster.get(p);
          for (int part = 0; part < partitions; part++) {
            int partition = part;
            tasks.add(pool.submit(() -> {
              for (int round = 0; round < 3; round++) {
                MessageKey mine = new MessageKey("sess-1", 4, partition, round, g.self());
                for (int to = 0; to < PARTIES.size(); to++) {
                  if (to != g.self()) {
                    g.send(to, mine, payload(g.self(), to, partition, round));
                  }
                }
                for (int from = 0; from < PARTIES.size(); from++) {
                  if (from != g.self()) {
                    byte[] got = g.receive(mine.withSender(from), Duration.ofSeconds(10));
                    assertArrayEquals(payload(from, g.self(), partition, round), got);
                  }
                }
              }
              return null;
            }));
          }
        }
        for (Future<?> f : tasks) {
          f.get(30, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }

      byte[] big = new byte[50 << 20];
      for (int i = 0; i < big.length; i += 4096) {
        big[i] = (byte) (i >>> 12);
      }
      MessageKey bigKey = new MessageKey("sess-1", 5, 0, 0, 0);
      cluster.get(0).send(2, bigKey, big);
      assertArrayEquals(big, cluster.get(2).receive(bigKey, Duration.ofSeconds(10)));

      for (int p = 0; p < PARTIES.size(); p++) {
        ChannelStats s = cluster.get(p).stats();
        assertEquals(2L * partitions * 3 + (p == 0 ? 1 : 0), s.messagesSent());
        assertEquals(2L * partitions * 3 + (p == 2 ? 1 : 0), s.messagesReceived());
      }
      assertEquals(big.length + 2L * partitions * 3 * 24, cluster.get(0).stats().bytesSent());
      cluster.get(2).endSession("sess-1");
      assertEquals(0, cluster.get(2).bufferedBytes());
    }
  }

  private static byte[] payload(int from, int to, int partition, int round) {
    ByteBuffer b = ByteBuffer.allocate(24);
    b.putLong(from * 1000L + to).putLong(partition).putLong(round);
    return b.array();
  }

  @Test
  void identicalDuplicateIsAcceptedOnceAndConflictIsRefusedAtBothEnds() {
    try (NetTestSupport.Cluster cluster = new NetTestSupport.Cluster(keys, PARTIES, TIMEOUT, MAX_BUFFERED)) {
      Gateway a = cluster.get(0);
      Gateway b = cluster.get(1);
      MessageKey k = new MessageKey("dup", 2, 1, 6, 1);
      byte[] p = markerPayload(1000, 0);
      b.send(0, k, p.clone());
      b.send(0, k, p.clone());
      assertEquals(p.length, a.bufferedBytes(), "one copy kept");
      assertArrayEquals(p, a.receive(k, TIMEOUT));
      assertArrayEquals(p, a.receive(k, TIMEOUT), "a retried task reads it again");

      ProtocolException atSender = assertThrows(ProtocolException.class, () -> b.send(0, k, markerPayload(1000, 1)));
      assertTrue(atSender.getMessage().contains("CONFLICT") && atSender.getMessage().contains("party 'a'"),
          atSender.getMessage());
      assertNoMarker(atSender);
      ProtocolException atReceiver = assertThrows(ProtocolException.class, () -> a.receive(k, TIMEOUT));
      for (String s : List.of("party 'b'", "session dup", "operator 2", "partition 1", "round 6")) {
        assertTrue(atReceiver.getMessage().contains(s), atReceiver.getMessage());
      }
      assertNoMarker(atReceiver);
      // A duplicate of different length is a conflict as well.
      assertThrows(ProtocolException.class, () -> b.send(0, k, markerPayload(3, 0)));
      assertEquals(p.length, a.bufferedBytes());
    }
  }

  @Test
  void receiveTimeoutNamesThePeerAndTheRound() {
    try (NetTestSupport.Cluster cluster = new NetTestSupport.Cluster(keys, PARTIES, TIMEOUT, MAX_BUFFERED)) {
      long t0 = System.nanoTime();
      PeerTimeoutException e = assertThrows(PeerTimeoutException.class,
          () -> cluster.get(0).receive(new MessageKey("abc", 3, 0, 7, 2), Duration.ofMillis(300)));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(ms >= 290 && ms < 2000, "waited " + ms + " ms");
      assertEquals("timed out after 300 ms waiting for party 'c' (session abc, operator 3, partition 0, round 7)",
          e.getMessage());
    }
  }

  @Test
  void peerDownIsReportedWithinTheTimeout() {
    int[] ports = {NetTestSupport.freePort(), NetTestSupport.freePort(), NetTestSupport.freePort()};
    GatewayConfig cfg = GatewayConfig.defaults(NetTestSupport.directory(PARTIES, ports, "a"), keys).withTimeout(TIMEOUT);
    try (Gateway a = Gateway.start(cfg)) {
      long t0 = System.nanoTime();
      MessageKey k = new MessageKey("down", 1, 0, 2, 0);
      PeerUnavailableException e = assertThrows(PeerUnavailableException.class, () -> a.send(2, k, markerPayload(4, 0)));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(ms < TIMEOUT.toMillis() + 1500, "took " + ms + " ms");
      assertTrue(ms >= TIMEOUT.toMillis() - 1100, "gave up after only " + ms + " ms");
      String m = e.getMessage();
      assertTrue(m.contains("party 'c'") && m.contains("127.0.0.1:" + ports[2]) && m.contains("connection refused")
          && m.contains(k.describe()), m);
      assertNoMarker(e);
    }
  }

  @Test
  void anAbortNoticeGivesUpOnAPeerThatIsGoneLongBeforeTheTimeout() {
    int[] ports = {NetTestSupport.freePort(), NetTestSupport.freePort(), NetTestSupport.freePort()};
    GatewayConfig cfg = GatewayConfig.defaults(NetTestSupport.directory(PARTIES, ports, "a"), keys)
        .withTimeout(Duration.ofSeconds(60));
    try (Gateway a = Gateway.start(cfg)) {
      long t0 = System.nanoTime();
      a.abort("gone", 4, "party a refused");   // b and c are down: skipped, not waited for
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(ms >= Gateway.ABORT_SEND_MS - 1000 && ms < 2 * Gateway.ABORT_SEND_MS + 3000,
          "took " + ms + " ms for two unreachable peers (the timeout is 60 s)");
    }
  }

  @Test
  void peerThatStartsLateIsReachedByRetrying() throws Exception {
    int[] ports = {NetTestSupport.freePort(), NetTestSupport.freePort(), NetTestSupport.freePort()};
    Duration timeout = TIMEOUT;
    try (Gateway a = Gateway.start(GatewayConfig.defaults(NetTestSupport.directory(PARTIES, ports, "a"), keys)
        .withTimeout(timeout))) {
      MessageKey k = new MessageKey("late", 1, 0, 0, 0);
      CompletableFuture<Void> send = CompletableFuture.runAsync(() -> a.send(1, k, new byte[] {1, 2, 3}));
      Thread.sleep(300);
      try (Gateway b = Gateway.start(GatewayConfig.defaults(NetTestSupport.directory(PARTIES, ports, "b"), keys)
          .withTimeout(timeout))) {
        send.get(10, TimeUnit.SECONDS);
        assertArrayEquals(new byte[] {1, 2, 3}, b.receive(k, timeout));
      }
      // b is gone: the broken connection is detected and reported, not hung on.
      PeerUnavailableException e = assertThrows(PeerUnavailableException.class,
          () -> a.send(1, new MessageKey("late", 1, 0, 1, 0), new byte[] {4}));
      assertTrue(e.getMessage().contains("party 'b'"), e.getMessage());
    }
  }

  @Test
  void messageForAnEndedSessionIsRefusedAsReplay() {
    try (NetTestSupport.Cluster cluster = new NetTestSupport.Cluster(keys, PARTIES, TIMEOUT, MAX_BUFFERED)) {
      Gateway a = cluster.get(0);
      Gateway b = cluster.get(1);
      MessageKey k = new MessageKey("old", 1, 0, 0, 1);
      b.send(0, k, markerPayload(10, 0));
      a.endSession("old");
      assertEquals(0, a.bufferedBytes());
      ProtocolException e = assertThrows(ProtocolException.class, () -> b.send(0, k, markerPayload(10, 0)));
      assertTrue(e.getMessage().contains("ENDED") && e.getMessage().contains("replay"), e.getMessage());
      assertNoMarker(e);
      ProtocolException r = assertThrows(ProtocolException.class, () -> a.receive(k, TIMEOUT));
      assertTrue(r.getMessage().contains("has ended"), r.getMessage());
      // The connection stays usable for the next session.
      b.send(0, new MessageKey("new", 1, 0, 0, 1), new byte[] {9});
      assertArrayEquals(new byte[] {9}, a.receive(new MessageKey("new", 1, 0, 0, 1), TIMEOUT));
    }
  }

  @Test
  void overCapacityBlocksThenFailsNamingTheSetting() throws Exception {
    Duration timeout = Duration.ofSeconds(1);
    try (NetTestSupport.Cluster cluster = new NetTestSupport.Cluster(keys, PARTIES, timeout, 1 << 20)) {
      Gateway a = cluster.get(0);
      Gateway b = cluster.get(1);
      Gateway c = cluster.get(2);
      b.send(0, new MessageKey("s1", 1, 0, 0, 1), new byte[700_000]);

      long t0 = System.nanoTime();
      MpcChannelException full = assertThrows(MpcChannelException.class,
          () -> b.send(0, new MessageKey("s1", 1, 0, 1, 1), markerPayload(80_000, 0)));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(ms >= 900 && ms < 5000, "back-pressure lasted " + ms + " ms");
      assertTrue(full.getMessage().contains("spark.mpc.gateway.maxBufferedBytes")
          && full.getMessage().contains("OVER_CAPACITY"), full.getMessage());
      assertNoMarker(full);

      MpcChannelException tooBig = assertThrows(MpcChannelException.class,
          () -> c.send(0, new MessageKey("s1", 1, 0, 1, 2), markerPayload(200_000, 0)));
      assertTrue(tooBig.getMessage().contains("spark.mpc.gateway.maxBufferedBytes"), tooBig.getMessage());
      assertNoMarker(tooBig);

      CompletableFuture<Void> waiting =
          CompletableFuture.runAsync(() -> c.send(0, new MessageKey("s2", 1, 0, 0, 2), new byte[700_000]));
      Thread.sleep(200);
      assertFalse(waiting.isDone(), "the sender is held back while the buffer is full");
      a.endSession("s1");
      waiting.get(5, TimeUnit.SECONDS);
      assertEquals(700_000, a.receive(new MessageKey("s2", 1, 0, 0, 2), timeout).length);
    }
  }

  @Test
  void closeStopsServingAndFailsWaiters() throws Exception {
    NetTestSupport.Cluster cluster = new NetTestSupport.Cluster(keys, PARTIES, TIMEOUT, MAX_BUFFERED);
    try (cluster) {
      Gateway a = cluster.get(0);
      cluster.get(1).send(0, new MessageKey("s", 1, 0, 0, 1), new byte[] {1});
      CompletableFuture<byte[]> waiter =
          CompletableFuture.supplyAsync(() -> a.receive(new MessageKey("s", 1, 0, 1, 1), Duration.ofSeconds(20)));
      Thread.sleep(100);
      a.close();
      Exception e = assertThrows(Exception.class, () -> waiter.get(5, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof MpcChannelException, String.valueOf(e.getCause()));
      assertThrows(PeerUnavailableException.class,
          () -> cluster.get(1).send(0, new MessageKey("s", 1, 0, 2, 1), new byte[] {2}));
      assertThrows(MpcChannelException.class, () -> a.send(1, new MessageKey("s", 1, 0, 2, 0), new byte[] {2}));
    }
  }
}
