package org.sparkmpc.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.net.KeyGen;

/**
 * The command line over TLS: {@code serve} with a model file in the party runner's format,
 * {@code dealer}, and {@code predict} from a CSV file with a header, for probabilities, then
 * labels in a second session; a file whose header does not match the model fails.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class InferenceMainTest {
  @TempDir
  Path dir;

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private Path props(String party, String parties) throws IOException {
    Properties p = new Properties();
    p.setProperty("spark.mpc.party", party);
    p.setProperty("spark.mpc.parties", parties);
    p.setProperty("spark.mpc.keyDir", dir.resolve("keys").toString());
    p.setProperty("spark.mpc.timeout", "20s");
    p.setProperty("spark.mpc.dealer", "dealer");
    p.setProperty("inference.client", "client");
    p.setProperty("inference.poolDepth", "4");
    Path f = dir.resolve(party + ".properties");
    try (var out = Files.newOutputStream(f)) {
      p.store(out, null);
    }
    return f;
  }

  @Test
  void serveDealerAndPredictFromTheCommandLine() throws Exception {
    List<String> members = List.of("owner", "client", "dealer");
    KeyGen.generateDemo(members, dir.resolve("keys"));
    String parties = "owner=127.0.0.1:" + freePort() + ",client=127.0.0.1:" + freePort()
        + ",dealer=127.0.0.1:" + freePort();
    Path owner = props("owner", parties);
    Path client = props("client", parties);
    Path dealer = props("dealer", parties);
    double[] w = {0.8, -0.5, 1.2};
    double b = -0.25;
    Path model = dir.resolve("model.csv");
    Files.writeString(model, "term,value\nage," + w[0] + "\nbmi," + w[1] + "\ndose," + w[2]
        + "\n(intercept)," + b + "\n(r2),0.93\n");
    InferenceModel plain = InferenceModel.logistic(w, b);
    double[][] rows = InferenceTest.rows(21, 25, 3);
    StringBuilder csv = new StringBuilder("age,bmi,dose\n");
    for (double[] r : rows) {
      csv.append(r[0]).append(',').append(r[1]).append(',').append(r[2]).append('\n');
    }
    Path in = dir.resolve("rows.csv");
    Files.writeString(in, csv);
    Path bad = dir.resolve("bad.csv");
    Files.writeString(bad, "age,weight,dose\n1,2,3\n");
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<Integer> d = pool.submit(() -> InferenceMain.run("dealer", "-c", dealer.toString(),
          "--sessions", "3"));
      Future<Integer> s = pool.submit(() -> InferenceMain.run("serve", "-c", owner.toString(),
          "-m", model.toString(), "--kind", "logistic", "--sessions", "3"));
      Path probs = dir.resolve("probs.txt");
      assertEquals(0, InferenceMain.run("predict", "-c", client.toString(), "-i", in.toString(),
          "-o", probs.toString(), "--batch", "10", "--stats"));
      Path labels = dir.resolve("labels.txt");
      assertEquals(0, InferenceMain.run("predict", "-c", client.toString(), "-i", in.toString(),
          "-o", labels.toString(), "--label", "--batch", "1"));
      assertEquals(1, InferenceMain.run("predict", "-c", client.toString(), "-i", bad.toString(),
          "-o", dir.resolve("none.txt").toString()));
      assertEquals(0, s.get(60, TimeUnit.SECONDS));
      assertEquals(0, d.get(60, TimeUnit.SECONDS));
      List<String> p = Files.readAllLines(probs);
      List<String> l = Files.readAllLines(labels);
      assertEquals(rows.length, p.size());
      assertEquals(rows.length, l.size());
      for (int i = 0; i < rows.length; i++) {
        assertEquals(plain.predict(rows[i]), Double.parseDouble(p.get(i)), 2e-3, "row " + i);
        if (Math.abs(plain.logit(rows[i])) > 1e-3) {
          assertEquals(plain.predictLabel(rows[i]), Integer.parseInt(l.get(i)), "row " + i);
        }
      }
      assertEquals(String.format(Locale.ROOT, "%.6f", Double.parseDouble(p.get(0))), p.get(0));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theRowReaderNamesTheLineAndColumnNeverTheValue() throws IOException {
    InferenceMain.RowReader r = new InferenceMain.RowReader(new BufferedReader(new StringReader(
        "# rows\na,b\n1,2\n\n3,x7\n")), 2, List.of("a", "b"), "rows.csv");
    assertEquals(1, r.next(1).length);
    MpcInputException e = assertThrows(MpcInputException.class, () -> r.next(1));
    assertEquals("rows.csv, line 5, feature 1 ('b'): not a number", e.getMessage());
    InferenceMain.RowReader short1 = new InferenceMain.RowReader(new BufferedReader(
        new StringReader("1,2,3\n")), 2, List.of(), "stdin");
    e = assertThrows(MpcInputException.class, () -> short1.next(10));
    assertEquals("stdin, line 1: 3 values; the model takes 2", e.getMessage());
    InferenceMain.RowReader header = new InferenceMain.RowReader(new BufferedReader(
        new StringReader("a,c\n")), 2, List.of("a", "b"), "f.csv");
    e = assertThrows(MpcInputException.class, () -> header.next(10));
    assertTrue(e.getMessage().contains("column 1 is 'c' but the model's feature 1 is 'b'"),
        e.getMessage());
    assertEquals(null, new InferenceMain.RowReader(new BufferedReader(new StringReader("")), 2,
        List.of(), "x").next(5), "end of input");
  }
}
