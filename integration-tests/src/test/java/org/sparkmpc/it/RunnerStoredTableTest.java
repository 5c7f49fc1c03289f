package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The party runner's stored share tables, each party its own JVM: a first job shares its input and
 * saves it ({@code input.tx.saveTo}); a later job of the same parties loads it
 * ({@code input.tx.stored}, no input file) and writes the same revealed result; a job in which one
 * party loads and the other shares its file again fails at both parties, naming the other, with no
 * output.
 */
class RunnerStoredTableTest {
  static final List<String> BANKS = List.of("bank1", "bank2");
  static final String QUERY = "SELECT region, reveal(SUM(amount)) AS total, COUNT(*) AS n "
      + "FROM tx GROUP BY region";

  @Test
  void aTableSavedByOneJobIsQueriedByTheNext(@TempDir Path work) throws Exception {
    Path keys = LocalParties.keys(work.resolve("keys"), BANKS);
    List<Path> inputs = List.of(
        BadInputTest.csv(work.resolve("data/bank1.csv"), "region,amount", "north,10.5",
            "south,2"),
        BadInputTest.csv(work.resolve("data/bank2.csv"), "region,amount", "north,20.25"));
    Path store = work.resolve("store");
    List<LocalParties.Outcome> first = job(work.resolve("save"), keys, (i, p) -> {
      p.setProperty("input.tx.path", inputs.get(i).toString());
      p.setProperty("input.tx.schema", "region STRING, amount DOUBLE");
      p.setProperty("input.tx.share", "amount");
      p.setProperty("input.tx.saveTo", store.resolve(BANKS.get(i)).resolve("tx").toString());
    });
    first.forEach(o -> assertEquals(0, o.exitCode(), o.toString()));
    assertTrue(first.get(0).stdout().contains("saved its shares of table tx"),
        first.get(0).stdout());
    List<LocalParties.Outcome> second = job(work.resolve("load"), keys, (i, p) ->
        p.setProperty("input.tx.stored", store.resolve(BANKS.get(i)).resolve("tx").toString()));
    second.forEach(o -> assertEquals(0, o.exitCode(), o.toString()));
    for (String b : BANKS) {
      String fresh = result(work.resolve("save").resolve(b).resolve("result"));
      assertEquals("north,30.75,2\nregion,total,n\nsouth,2.0,1", fresh);
      assertEquals(fresh, result(work.resolve("load").resolve(b).resolve("result")), b);
    }
    List<LocalParties.Outcome> mixed = job(work.resolve("mixed"), keys, (i, p) -> {
      if (i == 0) {
        p.setProperty("input.tx.stored", store.resolve("bank1").resolve("tx").toString());
      } else {
        p.setProperty("input.tx.path", inputs.get(1).toString());
        p.setProperty("input.tx.schema", "region STRING, amount DOUBLE");
        p.setProperty("input.tx.share", "amount");
      }
    });
    for (LocalParties.Outcome o : mixed) {
      assertEquals(1, o.exitCode(), o.toString());
      String other = o.party().equals("bank1") ? "'bank2'" : "'bank1'";
      assertTrue(o.stderr().contains("party " + other + " is running a different secure "
          + "operation"), o.stderr().lines().filter(l -> l.contains("spark-mpc")).toList()
          .toString());
      assertFalse(Files.exists(o.dir().resolve("result")), o.party() + " wrote an output");
    }
  }

  private static List<LocalParties.Outcome> job(Path run, Path keys,
      BiConsumer<Integer, Properties> configure) {
    return Scenarios.runRunner(run, BANKS, keys, (i, p) -> {
      p.setProperty("query", QUERY);
      configure.accept(i, p);
    });
  }

  /** The lines of the CSV files in a result folder, sorted. */
  private static String result(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      List<String> lines = new java.util.ArrayList<>();
      for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".csv")).toList()) {
        lines.addAll(Files.readAllLines(f));
      }
      return String.join("\n", lines.stream().sorted().toList());
    }
  }
}
