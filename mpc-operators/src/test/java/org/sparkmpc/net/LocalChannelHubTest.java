package org.sparkmpc.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkmpc.net.NetTestSupport.assertNoMarker;
import static org.sparkmpc.net.NetTestSupport.markerPayload;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LocalChannelHubTest {

  private static final List<String> PARTIES = List.of("alice", "bob", "carol");

  @Test
  void partiesAsThreadsExchangeEveryRound() throws Exception {
    int rounds = 5;
    int partitions = 4;
    try (LocalChannelHub hub = new LocalChannelHub(PARTIES, Duration.ofSeconds(5))) {
      ExecutorService pool = Executors.newFixedThreadPool(PARTIES.size());
      try {
        List<Future<Long>> results = new ArrayList<>();
        for (int p = 0; p < PARTIES.size(); p++) {
          Channel ch = hub.channel(p);
          results.add(pool.submit(() -> {
            long sum = 0;
            for (int r = 0; r < rounds; r++) {
              for (int part = 0; part < partitions; part++) {
                MessageKey mine = new MessageKey("sess", 1, part, r, ch.self());
                for (int to = 0; to < PARTIES.size(); to++) {
                  if (to != ch.self()) {
                    ch.send(to, mine, ByteBuffer.allocate(8).putLong(100L * ch.self() + r).array());
                  }
                }
                for (int from = 0; from < PARTIES.size(); from++) {
                  if (from != ch.self()) {
                    byte[] got = ch.receive(mine.withSender(from), Duration.ofSeconds(5));
                    assertEquals(100L * from + r, ByteBuffer.wrap(got).getLong());
                    sum += ByteBuffer.wrap(got).getLong();
                  }
                }
              }
            }
            return sum;
          }));
        }
        for (Future<Long> f : results) {
          f.get(20, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      for (int p = 0; p < PARTIES.size(); p++) {
        ChannelStats s = hub.channel(p).stats();
        assertEquals(2L * rounds * partitions, s.messagesSent());
        assertEquals(2L * rounds * partitions * 8, s.bytesSent());
        assertEquals(2L * rounds * partitions * 8, s.bytesReceived());
      }
      assertSame(hub.channel(1), hub.channel("bob"));
    }
  }

  @Test
  void duplicatesConflictsAndReplays() {
    try (LocalChannelHub hub = new LocalChannelHub(PARTIES, Duration.ofSeconds(1))) {
      Channel alice = hub.channel(0);
      Channel bob = hub.channel(1);
      MessageKey k = new MessageKey("s1", 7, 2, 3, 1);
      byte[] p = markerPayload(16, 0);
      bob.send(0, k, p.clone());
      bob.send(0, k, p.clone());
      byte[] got = alice.receive(k, Duration.ofMillis(100));
      assertArrayEquals(p, got);
      got[0] ^= 1;
      assertArrayEquals(p, alice.receive(k, Duration.ofMillis(100)), "receive returns a copy");

      ProtocolException atSender = assertThrows(ProtocolException.class, () -> bob.send(0, k, markerPayload(16, 1)));
      assertTrue(atSender.getMessage().contains("CONFLICT"), atSender.getMessage());
      assertNoMarker(atSender);
      ProtocolException atReceiver = assertThrows(ProtocolException.class, () -> alice.receive(k, Duration.ofMillis(100)));
      for (String s : List.of("party 'bob'", "session s1", "operator 7", "partition 2", "round 3")) {
        assertTrue(atReceiver.getMessage().contains(s), atReceiver.getMessage());
      }
      assertNoMarker(atReceiver);

      alice.endSession("s1");
      ProtocolException replay = assertThrows(ProtocolException.class,
          () -> bob.send(0, new MessageKey("s1", 7, 2, 4, 1), markerPayload(1, 0)));
      assertTrue(replay.getMessage().contains("ENDED"), replay.getMessage());
      assertNoMarker(replay);
    }
  }

  @Test
  void timeoutNamesPeerAndRound() {
    try (LocalChannelHub hub = new LocalChannelHub(PARTIES, Duration.ofSeconds(1))) {
      PeerTimeoutException e = assertThrows(PeerTimeoutException.class,
          () -> hub.channel(0).receive(new MessageKey("s", 1, 0, 9, 2), Duration.ofMillis(150)));
      assertTrue(e.getMessage().contains("party 'carol'") && e.getMessage().contains("round 9"), e.getMessage());
    }
  }

  @Test
  void overCapacityNamesTheSetting() {
    try (LocalChannelHub hub = new LocalChannelHub(PARTIES, Duration.ofMillis(200), 1000)) {
      hub.channel(1).send(0, new MessageKey("s", 1, 0, 0, 1), new byte[800]);
      MpcChannelException e = assertThrows(MpcChannelException.class,
          () -> hub.channel(1).send(0, new MessageKey("s", 1, 0, 1, 1), markerPayload(50, 0)));
      assertTrue(e.getMessage().contains("spark.mpc.gateway.maxBufferedBytes"), e.getMessage());
      assertNoMarker(e);
      hub.channel(0).endSession("s");
      hub.channel(1).send(0, new MessageKey("t", 1, 0, 1, 1), new byte[800]);
    }
  }

  @Test
  void closedPeerIsUnavailableAndArgumentsAreChecked() {
    try (LocalChannelHub hub = new LocalChannelHub(PARTIES, Duration.ofSeconds(1))) {
      hub.channel(2).close();
      PeerUnavailableException e = assertThrows(PeerUnavailableException.class,
          () -> hub.channel(0).send(2, new MessageKey("s", 1, 0, 0, 0), markerPayload(2, 0)));
      assertTrue(e.getMessage().contains("party 'carol'"), e.getMessage());
      assertNoMarker(e);
      assertThrows(IllegalArgumentException.class, () -> hub.channel(0).send(0, new MessageKey("s", 1, 0, 0, 0), new byte[1]));
      assertThrows(IllegalArgumentException.class, () -> hub.channel(0).send(1, new MessageKey("s", 1, 0, 0, 2), new byte[1]));
      assertThrows(IllegalArgumentException.class, () -> hub.channel(3));
    }
  }
}
