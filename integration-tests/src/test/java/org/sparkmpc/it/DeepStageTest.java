package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deep protocols through Spark with unequal clusters: two parties as separate JVMs, one with one
 * task slot ({@code local[1]}), the other with three ({@code local[3]}), and a dealer. Each step
 * runs {@link DeepChain} (64 sequential Beaver multiplications per row, all inside one task per
 * partition) over a table of 6 partitions and checks the revealed {@code Σ x^65} against the
 * plaintext sum in Z(2^64). One run of the parties covers: the 64 rounds without deadlock; explicit
 * wave widths that differ, refused at both parties; and a task that fails mid-wave, whose stage
 * Spark runs again with byte-identical messages.
 */
@Tag("cluster")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeepStageTest {
  static final List<String> PARTIES = List.of("bank1", "bank2");
  static final int ROWS = 3000;
  static final int ROUNDS = 64;

  Path work;
  Scenarios.DealerRun run;
  long expected;

  @BeforeAll
  void runParties(@TempDir Path dir) throws Exception {
    work = dir;
    Random random = new Random(7);
    Path[] inputs = new Path[2];
    for (int i = 0; i < 2; i++) {
      StringBuilder csv = new StringBuilder("region,x\n");
      for (int r = 0; r < ROWS; r++) {
        long x = random.nextInt(81) - 40;
        csv.append(r % 3 == 0 ? "north" : "south").append(',').append(x).append('\n');
        long z = x;
        for (int k = 0; k < ROUNDS; k++) {
          z *= x; // Z(2^64): the product wraps as the shares do
        }
        expected += z;
      }
      inputs[i] = dir.resolve("in-" + i + ".csv");
      Files.writeString(inputs[i], csv.toString());
    }
    run = Scenarios.runWithDealer(work, PARTIES, (i, p) -> {
      p.setProperty("spark.master", i == 0 ? "local[1,4]" : "local[3,4]");
      p.setProperty("spark.mpc.share.partitions", "3");
      p.setProperty("steps", "chain,widths,retry");
      for (String step : List.of("chain", "widths", "retry")) {
        String s = "step." + step + ".";
        p.setProperty(s + "kind", "deep");
        p.setProperty(s + "input", inputs[i].toString());
        p.setProperty(s + "schema", "region STRING, x INT");
        p.setProperty(s + "share", "x");
        p.setProperty(s + "column", "x");
        p.setProperty(s + "rounds", step.equals("widths") ? "4" : Integer.toString(ROUNDS));
      }
      p.setProperty("step.widths.conf.spark.mpc.waveWidth", i == 0 ? "1" : "2");
      if (i == 1) { // bank2's task fails once, mid-wave, in round 40 of partition 4
        p.setProperty("step.retry.failPartition", "4");
        p.setProperty("step.retry.failRound", "40");
      }
    });
    for (LocalParties.Outcome o : run.parties()) {
      assertTrue(o.ok(), o.toString());
    }
  }

  @Test
  void sixtyFourRoundsRunInOneWaveWithUnequalClustersAndEqualPlaintext() throws Exception {
    for (String party : PARTIES) {
      assertNull(Scenarios.error(work, party, "chain"), party);
      assertEquals("value=" + expected, Files.readString(
          Scenarios.step(work, party, "chain").resolve("result.txt")).trim(), party);
      // The smallest party's slots: one task walks the six partitions at both parties.
      String log = LocalParties.read(work.resolve(party).resolve("party.log"));
      assertTrue(log.contains("6 partitions in one wave of 1 tasks"), party + ": " + log);
    }
  }

  @Test
  void differentExplicitWaveWidthsAreRefusedAtEveryPartyNamingTheSetting() throws Exception {
    for (String party : PARTIES) {
      String error = Scenarios.error(work, party, "widths");
      assertNotNull(error, party + " must refuse");
      assertTrue(error.contains("spark.mpc.waveWidth"), error);
      assertTrue(error.contains("'bank1' 1") && error.contains("'bank2' 2"), error);
      assertTrue(error.contains("before any of its tasks ran"), error);
      assertFalse(Files.exists(Scenarios.step(work, party, "widths").resolve("result.txt")));
    }
  }

  @Test
  void aTaskFailedMidWaveIsRetriedWithIdenticalMessagesAndTheAnswerIsRight() throws Exception {
    StringBuilder all = new StringBuilder(); // every party's error and the dealer's output
    for (String party : PARTIES) {
      all.append(party).append(": ").append(Scenarios.error(work, party, "retry")).append('\n');
    }
    all.append("dealer: ").append(run.dealerOutput());
    for (String party : PARTIES) {
      assertNull(Scenarios.error(work, party, "retry"), all.toString());
      assertEquals("value=" + expected, Files.readString(
          Scenarios.step(work, party, "retry").resolve("result.txt")).trim(), party);
    }
    String bank2 = LocalParties.read(work.resolve("bank2").resolve("party.log"))
        + LocalParties.read(work.resolve("bank2").resolve("stderr.txt"));
    assertTrue(bank2.contains("failure injected at partition 4, round 40"), bank2);
    try (var files = Files.walk(work)) {
      for (Path f : files.filter(Files::isRegularFile).filter(f -> f.toString().endsWith(".txt")
          || f.toString().endsWith(".log")).toList()) {
        assertFalse(LocalParties.read(f).contains("conflicting duplicate"), f.toString());
      }
    }
  }
}
