package org.sparkmpc.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.sparkmpc.it.PublicDatasets;
import org.sparkmpc.psi.IdNormalization;

/**
 * Executes {@code notebooks/hospital-psi.ipynb} headless ({@link NotebookRun}) and checks what it
 * left against a reference computed here. The study: hospitalA (a party runner, {@code
 * intersectBy=patient_id}) has seen patients 0-479 of the Breast Cancer Wisconsin rows, hospitalB
 * (the notebook) patients 90-568, spelt otherwise; they intersect privately and fit a secure
 * logistic regression on the 390 common patients.
 *
 * <ul>
 *   <li>The data files hold those two id sets, which share no id before normalisation and 390
 *       after. hospitalB's result says 390 in common, 479 of its own and 480 at hospitalA;
 *       hospitalA's runner printed 480, 479 and 390; each PSI logged the same, seen from its
 *       side.
 *   <li>The model, scored here from its coefficients on rows 90-479, is within 0.5 points of
 *       accuracy and 0.005 of AUC of Spark ML's (regParam 0.01, standardised) fitted here on those
 *       rows; the notebook's own Spark ML numbers are this reference's.
 *   <li>hospitalA wrote the same model (within print precision) and kept its shares, and received
 *       no prediction.
 *   <li>No id that only hospitalA holds appears in hospitalB's outputs (its folder, the result, the
 *       executed notebook, nbconvert's output, the kernel's Spark log of this run), no id that only
 *       hospitalB holds appears in hospitalA's folder (its log, output, model), and the dealer's
 *       folder holds no patient id at all. The same patterns find those ids in the data files,
 *       so the search itself can succeed.
 * </ul>
 */
