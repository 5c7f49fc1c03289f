package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The party runner, each party its own JVM, writes only revealed results: a query whose result still
 * holds shares (rows of a secure column, or a SUM left secret-shared) makes every party exit with an
 * error naming the column, and no party writes an output.
 */
class RunnerRefusesSharesTest {
  static final List<String> BANKS = List.of("bank1", "bank2");

  @Test
  void aResultThatHoldsSharesIsWrittenByNoParty(@TempDir Path work) throws Exception {
    Path data = work.resolve("data");
    List<Path> inputs = List.of(
        BadInputTest.csv(data.resolve("bank1.csv"), "region,amount",
            "north," + ShareProbeTest.MARKER, "south,10.5"),
        BadInputTest.csv(data.resolve("bank2.csv"), "region,amount", "north,20.25"));
    Map<String, String> queries = new LinkedHashMap<>();
    queries.put("rows", "SELECT region, amount FROM tx");
    queries.put("sum", "SELECT region, SUM(amount) AS t FROM tx GROUP BY region");
    Map<String, String> columns = Map.of("rows", "'amount'", "sum", "'t'");
    for (Map.Entry<String, String> q : queries.entrySet()) {
      Path run = work.resolve(q.getKey());
      Path keys = LocalParties.keys(run.resolve("keys"), BANKS);
      List<LocalParties.Outcome> outs = Scenarios.runRunner(run, BANKS, keys, (i, p) -> {
        p.setProperty("input.tx.path", inputs.get(i).toString());
        p.setProperty("input.tx.schema", "region STRING, amount DOUBLE");
        p.setProperty("input.tx.share", "amount");
        p.setProperty("query", q.getValue());
      });
      ShareProbeTest.assertMarkerNowhere(run, data);
      for (LocalParties.Outcome o : outs) {
        assertEquals(1, o.exitCode(), q.getKey() + ": " + o.party() + " exit " + o.exitCode());
        String expected = "spark-mpc: party " + o.party() + " failed: the query's result column "
            + columns.get(q.getKey()) + " holds shares";
        assertTrue(o.stderr().contains(expected), q.getKey() + ": " + o.party() + " said "
            + o.stderr().lines().filter(l -> l.startsWith("spark-mpc")).toList());
        assertFalse(Files.exists(o.dir().resolve("result")), q.getKey() + ": " + o.party()
            + " wrote an output");
        assertFalse(o.stdout().contains("result rows"), o.stdout());
      }
    }
  }
}
