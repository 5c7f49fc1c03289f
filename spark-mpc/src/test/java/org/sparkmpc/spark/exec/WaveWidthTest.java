package org.sparkmpc.spark.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.net.PartyDirectory;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;

/** The wave width every party derives from the parties' settings and slots, and the assignment. */
class WaveWidthTest {
  private final MpcContext ctx = new MpcContext(PartyDirectory.parse(
      "a=127.0.0.1:1,b=127.0.0.1:2,c=127.0.0.1:3", "a"), null, "s", null, Duration.ofSeconds(1));
  private final OperatorScope scope = new Coordinates().operator("deep test");

  @Test
  void unsetWidthIsTheSmallestPartysSlotsAndNeverMoreThanThePartitions() {
    assertEquals(1, WaveWidth.decide(ctx, scope, new int[3], new int[] {4, 1, 3}, 8));
    assertEquals(3, WaveWidth.decide(ctx, scope, new int[3], new int[] {4, 6, 3}, 8));
    assertEquals(2, WaveWidth.decide(ctx, scope, new int[3], new int[] {4, 6, 3}, 2));
  }

  @Test
  void oneExplicitWidthIsUsedByAllAndMustFitEveryPartysSlots() {
    assertEquals(2, WaveWidth.decide(ctx, scope, new int[] {2, 0, 2}, new int[] {4, 6, 3}, 8));
    MpcInputException e = assertThrows(MpcInputException.class,
        () -> WaveWidth.decide(ctx, scope, new int[] {4, 0, 0}, new int[] {4, 6, 3}, 8));
    assertTrue(e.getMessage().contains("spark.mpc.waveWidth=4") && e.getMessage().contains("'c'"),
        e.getMessage());
  }

  @Test
  void differentExplicitWidthsAreRefusedNamingTheSettingAndTheParties() {
    MpcInputException e = assertThrows(MpcInputException.class,
        () -> WaveWidth.decide(ctx, scope, new int[] {1, 2, 0}, new int[] {4, 6, 3}, 8));
    assertTrue(e.getMessage().contains("spark.mpc.waveWidth"), e.getMessage());
    assertTrue(e.getMessage().contains("'a' 1") && e.getMessage().contains("'b' 2")
        && e.getMessage().contains("'c' unset"), e.getMessage());
  }

  @Test
  void taskIWalksThePartitionsCongruentToIInAscendingOrder() {
    int[][] a = DeepStage.assignment(7, 3);
    assertArrayEquals(new int[] {0, 3, 6}, a[0]);
    assertArrayEquals(new int[] {1, 4}, a[1]);
    assertArrayEquals(new int[] {2, 5}, a[2]);
  }
}