@Tag("cluster")
class HospitalPsiNotebookTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final double REG_PARAM = 0.01;
  private static final int FIRST_A = 0;
  private static final int END_A = 480;
  private static final int FIRST_B = 90;
  private static final int END_B = 569;
  private static final int COMMON = 390;
  /** Ids 1-90 (patients 0-89, hospitalA's only), in any case and spacing. */
  private static final Pattern A_ONLY = Pattern.compile("(?i)\\bbc-00(?:[0-8][0-9]|90)\\b");
  /** Ids 481-569 (patients 480-568, hospitalB's only). */
  private static final Pattern B_ONLY =
      Pattern.compile("(?i)\\bbc-0(?:48[1-9]|49[0-9]|5[0-6][0-9])\\b");
  private static final Pattern ANY_ID = Pattern.compile("(?i)\\bbc-[0-9]{4}\\b");

  @Test
  void hospitalPsiNotebookRunsRevealsOnlyTheModelAndItIsAsGoodAsSparkMl() throws Exception {
    Path notebooks = NotebookRun.notebooks();
    Path work = notebooks.resolve("target/notebook-test");
    Path out = work.resolve("hospital-psi");
    // The kernel's Spark log (src/kernel/kernel/conf/log4j2.properties) is appended to by every
    // run: this run's part starts at its current end.
    Path kernelLog = notebooks.resolve("target/kernel/spark-kernel.log");
    long kernelLogFrom = Files.exists(kernelLog) ? Files.size(kernelLog) : 0;
    Path executed = NotebookRun.executeChecked("hospital-psi.ipynb", work, out,
        Map.of("HOSPITAL_PSI_OUT", out.toString()), 9);

    // The two hospitals' ids: other spellings, 390 in common once normalised as the PSI does.
    List<String> idsA = ids(out.resolve("data/hospitalA.csv"));
    List<String> idsB = ids(out.resolve("data/hospitalB.csv"));
    assertEquals(END_A - FIRST_A, idsA.size(), "hospitalA's patients");
    Set<String> raw = new HashSet<>(idsA);
    raw.retainAll(idsB);
    assertEquals(Set.of(), raw, "the ids should match only once normalised");
    Set<String> normA = normalised(idsA);
    Set<String> normB = normalised(idsB);
    for (int i = 0; i < END_B; i++) {
      String id = String.format(Locale.ROOT, "bc-%04d", i + 1);
      assertEquals(i >= FIRST_A && i < END_A, normA.contains(id), "hospitalA holds " + id);
      assertEquals(i >= FIRST_B, normB.contains(id), "hospitalB holds " + id);
    }
    Set<String> common = new HashSet<>(normA);
    common.retainAll(normB);
    assertEquals(COMMON, common.size(), "patients in common");

    Path resultFile = out.resolve("result/hospital-psi.json");
    assertTrue(Files.isRegularFile(resultFile), "the notebook wrote no " + resultFile);
    JsonNode result = JSON.readTree(resultFile.toFile());
    assertEquals(REG_PARAM, result.get("regParam").asDouble(), "regParam");
    JsonNode sizes = result.get("sizes");
    assertEquals(COMMON, sizes.get("intersection").asLong(), "intersection seen by hospitalB");
    assertEquals(idsB.size(), sizes.get("hospitalB").asLong(), "hospitalB's set size");
    assertEquals(idsA.size(), sizes.get("hospitalA").asLong(), "hospitalA's set size at hospitalB");
    assertEquals(COMMON, result.get("sparkMl").get("rows").asInt(), "the notebook's pooled rows");

    // What each side learnt: hospitalA's runner prints it, and each PSI logs it.
    Path dirA = out.resolve("hospitalA");
    String aOut = Files.readString(dirA.resolve("stdout.txt"));
    String printed = String.format(Locale.ROOT, "spark-mpc: private set intersection of table "
        + "patients on 'patient_id': %,d identifiers here, %,d at the other party, %,d in common",
        idsA.size(), idsB.size(), COMMON);
    assertTrue(aOut.contains(printed), "hospitalA's runner did not print <" + printed + ">:\n"
        + aOut);
    String aLog = Files.readString(dirA.resolve("party.log"));
    assertLogged(aLog, idsA.size(), idsB.size(), "hospitalB", dirA.resolve("party.log"));
    String bLog = since(kernelLog, kernelLogFrom);
    assertLogged(bLog, idsB.size(), idsA.size(), "hospitalA", kernelLog);

    // The reference: Spark ML on the common patients' pooled rows (patients 90-479).
    PublicDatasets.Table cancer = PublicDatasets.breastCancer();
    String[] features = cancer.columns();
    double[][] x = Arrays.copyOfRange(cancer.rows(), FIRST_B, END_A);
    double[] malignant = Arrays.stream(Arrays.copyOfRange(cancer.label(), FIRST_B, END_A))
        .map(l -> 1 - l).toArray();
    assertEquals(COMMON, x.length);
    NotebookModels m = NotebookModels.score(result, features, x, malignant, REG_PARAM);
    String msg = m.message();
    assertEquals(m.refAccuracy(), m.secureAccuracy(), 0.005, msg);
    assertEquals(m.refAuc(), m.secureAuc(), 0.005, msg);
    assertEquals(m.secureAccuracy(), result.get("secure").get("accuracy").asDouble(), 1e-9, msg);
    assertEquals(m.secureAuc(), result.get("secure").get("auc").asDouble(), 1e-9, msg);
    assertEquals(m.refAccuracy(), result.get("sparkMl").get("accuracy").asDouble(), 1e-9, msg);
    assertEquals(m.refAuc(), result.get("sparkMl").get("auc").asDouble(), 1e-5, msg);

    // hospitalA: the same model, its shares of it, no prediction.
    m.assertRunnerModel(dirA.resolve("model"), features, 1e-12, "hospitalA");
    assertTrue(Files.isRegularFile(out.resolve("hospitalB/model.properties")),
        "hospitalB kept its part of the model");

    // Non-members never reach the other hospital. First, the patterns find what they look for.
    assertEquals(FIRST_B, count(A_ONLY, Files.readString(out.resolve("data/hospitalA.csv"))),
        "ids only hospitalA holds, in its own file");
    assertEquals(END_B - END_A, count(B_ONLY, Files.readString(out.resolve("data/hospitalB.csv"))),
        "ids only hospitalB holds, in its own file");
    List<Path> atB = new ArrayList<>(files(out.resolve("hospitalB")));
    atB.addAll(files(out.resolve("result")));
    atB.add(executed);
    atB.add(work.resolve("hospital-psi.nbconvert.log"));
    for (Path f : atB) {
      assertNoMatch(A_ONLY, text(f), "hospitalB's " + f);
    }
    assertNoMatch(A_ONLY, bLog, "hospitalB's Spark log (" + kernelLog + ", this run)");
    List<Path> atA = files(dirA);
    assertTrue(atA.contains(dirA.resolve("party.log")) && atA.contains(dirA.resolve("stdout.txt")),
        "hospitalA's log and output: " + atA);
    for (Path f : atA) {
      assertNoMatch(B_ONLY, text(f), "hospitalA's " + f);
    }
    List<Path> atDealer = files(out.resolve("dealer"));
    assertTrue(atDealer.contains(out.resolve("dealer/party.log")), "the dealer's log: " + atDealer);
    for (Path f : atDealer) {
      assertNoMatch(ANY_ID, text(f), "the dealer's " + f);
    }

    Path png = out.resolve("hospital-psi-roc.png");
    assertTrue(Files.isRegularFile(png) && Files.size(png) > 1000, "the chart was not written");
    java.awt.image.BufferedImage chart = javax.imageio.ImageIO.read(png.toFile());
    assertNotNull(chart, png + " is not a PNG image");
    assertEquals(Charts.ROC_WIDTH + "x" + Charts.ROC_HEIGHT,
        chart.getWidth() + "x" + chart.getHeight(), "size of the chart (drawn by Charts)");
  }

  /** The PSI's two log lines on this study: the set sizes, then the intersection's. */
  private static void assertLogged(String log, int here, int there, String peer, Path where) {
    String sizes = "private set intersection on 'patient_id': " + here + " identifiers here, "
        + there + " at party " + peer;
    String common = "private set intersection on 'patient_id': " + COMMON + " in common";
    assertTrue(log.contains(sizes) && log.contains(common), where + " lacks <" + sizes
        + "> or <" + common + ">");
  }

  /** The patient ids of a hospital's records (first column, quotes removed), as written. */
  private static List<String> ids(Path csv) throws IOException {
    List<String> lines = Files.readAllLines(csv);
    assertTrue(lines.get(0).startsWith("patient_id,"), csv + ": " + lines.get(0));
    List<String> ids = new ArrayList<>();
    for (String l : lines.subList(1, lines.size())) {
      String id = l.substring(0, l.indexOf(','));
      ids.add(id.startsWith("\"") ? id.substring(1, id.length() - 1) : id);
    }
    return ids;
  }

  private static Set<String> normalised(List<String> ids) {
    Set<String> out = new HashSet<>();
    for (String id : ids) {
      assertTrue(out.add(IdNormalization.TRIM_LOWER.apply(id)), "repeated id " + id);
    }
    return out;
  }

  /** The regular files under {@code dir}, which must exist. */
  private static List<Path> files(Path dir) throws IOException {
    assertTrue(Files.isDirectory(dir), "no folder " + dir);
    try (Stream<Path> all = Files.walk(dir)) {
      return all.filter(Files::isRegularFile).toList();
    }
  }

  /**
   * A file's text: a JSON file's strings, decoded (so that an escaped line break cannot hide an
   * id from a word boundary), any other file's bytes (ISO-8859-1: any file reads, ids are ASCII).
   */
  private static String text(Path f) throws IOException {
    String name = f.getFileName().toString();
    if (name.endsWith(".ipynb") || name.endsWith(".json")) {
      StringBuilder sb = new StringBuilder();
      strings(JSON.readTree(f.toFile()), sb);
      return sb.toString();
    }
    return new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
  }

  private static void strings(JsonNode node, StringBuilder sb) {
    if (node.isValueNode()) {
      sb.append(node.asText()).append('\n');
    }
    node.fieldNames().forEachRemaining(k -> sb.append(k).append('\n'));
    node.elements().forEachRemaining(e -> strings(e, sb));
  }

  /** What {@code file} gained from byte {@code from} on. */
  private static String since(Path file, long from) throws IOException {
    assertTrue(Files.isRegularFile(file), "no " + file);
    try (SeekableByteChannel ch = Files.newByteChannel(file)) {
      ch.position(from);
      return new String(Channels.newInputStream(ch).readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  private static int count(Pattern p, String text) {
    Matcher m = p.matcher(text);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  private static void assertNoMatch(Pattern p, String text, String where) {
    Matcher m = p.matcher(text);
    assertFalse(m.find(), () -> where + " holds the id " + m.group() + ", which it must not know");
  }
}
