package org.sparkmpc.correlation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import org.junit.jupiter.api.Test;
import org.sparkmpc.session.Coordinates;

/** The dealer's messages use the coordinates the session's allocator reserves for them. */
class DealerRoundsTest {

  @Test
  void correctionsOfEachStreamUseThatStreamsCorrelationRounds() {
    BitSet seen = new BitSet();
    for (int stream = 0; stream < Coordinates.MAX_STREAMS; stream++) {
      int round = DealerCorrelationSource.correctionRound(stream);
      assertTrue(Coordinates.correlationRounds(stream).contains(round), "stream " + stream);
      assertTrue(round >= Coordinates.KERNEL_ROUND_LIMIT, "stream " + stream
          + " would meet a kernel round");
      assertTrue(!seen.get(round), "round " + round + " used twice");
      seen.set(round);
    }
    assertThrows(IllegalArgumentException.class,
        () -> Need.triples(0, Coordinates.MAX_STREAMS, 1));
  }

  @Test
  void aRequestCannotSteerCorrectionsIntoAReservedPartition() {
    for (int reserved : new int[] {Coordinates.ABORT_PARTITION,
        Coordinates.DEALER_REQUEST_PARTITION}) {
      assertThrows(IllegalArgumentException.class, () -> Need.triples(reserved, 0, 1));
      byte[] req = Need.encode(java.util.List.of(Need.triples(0, 0, 1)));
      java.nio.ByteBuffer.wrap(req).putInt(8, reserved); // the partition of the first need
      assertThrows(org.sparkmpc.net.ProtocolException.class, () -> Need.decode(req, 1));
    }
    assertEquals(Coordinates.DRIVER_PARTITION,
        Need.decode(Need.encode(java.util.List.of(Need.triples(-1, 0, 1))), 1).get(0).partition());
  }
}
