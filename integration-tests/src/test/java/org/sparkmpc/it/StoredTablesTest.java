package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stored share tables across sessions, each party its own JVM: a first session shares a
 * horizontally split and two vertically split tables (one with a wide column) and saves them, each
 * party to its own folder; a later session of the same parties loads them and gets the plaintext
 * answers without sharing again (SQL, the DataFrame API, a linear regression). A load that some
 * parties do and others not, parties holding different tables or different versions, and altered
 * files (a flipped byte, an edited manifest, a deleted or truncated partition file, one swapped for
 * the same partition of another version) are refused at every party, naming the party (and at the
 * party at fault, the file), with no result; and the session goes on.
 */
class StoredTablesTest {
  static final List<String> BANKS = List.of("bank1", "bank2");
  static final String H_QUERY = "SELECT region, reveal(SUM(amount)) AS total, "
      + "reveal(SUM(items)) AS items, COUNT(*) AS n FROM tx GROUP BY region";
  static final String V_QUERY = "SELECT reveal(SUM(age)) AS a, reveal(SUM(big)) AS b, "
      + "reveal(AVG(big)) AS m, COUNT(*) AS n FROM tx";

  @Test
  void aTableSavedInOneSessionIsQueriedInTheNextAndAlteredOrMismatchedCopiesAreRefused(
      @TempDir Path work) throws Exception {
    Path keys = LocalParties.keys(work.resolve("keys"), BANKS);
    Path d = work.resolve("d");
    Path h1 = BadInputTest.csv(d.resolve("h1.csv"), "region,amount,items",
        "north," + BadInputTest.MARKER + ",1", "south,20.25,2", "north,7,3");
    Path h2 = BadInputTest.csv(d.resolve("h2.csv"), "region,amount,items", "north,1.25,4",
        "east,300,5");
    Path v1 = BadInputTest.csv(d.resolve("v1.csv"), "id,age", "1,30", "2,40", "3,50");
    Path v2 = BadInputTest.csv(d.resolve("v2.csv"), "id,big", "1,5000000000", "2,6000000000",
        "3,7000000000");
    // y = 2x + 1 exactly, x at one party and y at the other
    String[] xs = new String[8];
    String[] ys = new String[8];
    for (int k = 0; k < 8; k++) {
      xs[k] = k + "," + (k * 1.5 - 3);
      ys[k] = k + "," + (2 * (k * 1.5 - 3) + 1);
    }
    Path r1 = BadInputTest.csv(d.resolve("r1.csv"), "id,x", xs);
    Path r2 = BadInputTest.csv(d.resolve("r2.csv"), "id,y", ys);
    Path store = work.resolve("store");

    // Session 1: share and save (the horizontal table twice: two versions).
    List<LocalParties.Outcome> first = session(work.resolve("s1"), keys, (i, p) -> {
      Path own = store.resolve(BANKS.get(i));
      p.setProperty("steps", "h,v,r");
      p.setProperty("step.r.kind", "stored");
      p.setProperty("step.r.id", "id");
      p.setProperty("step.r.input", (i == 0 ? r1 : r2).toString());
      p.setProperty("step.r.schema", i == 0 ? "id INT, x DOUBLE" : "id INT, y DOUBLE");
      p.setProperty("step.r.share", i == 0 ? "x" : "y");
      p.setProperty("step.r.name", "fit");
      p.setProperty("step.r.saveTo", own.resolve("r").toString());
      p.setProperty("step.h.kind", "stored");
      p.setProperty("step.h.input", (i == 0 ? h1 : h2).toString());
      p.setProperty("step.h.schema", "region STRING, amount DOUBLE, items INT");
      p.setProperty("step.h.share", "amount,items");
      p.setProperty("step.h.name", "tx");
      p.setProperty("step.h.saveTo", own.resolve("h") + "," + own.resolve("h-again"));
      p.setProperty("step.h.query", H_QUERY);
      p.setProperty("step.v.kind", "stored");
      p.setProperty("step.v.id", "id");
      p.setProperty("step.v.input", (i == 0 ? v1 : v2).toString());
      p.setProperty("step.v.schema", i == 0 ? "id INT, age INT" : "id INT, big BIGINT");
      p.setProperty("step.v.share", i == 0 ? "age" : "big");
      p.setProperty("step.v.name", "patients");
      p.setProperty("step.v.saveTo", own.resolve("v").toString());
    });
    for (LocalParties.Outcome o : first) {
      assertEquals(0, o.exitCode(), o.toString());
    }
    Path s1 = work.resolve("s1");
    for (String b : BANKS) {
      assertNull(Scenarios.error(s1, b, "h"), b);
      assertNull(Scenarios.error(s1, b, "v"), b);
      assertTrue(Files.exists(store.resolve(b).resolve("h/_manifest")), b);
      assertTrue(Files.exists(store.resolve(b).resolve("h/part-00001.arrow")), b);
    }
    // Every party holds the same identity for the same save, and a new one for each save.
    List<String> ids1 = Files.readAllLines(Scenarios.step(s1, "bank1", "h").resolve("saved.txt"));
    assertEquals(ids1, Files.readAllLines(Scenarios.step(s1, "bank2", "h").resolve("saved.txt")));
    assertEquals(2, ids1.size());
    assertFalse(ids1.get(0).equals(ids1.get(1)), ids1.toString());
    String fresh = sorted(Scenarios.step(s1, "bank1", "h").resolve("result.csv"));

    // Altered copies, each party altering only its own storage.
    Path b1 = store.resolve("bank1");
    Path b2 = store.resolve("bank2");
    copy(b2.resolve("h"), b2.resolve("h-flipped"));
    flipByte(b2.resolve("h-flipped/part-00001.arrow"));
    copy(b1.resolve("h"), b1.resolve("h-manifest"));
    Path manifest = b1.resolve("h-manifest/_manifest");
    String text = Files.readString(manifest);
    String edited = text.replaceFirst("(?m)^part=0,part-00000\\.arrow,3,", "part=0,part-00000.arrow,2,");
    assertFalse(edited.equals(text));
    Files.writeString(manifest, edited);
    copy(b2.resolve("h"), b2.resolve("h-deleted"));
    Files.delete(b2.resolve("h-deleted/part-00000.arrow"));
    copy(b1.resolve("h"), b1.resolve("h-truncated"));
    Path cut = b1.resolve("h-truncated/part-00001.arrow");
    Files.write(cut, Arrays.copyOf(Files.readAllBytes(cut), (int) Files.size(cut) - 10));
    // the same partition of the other version: the same length, and shares that add up alike
    copy(b1.resolve("h"), b1.resolve("h-swapped"));
    Files.copy(b1.resolve("h-again/part-00000.arrow"), b1.resolve("h-swapped/part-00000.arrow"),
        StandardCopyOption.REPLACE_EXISTING);
    assertEquals(Files.size(b1.resolve("h/part-00000.arrow")),
        Files.size(b1.resolve("h-swapped/part-00000.arrow")));

    // Session 2: load and query; then every refusal; then a load that works again.
    List<String> steps = List.of("loadH", "loadV", "oneSided", "versions", "otherTable",
        "flipped", "manifest", "deleted", "truncated", "swapped", "after", "regress");
    List<LocalParties.Outcome> second = session(work.resolve("s2"), keys, (i, p) -> {
      Path own = store.resolve(BANKS.get(i));
      p.setProperty("spark.mpc.correlations", "ot"); // the regression's products
      p.setProperty("steps", String.join(",", steps));
      for (String step : steps) {
        String pre = "step." + step + ".";
        p.setProperty(pre + "kind", "stored");
        String table = switch (step) {
          case "loadV" -> "v";
          case "regress" -> "r";
          case "versions" -> i == 1 ? "h-again" : "h";
          case "otherTable" -> i == 1 ? "v" : "h";
          case "flipped" -> i == 1 ? "h-flipped" : "h";
          case "manifest" -> i == 0 ? "h-manifest" : "h";
          case "deleted" -> i == 1 ? "h-deleted" : "h";
          case "truncated" -> i == 0 ? "h-truncated" : "h";
          case "swapped" -> i == 0 ? "h-swapped" : "h";
          default -> "h";
        };
        if (step.equals("oneSided") && i == 1) {
          // bank2 shares its rows again instead of loading
          p.setProperty(pre + "input", h2.toString());
          p.setProperty(pre + "schema", "region STRING, amount DOUBLE, items INT");
          p.setProperty(pre + "share", "amount,items");
        } else {
          p.setProperty(pre + "stored", own.resolve(table).toString());
        }
        if (step.equals("regress")) {
          p.setProperty(pre + "features", "x");
          p.setProperty(pre + "label", "y");
        } else {
          p.setProperty(pre + "query", step.equals("loadV") ? V_QUERY : H_QUERY);
        }
        if (step.equals("after")) {
          p.setProperty(pre + "dataframe", "region,amount");
        }
      }
    });
    for (LocalParties.Outcome o : second) {
      assertEquals(0, o.exitCode(), o.toString());
    }
    Path s2 = work.resolve("s2");
    String expectedH = "east,300.0,5,1\nnorth,31345.5,8,3\nregion,total,items,n\nsouth,20.25,2,1";
    assertEquals(expectedH, fresh);
    for (String b : BANKS) {
      for (String ok : List.of("loadH", "loadV", "after", "regress")) {
        assertNull(Scenarios.error(s2, b, ok), ok + " at " + b);
      }
      assertEquals(expectedH, sorted(Scenarios.step(s2, b, "loadH").resolve("result.csv")), b);
      assertEquals(expectedH, sorted(Scenarios.step(s2, b, "after").resolve("result.csv")), b);
      assertEquals("east,300.0,1\nnorth,31345.5,3\nregion,total,n\nsouth,20.25,1",
          sorted(Scenarios.step(s2, b, "after").resolve("dataframe/result.csv")), b);
      String[] model = Files.readString(Scenarios.step(s2, b, "regress").resolve("model.txt"))
          .split(",");
      assertEquals(2.0, Double.parseDouble(model[0]), 1e-3, b);
      assertEquals(1.0, Double.parseDouble(model[1]), 1e-3, b);
      assertEquals("120,18000000000,6.0E9,3\na,b,m,n",
          sorted(Scenarios.step(s2, b, "loadV").resolve("result.csv")), b);
    }
    // Each refusal: at the party at fault and at the other, what each error must name.
    refused(s2, "oneSided", "bank1", "'bank2'", "different secure operation");
    refused(s2, "oneSided", "bank2", "'bank1'", "different secure operation");
    refused(s2, "versions", "bank1", "'bank2'", "another version", "'tx'");
    refused(s2, "versions", "bank2", "'bank1'", "another version", "'tx'");
    refused(s2, "otherTable", "bank1", "'bank2'", "another stored table", "'patients'");
    refused(s2, "otherTable", "bank2", "'bank1'", "another stored table", "'tx'");
    refused(s2, "flipped", "bank2", "part-00001.arrow", "SHA-256", "h-flipped", "'tx'");
    refused(s2, "flipped", "bank1", "bank2", "part-00001.arrow", "'tx'");
    refused(s2, "manifest", "bank1", "_manifest", "HMAC", "h-manifest");
    refused(s2, "manifest", "bank2", "'bank1'", "manifest does not verify");
    refused(s2, "deleted", "bank2", "part-00000.arrow", "missing", "h-deleted");
    refused(s2, "deleted", "bank1", "'bank2'", "part-00000.arrow", "missing");
    refused(s2, "truncated", "bank1", "part-00001.arrow", "truncated", "h-truncated");
    refused(s2, "truncated", "bank2", "'bank1'", "part-00001.arrow");
    refused(s2, "swapped", "bank1", "part-00000.arrow", "SHA-256", "h-swapped");
    refused(s2, "swapped", "bank2", "'bank1'", "part-00000.arrow", "digest");
    // No paths of the other party, and no secret value, in anything a party printed.
    for (String b : BANKS) {
      for (String step : steps) {
        String err = Scenarios.error(s2, b, step);
        if (err != null) {
          String other = BANKS.get(1 - BANKS.indexOf(b));
          assertFalse(err.contains(store.resolve(other).toString()), step + " at " + b + ": " + err);
        }
      }
    }
    assertNoSecretPrinted(work, store);
  }

