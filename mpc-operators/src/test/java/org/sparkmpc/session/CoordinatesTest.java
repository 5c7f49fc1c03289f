package org.sparkmpc.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.sparkmpc.share.PartyThreads;

/** The session's one allocator of protocol coordinates. */
class CoordinatesTest {
  /** Partitions every allocated block is checked in: the driver's and some data partitions. */
  private static final int[] PARTITIONS = {Coordinates.DRIVER_PARTITION, 0, 1, 9};

  /** What one operator was handed. */
  private record Handed(OperatorScope scope, List<RoundRange> rounds, List<StreamRange> streams) {}

  /** A program's worth of operators, each with a few kernels and batches of randomness. */
  private static List<Handed> allocate(Coordinates c, long seed, int operators) {
    SplittableRandom r = new SplittableRandom(seed);
    List<Handed> out = new ArrayList<>();
    for (int o = 0; o < operators; o++) {
      OperatorScope scope = c.operator("op" + o);
      List<RoundRange> rounds = new ArrayList<>();
      List<StreamRange> streams = new ArrayList<>();
      int kernels = 1 + r.nextInt(5);
      for (int k = 0; k < kernels; k++) {
        rounds.add(scope.rounds("kernel" + k, r.nextInt(40)));
        if (r.nextBoolean()) {
          rounds.add(new RoundRange("single" + k, scope.round("single" + k), 1));
        }
        streams.add(scope.streams("batches" + k, r.nextInt(12)));
      }
      out.add(new Handed(scope, rounds, streams));
    }
    return out;
  }

  /** Marks {@code round} taken in (operator, partition); fails if something holds it already. */
  private static void take(Map<String, BitSet> taken, long op, int partition, int round,
      String by) {
    BitSet b = taken.computeIfAbsent(op + "/" + partition, x -> new BitSet());
    if (round < 0 || b.get(round)) {
      fail(by + " reuses or misuses (operator " + op + ", partition " + partition + ", round "
          + round + ")");
    }
    b.set(round);
  }

  @Test
  void noTwoOperatorsKernelsOrCorrelationStreamsShareACoordinate() {
    Coordinates c = new Coordinates();
    List<Handed> handed = allocate(c, 42, 30);

    Map<String, BitSet> rounds = new HashMap<>();
    // The session's own coordinates come first: whatever is handed out later must avoid them.
    take(rounds, Coordinates.SESSION_OPERATOR, Coordinates.DRIVER_PARTITION,
        Coordinates.CONFIRM_ROUND, "key confirmation");
    RoundRange base = Coordinates.baseOtRounds();
    for (int i = 0; i < base.count(); i++) {
      take(rounds, Coordinates.SESSION_OPERATOR, Coordinates.DRIVER_PARTITION, base.round(i),
          "base OT");
    }
    Set<Long> ids = new HashSet<>();
    long expected = Coordinates.FIRST_OPERATOR;
    for (Handed h : handed) {
      long op = h.scope().id();
      assertEquals(expected++, op, "ids are handed out in program order");
      assertTrue(ids.add(op), "operator id " + op + " handed out twice");
      assertTrue(op != Coordinates.SESSION_OPERATOR && op >= Coordinates.FIRST_OPERATOR);
      take(rounds, op, Coordinates.DRIVER_PARTITION, Coordinates.AGREEMENT_ROUND, "agreement");
      take(rounds, op, Coordinates.ABORT_PARTITION, 0, "abort notice");
      take(rounds, op, Coordinates.DEALER_REQUEST_PARTITION, 0, "dealer request");
    }
    Map<String, BitSet> streams = new HashMap<>();
    int kernelRounds = 0;
    int correlationRounds = 0;
    for (Handed h : handed) {
      long op = h.scope().id();
      for (int p : PARTITIONS) {
        for (RoundRange r : h.rounds()) {
          for (int i = 0; i < r.count(); i++) {
            int round = r.round(i);
            assertTrue(round < Coordinates.KERNEL_ROUND_LIMIT, r + " leaves the kernel rounds");
            take(rounds, op, p, round, h.scope() + " " + r);
            kernelRounds++;
          }
        }
        for (StreamRange s : h.streams()) {
          for (int i = 0; i < s.count(); i++) {
            int stream = s.stream(i);
            take(streams, op, p, stream, h.scope() + " " + s);
            // the stream's own rounds, for the correlation source's messages about it
            RoundRange cr = Coordinates.correlationRounds(stream);
            String by = h.scope() + " " + cr;
            for (int j = 0; j < cr.count(); j++) {
              take(rounds, op, p, cr.round(j), by);
              correlationRounds++;
            }
          }
        }
      }
    }
    assertTrue(kernelRounds > 1000 && correlationRounds > 1_000_000,
        "the check covered " + kernelRounds + " kernel and " + correlationRounds
            + " correlation coordinates");
  }

  @Test
  void overAllocatingARangeFailsWithAClearError() {
    Coordinates c = new Coordinates();
    OperatorScope scope = c.operator("SecureHashAggregate");
    RoundRange all = scope.rounds("products", Coordinates.KERNEL_ROUND_LIMIT
        - Coordinates.FIRST_KERNEL_ROUND);
    assertEquals(Coordinates.KERNEL_ROUND_LIMIT - 1, all.round(all.count() - 1));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> scope.rounds("reveal", 1));
    assertTrue(e.getMessage().contains("operator 1 (SecureHashAggregate)")
        && e.getMessage().contains("'reveal'"), e.getMessage());
    assertEquals(0, scope.rounds("nothing", 0).count(), "the failed request took nothing");

