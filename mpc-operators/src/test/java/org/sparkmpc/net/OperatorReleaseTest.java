package org.sparkmpc.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkmpc.net.NetTestSupport.assertNoMarker;
import static org.sparkmpc.net.NetTestSupport.markerPayload;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Releasing a finished operator's messages ({@link Channel#releaseOperator}): three gateways over
 * TLS with a 1 MiB receive buffer, and a client of one of them (the driver's path to its gateway).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OperatorReleaseTest {

  private static final List<String> PARTIES = List.of("a", "b", "c");
  private static final Duration TIMEOUT = Duration.ofSeconds(1);
  private static final long BUFFER = 1 << 20;
  /** One message: 300,000 bytes, so two peers' messages of two operators do not fit the buffer. */
  private static final int LONGS = 37_500;

  @TempDir
  static Path keys;

  @BeforeAll
  static void keygen() {
    KeyGen.generateDemo(PARTIES, keys);
  }

  /** Operator {@code op} of {@code session}: b and c each send a its message; a reads both. */
  private static void runOperator(NetTestSupport.Cluster cluster, String session, long op) {
    for (int from = 1; from <= 2; from++) {
      MessageKey k = new MessageKey(session, op, 0, 1, from);
      cluster.get(from).send(0, k, markerPayload(LONGS, from));
      assertArrayEquals(markerPayload(LONGS, from), cluster.get(0).receive(k, TIMEOUT));
    }
  }

  @Test
  void aSessionThatOverflowsWithoutReleaseFitsWithIt() {
    try (NetTestSupport.Cluster cluster = new NetTestSupport.Cluster(keys, PARTIES, TIMEOUT, BUFFER)) {
      Gateway a = cluster.get(0);
      // Kept until the session ends (as before): the second operator's messages do not fit.
      runOperator(cluster, "kept", 1);
      cluster.get(1).send(0, new MessageKey("kept", 2, 0, 1, 1), markerPayload(LONGS, 1));
      MpcChannelException full = assertThrows(MpcChannelException.class, () -> cluster.get(2)
          .send(0, new MessageKey("kept", 2, 0, 1, 2), markerPayload(LONGS, 2)));
      String m = full.getMessage();
      for (String s : List.of("OVER_CAPACITY", Mailbox.MAX_BUFFERED_BYTES_SETTING,
          "session kept holds 900000 bytes in 3 messages of 2 operators")) {
        assertTrue(m.contains(s), m);
      }
      assertNoMarker(full);
      a.endSession("kept");
      assertEquals(0, a.bufferedBytes());

      // Released as each operator finishes: eight operators pass through the same buffer.
      for (long op = 1; op <= 8; op++) {
        runOperator(cluster, "released", op);
        assertEquals(2L * 8 * LONGS, a.bufferedBytes());
        a.releaseOperator("released", op);
        assertEquals(0, a.bufferedBytes(), "operator " + op + "'s messages are gone");
      }
      assertEquals(8 * 2L * 8 * LONGS, a.stats().bytesReleased());
    }
  }

  @Test
  void aLateMessageIsRefusedNamingTheOperatorAndOtherOperatorsKeepTheirs() throws Exception {
    try (NetTestSupport.Cluster cluster = new NetTestSupport.Cluster(keys, PARTIES, TIMEOUT, BUFFER)) {
      Gateway a = cluster.get(0);
      Gateway b = cluster.get(1);
      MessageKey done = new MessageKey("s", 7, 3, 1, 1);
      MessageKey running = new MessageKey("s", 8, 3, 1, 1);
      b.send(0, done, markerPayload(100, 0));
      b.send(0, running, markerPayload(200, 0));
      assertArrayEquals(markerPayload(100, 0), a.receive(done, TIMEOUT));
      a.releaseOperator("s", 7);
      assertEquals(1600, a.bufferedBytes(), "operator 8's message is kept");

      // A late message of operator 7, new or a re-send: refused, not buffered again.
      for (MessageKey late : List.of(done, new MessageKey("s", 7, 3, 2, 1))) {
        OperatorReleasedException e = assertThrows(OperatorReleasedException.class,
            () -> b.send(0, late, markerPayload(100, 1)));
        for (String s : List.of("RELEASED", "party 'a'", "operator 7 of session s", "party 'b'")) {
          assertTrue(e.getMessage().contains(s), e.getMessage());
        }
        assertNoMarker(e);
      }
      assertEquals(1600, a.bufferedBytes());
      // A retried task of operator 7 asking again: a clear error naming it, not a timeout.
      OperatorReleasedException again = assertThrows(OperatorReleasedException.class,
          () -> a.receive(done, Duration.ofSeconds(30)));
      assertTrue(again.getMessage().contains("operator 7 of session s has finished at party 'a'")
          && again.getMessage().contains("party 'b'"), again.getMessage());
      assertNoMarker(again);

      // Operator 8 goes on: its stored message is read again, and new ones are stored.
      assertArrayEquals(markerPayload(200, 0), a.receive(running, TIMEOUT));
      cluster.get(2).send(0, new MessageKey("s", 8, 3, 1, 2), markerPayload(200, 2));
      assertArrayEquals(markerPayload(200, 2), a.receive(new MessageKey("s", 8, 3, 1, 2), TIMEOUT));

      // A receiver waiting on an operator when it is released fails at once.
      MessageKey awaited = new MessageKey("s", 9, 0, 1, 2);
      CompletableFuture<byte[]> waiting =
          CompletableFuture.supplyAsync(() -> a.receive(awaited, Duration.ofSeconds(30)));
      Thread.sleep(100);
      a.releaseOperator("s", 9);
      ExecutionException w = assertThrows(ExecutionException.class,
          () -> waiting.get(5, TimeUnit.SECONDS));
      assertTrue(w.getCause() instanceof OperatorReleasedException, String.valueOf(w.getCause()));

      // Once the session ends, everything is a replay, as before.
      a.endSession("s");
      a.releaseOperator("s", 8);
      ProtocolException ended = assertThrows(ProtocolException.class,
          () -> b.send(0, running, markerPayload(200, 0)));
      assertTrue(ended.getMessage().contains("ENDED"), ended.getMessage());
    }
  }

  @Test
  void theDriverReleasesThroughItsGatewayClient() {
    try (NetTestSupport.Cluster cluster = new NetTestSupport.Cluster(keys, PARTIES, TIMEOUT, BUFFER);
        GatewayClient driverOfA = new GatewayClient(cluster.get(0).config())) {
      MessageKey k = new MessageKey("s", 4, 0, 1, 2);
      cluster.get(2).send(0, k, markerPayload(1000, 0));
      assertArrayEquals(markerPayload(1000, 0), driverOfA.receive(k, TIMEOUT));
      driverOfA.releaseOperator("s", 4);
      assertEquals(0, cluster.get(0).bufferedBytes());
      OperatorReleasedException e = assertThrows(OperatorReleasedException.class,
          () -> driverOfA.receive(k, TIMEOUT));
      assertTrue(e.getMessage().contains("operator 4 of session s"), e.getMessage());
      assertNoMarker(e);
      assertThrows(OperatorReleasedException.class,
          () -> cluster.get(2).send(0, k, markerPayload(1000, 0)));
    }
  }

  @Test
  void aReleaseMakesRoomForAWaitingSenderAndDropsAFrameBeingRead() throws Exception {
    PartyDirectory dir = NetTestSupport.directory(PARTIES, new int[] {0, 0, 0}, "a");
    try (Mailbox m = new Mailbox(dir, 1000, Duration.ofSeconds(10))) {
      assertTrue(m.put(new MessageKey("s", 1, 0, 1, 1), new byte[800]).accepted());
      CompletableFuture<Mailbox.PutResult> waiting = CompletableFuture.supplyAsync(
          () -> m.put(new MessageKey("s", 2, 0, 1, 1), new byte[800]));
      Thread.sleep(100);
      assertFalse(waiting.isDone(), "held back while the buffer is full");
      assertEquals(800, m.releaseOperator("s", 1));
      assertTrue(waiting.get(5, TimeUnit.SECONDS).accepted());

      // A frame of operator 2 whose payload is being read when operator 2 is released.
      MessageKey reading = new MessageKey("s", 2, 1, 1, 2);
      assertEquals(Mailbox.AdmissionKind.RESERVED, m.admit(reading, 100).kind());
      assertEquals(900, m.bufferedBytes());
      assertEquals(800, m.releaseOperator("s", 2));
      assertEquals(DeliveryStatus.RELEASED, m.commit(reading, new byte[100]).status());
      assertEquals(0, m.bufferedBytes());
      assertEquals(0, m.messageCount());
    }
  }
}
