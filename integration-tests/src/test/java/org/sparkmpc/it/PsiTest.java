package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Private set intersection between two hospitals' JVMs (and a dealer, for the products over the
 * aligned table): members, size only, one recipient, private alignment, and the awkward inputs:
 * empty sets, no overlap, full overlap, identifiers that differ only by case or spaces, repeated
 * identifiers, nulls, parties with other normalisation rules, a numeric identifier column.
 */
class PsiTest {
  private static final int A = 2_000;

  @Test
  void intersectionsAlignmentAndBadInputs(@TempDir Path work) throws Exception {
    SplittableRandom r = new SplittableRandom(12);
    // Hospital A: P0..P1999; hospital B: P1000..P3499, spelt differently (case, spaces).
    List<String> a = new ArrayList<>();
    List<String> aIds = new ArrayList<>();
    for (int i = 0; i < A; i++) {
      String id = i % 7 == 0 ? " p" + i + " " : "P" + i;
      aIds.add(id);
      a.add(id + "," + r.nextInt(18, 90) + "," + (15 + r.nextInt(2500) / 100.0));
    }
    List<String> b = new ArrayList<>();
    List<String> bIds = new ArrayList<>();
    for (int i = 3_499; i >= 1_000; i--) {
      String id = i % 5 == 0 ? "p" + i : "P" + i + "  ";
      bIds.add(id);
      b.add(id + "," + (r.nextInt(1, 500_000) / 100.0));
    }
    Map<String, Path> files = new LinkedHashMap<>();
    files.put("a", BadInputTest.csv(work.resolve("d/a.csv"), "id,age,bmi", a.toArray(new String[0])));
    files.put("b", BadInputTest.csv(work.resolve("d/b.csv"), "id,cost", b.toArray(new String[0])));
    files.put("empty", BadInputTest.csv(work.resolve("d/empty.csv"), "id,cost"));
    List<String> far = new ArrayList<>();
    for (int i = 5_000; i < 6_000; i++) {
      far.add("P" + i + ",1.0");
    }
    files.put("far", BadInputTest.csv(work.resolve("d/far.csv"), "id,cost", far.toArray(new String[0])));
    List<String> same = new ArrayList<>();
    for (int i = 0; i < A; i++) {
      same.add((i % 3 == 0 ? "\tP" + i : "p" + i) + ",2.0");
    }
    files.put("same", BadInputTest.csv(work.resolve("d/same.csv"), "id,cost", same.toArray(new String[0])));
    List<String> dup = new ArrayList<>(b);
    dup.add(" p1500,3.0"); // P1500 is there already, spelt otherwise
    files.put("dup", BadInputTest.csv(work.resolve("d/dup.csv"), "id,cost", dup.toArray(new String[0])));
    List<String> nulls = new ArrayList<>(a);
    nulls.add(",40,20.0");
    nulls.add("   ,41,21.0");
    files.put("nulls", BadInputTest.csv(work.resolve("d/nulls.csv"), "id,age,bmi", nulls.toArray(new String[0])));
    List<String> numeric = new ArrayList<>();
    for (int i = 1_000; i < 1_100; i++) {
      numeric.add(i + ",1.0");
    }
    files.put("numeric", BadInputTest.csv(work.resolve("d/numeric.csv"), "id,cost", numeric.toArray(new String[0])));

    // step -> mode, A's input, B's input
    String[][] steps = {
        {"members", "members", "a", "b"},
        {"size", "size", "a", "b"},
        {"toA", "to:hospitalA", "a", "b"},
        {"align", "align", "a", "b"},
        {"empty", "size", "a", "empty"},
        {"disjoint", "size", "a", "far"},
        {"all", "members", "a", "same"},
        {"dups", "members", "a", "dup"},
        {"nulls", "size", "nulls", "b"},
        {"normalize", "size", "a", "b"},
        {"numeric", "size", "a", "numeric"},
        {"again", "size", "a", "b"},
    };
    Scenarios.DealerRun run = Scenarios.runWithDealer(work, List.of("hospitalA", "hospitalB"),
        (i, p) -> {
          List<String> names = new ArrayList<>();
          for (String[] s : steps) {
            names.add(s[0]);
            String pre = "step." + s[0] + ".";
            String in = s[2 + i];
            p.setProperty(pre + "kind", "psi");
            p.setProperty(pre + "mode", s[1]);
            p.setProperty(pre + "id", "id");
            p.setProperty(pre + "input", files.get(in).toString());
            p.setProperty(pre + "schema", in.equals("numeric") ? "id BIGINT, cost DOUBLE"
                : i == 0 ? "id STRING, age INT, bmi DOUBLE" : "id STRING, cost DOUBLE");
            p.setProperty(pre + "share", i == 0 ? "age,bmi" : "cost");
            p.setProperty(pre + "query", "SELECT reveal(SUM(age * cost)) AS agecost, "
                + "reveal(SUM(bmi)) AS bmis, COUNT(*) AS n FROM tx");
            if (s[0].equals("normalize") && i == 0) {
              p.setProperty(pre + "conf.spark.mpc.psi.normalize", "exact");
            }
            if (s[0].equals("size") && i == 1) {
              // buckets set at one party only: both still derive the same number
              p.setProperty(pre + "conf.spark.mpc.psi.partitions", "3");
            }
          }
          p.setProperty("steps", String.join(",", names));
        });
    for (LocalParties.Outcome o : run.parties()) {
      assertEquals(0, o.exitCode(), o.toString());
    }

    // Members: the normalised intersection P1000..P1999, the same pseudonym at both parties.
    Map<String, String> keyA = members(work, "hospitalA", "members");
    Map<String, String> keyB = members(work, "hospitalB", "members");
    assertEquals(1_000, keyA.size());
    assertEquals(1_000, keyB.size());
    for (int i = 1_000; i < A; i++) {
      String k = keyA.get("p" + i);
      assertNotNull(k, "p" + i);
      assertEquals(32, k.length());
      assertEquals(k, keyB.get("p" + i), "psi_key of p" + i);
    }
    assertEquals(1_000, keyA.values().stream().distinct().count());
    for (String h : List.of("hospitalA", "hospitalB")) {
      assertEquals("1000", size(work, h, "size"), h);
      assertEquals("1000", size(work, h, "again"), h);
      assertEquals("0", size(work, h, "empty"), h);
      assertEquals("0", size(work, h, "disjoint"), h);
      assertEquals(A, members(work, h, "all").size(), h);
    }
    // Once the session's keys differ, so do the pseudonyms: a new operator, a new key.
    assertTrue(!members(work, "hospitalA", "all").get("p1000").equals(keyA.get("p1000")));
    assertEquals(keyA, members(work, "hospitalA", "toA").keySet().stream().collect(
        java.util.stream.Collectors.toMap(k -> k, k -> keyA.get(k))));
    assertEquals(0, members(work, "hospitalB", "toA").size(), "hospitalB learns no members");
    assertEquals("id,psi_key", Files.readAllLines(Scenarios.step(work, "hospitalB", "toA")
        .resolve("members.csv")).get(0));

    // Private alignment: sums over the aligned members equal plaintext Spark on the joined rows.
    var spark = PlaintextSpark.get();
    spark.read().option("header", "true").schema("id STRING, age INT, bmi DOUBLE")
        .csv(files.get("a").toString()).selectExpr("lower(trim(id)) AS id", "age", "bmi")
        .createOrReplaceTempView("psi_a");
    spark.read().option("header", "true").schema("id STRING, cost DOUBLE")
        .csv(files.get("b").toString()).selectExpr("lower(trim(id)) AS id", "cost")
        .createOrReplaceTempView("psi_b");
    Row e = spark.sql("SELECT SUM(age * cost), SUM(bmi), COUNT(*) FROM psi_a JOIN psi_b USING (id)")
        .first();
    assertEquals(1_000, e.getLong(2));
    for (String h : List.of("hospitalA", "hospitalB")) {
      assertNull(Scenarios.error(work, h, "align"), h);
      String[] f = Files.readAllLines(Scenarios.step(work, h, "align").resolve("result.csv"))
          .get(1).split(",");
      assertEquals(e.getDouble(0), Double.parseDouble(f[0]), 1_000 * 90 * Math.scalb(1.0, -15),
          h + " age*cost");
      assertEquals(e.getDouble(1), Double.parseDouble(f[1]), 1e-3, h + " bmi");
      assertEquals("1000", f[2], h + " count");
    }

    // Refusals, at both parties, naming the column and the party at fault.
    for (String h : List.of("hospitalA", "hospitalB")) {
      String dupErr = Scenarios.error(work, h, "dups");
      assertNotNull(dupErr, h);
      assertTrue(dupErr.contains("'id'") && dupErr.contains("hospitalB")
          && dupErr.contains("repeats identifiers") && dupErr.contains("1 rows"), dupErr);
      String nullErr = Scenarios.error(work, h, "nulls");
      assertNotNull(nullErr, h);
      assertTrue(nullErr.contains("'id'") && nullErr.contains("hospitalA")
          && nullErr.contains("2 null or empty"), nullErr);
      String normErr = Scenarios.error(work, h, "normalize");
      assertNotNull(normErr, h);
      assertTrue(normErr.toLowerCase(Locale.ROOT).contains("normalize"), normErr);
      String typeErr = Scenarios.error(work, h, "numeric");
      assertNotNull(typeErr, h);
      assertTrue(typeErr.contains("'id'") && typeErr.contains("hospitalB")
          && typeErr.contains("bigint"), typeErr);
      for (String step : List.of("dups", "nulls", "numeric")) {
        // Refused before any point moved: no identifier's value in the error either.
        String err = Scenarios.error(work, h, step);
        assertTrue(!err.contains("p1500") && !err.contains("P1500"), err);
      }
    }
  }

  /** A step's members.csv: normalised id -> psi_key. */
  private static Map<String, String> members(Path work, String party, String step)
      throws Exception {
    Path f = Scenarios.step(work, party, step).resolve("members.csv");
    assertTrue(Files.exists(f), party + " " + step + ": " + Scenarios.error(work, party, step));
    Map<String, String> out = new LinkedHashMap<>();
    List<String> lines = Files.readAllLines(f);
    for (String l : lines.subList(1, lines.size())) {
      int c = l.lastIndexOf(',');
      out.put(l.substring(0, c).strip().toLowerCase(Locale.ROOT), l.substring(c + 1));
    }
    return out;
  }

  private static String size(Path work, String party, String step) throws Exception {
    Path f = Scenarios.step(work, party, step).resolve("size.txt");
    assertTrue(Files.exists(f), party + " " + step + ": " + Scenarios.error(work, party, step));
    return Files.readString(f).trim();
  }
}
