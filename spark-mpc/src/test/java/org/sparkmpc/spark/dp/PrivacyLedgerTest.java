package org.sparkmpc.spark.dp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.MpcInputException;

/** The privacy ledger: charges, refusals, a damaged file, concurrent charges, the noise spec. */
class PrivacyLedgerTest {
  @TempDir
  Path dir;

  @Test
  void chargesAddUpPerDatasetAndPersistAcrossInstances() {
    Path f = dir.resolve("sub/ledger.json");
    PrivacyLedger a = new PrivacyLedger(f);
    assertEquals(0.0, a.spent("wages"));
    assertEquals(0.3, a.charge("p1", "wages", 0.3, 1.0, "q1"), 1e-12);
    assertEquals(0.8, a.charge("p1", "wages", 0.5, 1.0, "q2"), 1e-12);
    a.charge("p1", "census", 1.0, 1.0, "q3");
    PrivacyLedger b = new PrivacyLedger(f); // a later session
    assertEquals(0.8, b.spent("wages"), 1e-12);
    assertEquals(1.0, b.spent("census"), 1e-12);
    MpcInputException e = assertThrows(MpcInputException.class,
        () -> b.check("p1", "wages", 0.3, 1.0));
    assertTrue(e.getMessage().contains("party p1") && e.getMessage().contains("'wages'")
        && e.getMessage().contains("0.8") && e.getMessage().contains("spark.mpc.dp.budget"),
        e.getMessage());
    assertThrows(MpcInputException.class, () -> b.charge("p1", "wages", 0.3, 1.0, "q4"));
    assertEquals(0.8, b.spent("wages"), 1e-12, "a refused charge spends nothing");
    b.check("p1", "wages", 0.2, 1.0); // exactly the rest is allowed
  }

  @Test
  void aDamagedLedgerIsAnErrorNeverAFreshBudget() throws Exception {
    Path f = dir.resolve("ledger.json");
    new PrivacyLedger(f).charge("p1", "wages", 0.5, 1.0, "q");
    Files.writeString(f, "{\"version\": 1, \"datasets\": {\"wages\": {\"spent\": \"lots\"}}}");
    MpcInputException e = assertThrows(MpcInputException.class,
        () -> new PrivacyLedger(f).check("p1", "wages", 0.1, 1.0));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("never reset"),
        e.getMessage());
    Files.writeString(f, "not json");
    assertThrows(MpcInputException.class, () -> new PrivacyLedger(f).spent("wages"));
    Files.writeString(f, "{\"datasets\": {}}");
    assertThrows(MpcInputException.class, () -> new PrivacyLedger(f).spent("wages"));
  }

  @Test
  void concurrentChargesNeverPassTheBudget() throws Exception {
    Path f = dir.resolve("ledger.json");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<Boolean>> got = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      int q = i;
      got.add(pool.submit(() -> {
        try {
          new PrivacyLedger(f).charge("p1", "wages", 0.1, 1.0, "q" + q);
          return true;
        } catch (MpcInputException e) {
          return false;
        }
      }));
    }
    int ok = 0;
    for (Future<Boolean> g : got) {
      ok += g.get() ? 1 : 0;
    }
    pool.shutdown();
    assertEquals(10, ok, "ten charges of 0.1 fit a budget of 1.0");
    assertEquals(1.0, new PrivacyLedger(f).spent("wages"), 1e-9);
  }

  @Test
  void theNoiseSpecRefusesBadValuesByName() {
    assertTrue(assertThrows(MpcInputException.class, () -> Noise.laplace(0))
        .getMessage().contains("epsilon"));
    assertTrue(assertThrows(MpcInputException.class, () -> Noise.laplace(Double.NaN))
        .getMessage().contains("epsilon"));
    assertTrue(assertThrows(MpcInputException.class, () -> Noise.laplace(1).dataset("a b"))
        .getMessage().contains("dataset"));
    assertEquals("laplace(epsilon=0.5, dataset=wages)",
        Noise.laplace(0.5).dataset("wages").toString());
  }
}
