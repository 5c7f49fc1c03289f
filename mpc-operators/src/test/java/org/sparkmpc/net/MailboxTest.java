package org.sparkmpc.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkmpc.net.NetTestSupport.assertNoMarker;
import static org.sparkmpc.net.NetTestSupport.markerPayload;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MailboxTest {

  private static final PartyDirectory DIR = NetTestSupport.directory(
      List.of("bank1", "bank2", "bank3"), new int[] {0, 0, 0}, "bank1");

  private static MessageKey key(String session, int round, int sender) {
    return new MessageKey(session, 3, 0, round, sender);
  }

  @Test
  void storesAndReturnsCopies() {
    try (Mailbox m = new Mailbox(DIR, 1 << 20, Duration.ofSeconds(1))) {
      byte[] p = markerPayload(4, 0);
      assertEquals(DeliveryStatus.OK, m.put(key("s", 1, 1), p.clone()).status());
      byte[] first = m.take(key("s", 1, 1), Duration.ofMillis(10));
      assertArrayEquals(p, first);
      first[0] ^= 1;
      assertArrayEquals(p, m.take(key("s", 1, 1), Duration.ofMillis(10)), "a retried task reads the original");
      assertEquals(1, m.messageCount());
      assertEquals(p.length, m.bufferedBytes());
    }
  }

  @Test
  void takeWaitsForALaterPut() throws Exception {
    try (Mailbox m = new Mailbox(DIR, 1 << 20, Duration.ofSeconds(1))) {
      CompletableFuture<byte[]> f = CompletableFuture.supplyAsync(() -> m.take(key("s", 1, 2), Duration.ofSeconds(5)));
      Thread.sleep(50);
      assertFalse(f.isDone());
      m.put(key("s", 1, 2), new byte[] {7});
      assertArrayEquals(new byte[] {7}, f.get(5, TimeUnit.SECONDS));
    }
  }

  @Test
  void identicalDuplicateIsAcceptedOnce() {
    try (Mailbox m = new Mailbox(DIR, 1 << 20, Duration.ofSeconds(1))) {
      byte[] p = markerPayload(8, 0);
      assertTrue(m.put(key("s", 1, 1), p.clone()).accepted());
      Mailbox.PutResult again = m.put(key("s", 1, 1), p.clone());
      assertEquals(DeliveryStatus.OK, again.status());
      assertEquals(p.length, m.bufferedBytes(), "no second copy");
      assertEquals(1, m.messageCount());
    }
  }

  @Test
  void conflictingDuplicateIsRecordedForTheReceiver() {
    try (Mailbox m = new Mailbox(DIR, 1 << 20, Duration.ofSeconds(1))) {
      MessageKey k = new MessageKey("abc", 3, 5, 1, 1);
      assertTrue(m.put(k, markerPayload(2, 0)).accepted());
      Mailbox.PutResult r = m.put(k, markerPayload(2, 1));
      assertEquals(DeliveryStatus.CONFLICT, r.status());
      assertTrue(r.reason().contains("party 'bank2'"), r.reason());
      ProtocolException e = assertThrows(ProtocolException.class, () -> m.take(k, Duration.ofMillis(10)));
      for (String s : List.of("party 'bank2'", "session abc", "operator 3", "partition 5", "round 1")) {
        assertTrue(e.getMessage().contains(s), e.getMessage());
      }
      assertNoMarker(e);
      assertFalse(r.reason().contains(Long.toString(NetTestSupport.MARKER)));
    }
  }

  @Test
  void timeoutNamesThePartyAndTheRound() {
    try (Mailbox m = new Mailbox(DIR, 1 << 20, Duration.ofSeconds(1))) {
      long t0 = System.nanoTime();
      PeerTimeoutException e = assertThrows(PeerTimeoutException.class,
          () -> m.take(new MessageKey("abc", 3, 0, 1, 1), Duration.ofMillis(200)));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(ms >= 190 && ms < 2000, "waited " + ms + " ms");
      assertEquals("timed out after 200 ms waiting for party 'bank2' (session abc, operator 3, partition 0, round 1)",
          e.getMessage());
    }
  }

  @Test
  void endedSessionRefusesReplaysAndFreesSpace() {
    try (Mailbox m = new Mailbox(DIR, 1 << 20, Duration.ofSeconds(1))) {
      m.put(key("old", 1, 1), new byte[100]);
      m.put(key("new", 1, 2), new byte[10]);
      m.endSession("old");
      assertTrue(m.isEnded("old"));
      assertEquals(10, m.bufferedBytes());
      Mailbox.PutResult r = m.put(key("old", 1, 1), markerPayload(1, 0));
      assertEquals(DeliveryStatus.ENDED, r.status());
      assertTrue(r.reason().contains("replay"), r.reason());
      ProtocolException e = assertThrows(ProtocolException.class, () -> m.take(key("old", 1, 1), Duration.ofMillis(10)));
      assertTrue(e.getMessage().contains("has ended"), e.getMessage());
      assertTrue(m.put(key("never-seen", 1, 1), new byte[1]).accepted(), "sessions not seen yet are accepted");
    }
  }

  @Test
  void overCapacityNamesTheSettingAfterWaiting() {
    try (Mailbox m = new Mailbox(DIR, 1000, Duration.ofMillis(200))) {
      assertTrue(m.put(key("s", 1, 1), new byte[600]).accepted());
      long t0 = System.nanoTime();
      Mailbox.PutResult r = m.put(key("s", 2, 1), markerPayload(75, 0));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertEquals(DeliveryStatus.OVER_CAPACITY, r.status());
      assertTrue(ms >= 190, "waited " + ms + " ms for space");
      assertTrue(r.reason().contains(Mailbox.MAX_BUFFERED_BYTES_SETTING), r.reason());
      Mailbox.PutResult tooBig = m.put(key("s", 3, 1), new byte[1001]);
      assertEquals(DeliveryStatus.OVER_CAPACITY, tooBig.status());
      assertTrue(tooBig.reason().contains(Mailbox.MAX_BUFFERED_BYTES_SETTING), tooBig.reason());
      assertEquals(600, m.bufferedBytes());
      assertTrue(m.put(key("s", 1, 1), new byte[600]).accepted(), "a duplicate needs no space");
    }
  }

  @Test
  void backPressureIsReleasedByEndSession() throws Exception {
    try (Mailbox m = new Mailbox(DIR, 1000, Duration.ofSeconds(5))) {
      assertTrue(m.put(key("s1", 1, 1), new byte[900]).accepted());
      CompletableFuture<Mailbox.PutResult> f =
          CompletableFuture.supplyAsync(() -> m.put(key("s2", 1, 1), new byte[500]));
      Thread.sleep(50);
      assertFalse(f.isDone(), "the put waits for space");
      m.endSession("s1");
      assertEquals(DeliveryStatus.OK, f.get(5, TimeUnit.SECONDS).status());
      assertEquals(500, m.bufferedBytes());
    }
  }

  @Test
  void closeWakesWaiters() throws Exception {
    Mailbox m = new Mailbox(DIR, 1000, Duration.ofSeconds(5));
    CompletableFuture<byte[]> f = CompletableFuture.supplyAsync(() -> m.take(key("s", 1, 1), Duration.ofSeconds(10)));
    Thread.sleep(50);
    m.close();
    Exception e = assertThrows(Exception.class, () -> f.get(5, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof MpcChannelException, String.valueOf(e.getCause()));
    assertEquals(DeliveryStatus.REFUSED, m.put(key("s", 1, 1), new byte[1]).status());
  }

  @Test
  void rejectsKeysFromItselfOrUnknownParties() {
    try (Mailbox m = new Mailbox(DIR, 1000, Duration.ofSeconds(1))) {
      assertThrows(IllegalArgumentException.class, () -> m.put(key("s", 1, 0), new byte[1]));
      assertThrows(IllegalArgumentException.class, () -> m.take(key("s", 1, 3), Duration.ZERO));
    }
  }
}