  private static void refused(Path work, String step, String party, String... must)
      throws Exception {
    String err = Scenarios.error(work, party, step);
    assertNotNull(err, step + " was not refused at " + party);
    for (String m : must) {
      assertTrue(err.contains(m), step + " at " + party + ": '" + m + "' not in " + err);
    }
    assertFalse(Files.exists(Scenarios.step(work, party, step).resolve("result.csv")),
        step + " at " + party + " gave a result");
  }

  /** One session of the two banks with the keys of {@code keys} (kept between sessions). */
  static List<LocalParties.Outcome> session(Path work, Path keys,
      BiConsumer<Integer, Properties> configure) {
    String spec = LocalParties.partiesSpec(BANKS, LocalParties.freePorts(BANKS.size()));
    Map<String, Properties> confs = new LinkedHashMap<>();
    for (int i = 0; i < BANKS.size(); i++) {
      Properties p = LocalParties.baseConfig(BANKS.get(i), spec, keys, Duration.ofSeconds(60));
      p.setProperty("out", work.resolve(BANKS.get(i)).resolve("steps").toString());
      configure.accept(i, p);
      confs.put(BANKS.get(i), p);
    }
    return LocalParties.run(work, confs, "-Xmx768m", Duration.ofMinutes(5),
        ScenarioParty.class.getName(), Scenarios.TEST_JVM);
  }

  private static String sorted(Path csv) throws IOException {
    return String.join("\n", Files.readAllLines(csv).stream().sorted().toList());
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
  }

  private static void flipByte(Path file) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      long at = f.length() - 40;
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0x01);
    }
  }

  /** No text a party wrote (errors, logs) holds a secret input value; share files are skipped. */
  private static void assertNoSecretPrinted(Path work, Path store) throws IOException {
    try (Stream<Path> files = Files.walk(work)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String name = f.getFileName().toString();
        if (f.startsWith(store) || name.endsWith(".csv") || name.endsWith(".pem")
            || name.endsWith(".properties")) {
          continue;
        }
        String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
        assertFalse(text.contains(BadInputTest.MARKER) || text.contains("3133725"),
            "secret value in " + f);
      }
    }
  }
}