    StreamRange streams = scope.streams("products", Coordinates.MAX_STREAMS - 1);
    assertEquals(Coordinates.MAX_STREAMS - 1, scope.streams("last", 1).first());
    e = assertThrows(IllegalStateException.class, () -> scope.streams("more", 1));
    assertTrue(e.getMessage().contains("'more'"), e.getMessage());

    RoundRange three = c.operator("next").rounds("beaver", 3);
    IllegalArgumentException a = assertThrows(IllegalArgumentException.class,
        () -> three.round(3));
    assertTrue(a.getMessage().contains("'beaver'") && a.getMessage().contains("3 rounds"),
        a.getMessage());
    assertThrows(IllegalArgumentException.class, () -> three.round(-1));
    assertThrows(IllegalArgumentException.class, () -> streams.stream(streams.count()));
    assertThrows(IllegalArgumentException.class,
        () -> Coordinates.correlationRounds(Coordinates.MAX_STREAMS));
    assertThrows(IllegalArgumentException.class,
        () -> Coordinates.correlationRounds(0).round(Coordinates.ROUNDS_PER_STREAM));
    assertThrows(IllegalArgumentException.class, () -> scope.rounds("negative", -1));
    assertThrows(IllegalArgumentException.class, () -> scope.streams("negative", -1));
  }

  @Test
  void theSessionsReservedCoordinatesCannotBeHandedToAnOperator() throws Exception {
    Coordinates c = new Coordinates();
    for (int i = 0; i < 100; i++) {
      OperatorScope s = c.operator("op");
      assertTrue(s.id() >= Coordinates.FIRST_OPERATOR);
      assertFalse(s.rounds("k", 3).contains(Coordinates.AGREEMENT_ROUND));
    }
    assertEquals(100, c.operators());
    // The last kernel round stays below the first correlation-source round.
    assertEquals(Coordinates.KERNEL_ROUND_LIMIT, Coordinates.correlationRounds(0).first());

    List<List<String>> refused = PartyThreads.run(2, ctx -> {
      List<String> out = new ArrayList<>();
      out.add(refusal(() -> ctx.key(Coordinates.SESSION_OPERATOR, Coordinates.DRIVER_PARTITION,
          Coordinates.CONFIRM_ROUND)));
      out.add(refusal(() -> ctx.key(-1000, Coordinates.DRIVER_PARTITION, 1000)));
      out.add(refusal(() -> ctx.key(1, Coordinates.ABORT_PARTITION, 0)));
      out.add(refusal(() -> ctx.key(1, Coordinates.DEALER_REQUEST_PARTITION, 0)));
      out.add(refusal(() -> ctx.key(1, 0, -1)));
      out.add(refusal(() -> ctx.sessionKey(Coordinates.baseOtRounds().first() + 2)));
      out.add(refusal(() -> ctx.dealerRequestKey(Coordinates.SESSION_OPERATOR)));
      // what operators and the session may use
      OperatorScope op = ctx.coordinates().operator("reveal");
      assertEquals(Coordinates.FIRST_OPERATOR, op.id());
      ctx.key(op.id(), Coordinates.DRIVER_PARTITION, op.round("reveal"));
      ctx.sessionKey(Coordinates.baseOtRounds().round(1));
      return out;
    });
    for (List<String> party : refused) {
      assertTrue(party.get(0).contains("reserved for the session"), party.get(0));
      assertTrue(party.get(2).contains("abort notices"), party.get(2));
      assertTrue(party.get(3).contains("dealer requests"), party.get(3));
    }
  }

  private static String refusal(Runnable r) {
    return assertThrows(IllegalArgumentException.class, r::run).getMessage();
  }

  @Test
  void partiesRunningTheSameProgramGetTheSameCoordinates() throws Exception {
    List<Handed> a = allocate(new Coordinates(), 7, 20);
    List<Handed> b = allocate(new Coordinates(), 7, 20);
    for (int i = 0; i < a.size(); i++) {
      assertEquals(a.get(i).scope().id(), b.get(i).scope().id());
      assertEquals(a.get(i).rounds(), b.get(i).rounds());
      assertEquals(a.get(i).streams(), b.get(i).streams());
      assertEquals(a.get(i).scope().layout(), b.get(i).scope().layout());
    }
  }

  @Test
  void rangesReachTasksAsTheValuesTheDriverAllocated() throws Exception {
    OperatorScope scope = new Coordinates().operator("op");
    scope.rounds("first", 5);
    RoundRange rounds = scope.rounds("products", 3);
    StreamRange streams = scope.streams("products", 4);
    assertEquals(rounds, roundTrip(rounds));
    assertEquals(streams, roundTrip(streams));
    assertEquals(Coordinates.FIRST_KERNEL_ROUND + 5 + 2, roundTrip(rounds).round(2));
  }

  @SuppressWarnings("unchecked")
  private static <T> T roundTrip(T value) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(value);
    }
    try (ObjectInputStream in = new ObjectInputStream(
        new ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    }
  }
}
