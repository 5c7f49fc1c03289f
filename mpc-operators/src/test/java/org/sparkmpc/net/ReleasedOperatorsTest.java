package org.sparkmpc.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A session that releases its operators one after another (a long-lived inference session, one
 * operator per request) keeps a run of ids, not one entry per operator, and still refuses every
 * released operator's late messages.
 */
class ReleasedOperatorsTest {

  @Test
  void releasesInOrderKeepARunAndOutOfOrderOnesCloseIt() {
    MessageStore.ReleasedOperators r = new MessageStore.ReleasedOperators();
    for (long op = 1; op <= 100_000; op++) {
      r.add(op);
    }
    assertEquals(0, r.scattered());
    assertTrue(r.contains(1) && r.contains(100_000) && !r.contains(0) && !r.contains(100_001));
    r.add(100_003);
    r.add(100_002);
    assertEquals(2, r.scattered());
    r.add(100_001); // closes the gap: all three join the run
    assertEquals(0, r.scattered());
    assertTrue(r.contains(100_003) && !r.contains(100_004));
  }

  @Test
  void aMailboxRemembersSequentialReleasesInConstantSpace() {
    PartyDirectory dir = new PartyDirectory(List.of(new PartyDirectory.Party("a", "h", 1),
        new PartyDirectory.Party("b", "h", 2)), "a");
    try (Mailbox box = new Mailbox(dir, 1 << 20, Duration.ofSeconds(1))) {
      for (long op = 1; op <= 50_000; op++) {
        MessageKey k = new MessageKey("s", op, 0, 1, 1);
        assertTrue(box.put(k, new byte[8]).accepted());
        box.take(k, Duration.ofSeconds(1));
        box.releaseOperator("s", op);
      }
      assertEquals(0, box.bufferedBytes());
      assertEquals(0, box.messageCount());
      assertEquals(0, box.scatteredReleases("s"));
      assertEquals(DeliveryStatus.RELEASED,
          box.put(new MessageKey("s", 17, 0, 2, 1), new byte[8]).status());
      assertThrows(OperatorReleasedException.class,
          () -> box.take(new MessageKey("s", 49_999, 0, 1, 1), Duration.ofMillis(10)));
    }
  }
}
