package org.sparkmpc.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.protocol.Sigmoid;
import org.sparkmpc.session.QueryMismatchException;

/**
 * Secure inference against the plaintext model: probabilities within the sigmoid's documented
 * error plus the fixed-point rounding of the row, the model and the logit's truncation; labels
 * equal to the plaintext labels away from the boundary; single rows and batches (in several
 * chunks), for the dealer with 2 and 3 parties and oblivious transfer with 2.
 */
class InferenceTest {
  static final int D = 30;

  static Stream<InferenceParties.Setup> setups() {
    return Stream.of(new InferenceParties.Setup("dealer", 2),
        new InferenceParties.Setup("dealer", 3), new InferenceParties.Setup("ot", 2));
  }

  static InferenceModel model(long seed, int d) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] w = new double[d];
    for (int i = 0; i < d; i++) {
      w[i] = r.nextDouble(-0.35, 0.35);
    }
    return InferenceModel.logistic(w, 0.2);
  }

  static double[][] rows(long seed, int n, int d) {
    SplittableRandom r = new SplittableRandom(seed);
    double[][] x = new double[n][d];
    for (double[] row : x) {
      for (int j = 0; j < d; j++) {
        row[j] = r.nextDouble(-3, 3);
      }
    }
    return x;
  }

  /**
   * The bound on |secure - σ(logit)|: the sigmoid's error, its output rounding, and its slope
   * (below 0.3) times the logit's error from encoding the row and the model at 2^-16 (half a
   * unit each) and the truncation (two units).
   */
  static double tolerance(InferenceModel m, double[] row) {
    double[] w = m.coefficients();
    double s = 1 + Math.abs(m.intercept());
    for (int i = 0; i < w.length; i++) {
      s += Math.abs(w[i]) + Math.abs(row[i]);
    }
    double logitError = Math.scalb(s, -17) + Math.scalb(2.0, -16);
    return Sigmoid.MAX_ERROR + 4 * Math.scalb(1.0, -16) + 0.3 * logitError;
  }

  static double sigma(double z) {
    return 1 / (1 + Math.exp(-z));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("setups")
  void probabilitiesAndLabelsMatchThePlaintextModel(InferenceParties.Setup setup)
      throws Exception {
    InferenceModel m = model(1, D);
    double[][] single = rows(2, 12, D);
    double[][] batch = rows(3, 300, D);
    var out = InferenceParties.run(setup, p -> p == 0 ? m : null, c -> {
      assertEquals(D, c.features());
      double[] probs = new double[single.length];
      int[] labels = new int[single.length];
      for (int i = 0; i < single.length; i++) {
        probs[i] = c.predictProbability(single[i]);
        labels[i] = c.predictLabel(single[i]);
      }
      return new Object[] {probs, labels, c.predict(batch), c.predictLabels(batch)};
    });
    double[] probs = (double[]) out.result()[0];
    int[] labels = (int[]) out.result()[1];
    double[] batchProbs = (double[]) out.result()[2];
    int[] batchLabels = (int[]) out.result()[3];
    for (int i = 0; i < single.length; i++) {
      check(m, single[i], probs[i], labels[i], "single row " + i);
    }
    for (int i = 0; i < batch.length; i++) {
      check(m, batch[i], batchProbs[i], batchLabels[i], "batch row " + i);
    }
    for (Object s : out.servers()) {
      assertEquals(2L * single.length + 2, s, "requests served");
    }
  }

  static void check(InferenceModel m, double[] row, double p, int label, String what) {
    double z = m.logit(row);
    assertTrue(Math.abs(p - sigma(z)) <= tolerance(m, row),
        what + ": secure " + p + ", exact " + sigma(z) + ", logit " + z);
    assertTrue(Math.abs(p - m.predict(row)) <= 2 * tolerance(m, row), what);
    if (Math.abs(z) > 1e-3) {
      assertEquals(m.predictLabel(row), label, what + ": label, logit " + z);
    }
  }

  @Test
  void withoutAPoolEachRequestPreparesItsOwnRandomness() throws Exception {
    InferenceModel m = model(7, D);
    double[][] x = rows(8, 5, D);
    var out = InferenceParties.run(new InferenceParties.Setup("dealer", 2).with(
        InferenceSettings.DEFAULTS.withPoolDepth(0).withChunkRows(2)), p -> p == 0 ? m : null,
        c -> new Object[] {c.predictProbability(x[0]), c.predictLabel(x[1]), c.predict(x)});
    check(m, x[0], (double) out.result()[0], m.predictLabel(x[0]), "single row");
    assertEquals(m.predictLabel(x[1]), (int) out.result()[1]);
    double[] batch = (double[]) out.result()[2];
    for (int i = 0; i < x.length; i++) {
      check(m, x[i], batch[i], m.predictLabel(x[i]), "batch row " + i);
    }
  }

  @Test
  void aModelTrainedSecretSharedIsServedFromEveryPartysShares() throws Exception {
    InferenceModel m = model(4, D);
    int scale = 20;
    // the shares three parties would hold after training: uniform, summing to the encoded model
    SplittableRandom r = new SplittableRandom(5);
    long[][] w = new long[3][D];
    long[] b = new long[3];
    for (int i = 0; i <= D; i++) {
      long v = Math.round(Math.scalb(i < D ? m.coefficients()[i] : m.intercept(), scale));
      long s0 = r.nextLong();
      long s1 = r.nextLong();
      long[] parts = {s0, s1, v - s0 - s1};
      for (int p = 0; p < 3; p++) {
        if (i < D) {
          w[p][i] = parts[p];
        } else {
          b[p] = parts[p];
        }
      }
    }
    double[][] x = rows(6, 40, D);
    var out = InferenceParties.run(new InferenceParties.Setup("dealer", 3),
        p -> InferenceModel.fromShares(InferenceModel.Kind.LOGISTIC, w[p], b[p], scale),
        c -> new Object[] {c.predict(x), c.predictLabels(x), c.predictProbability(x[0])});
    double[] probs = (double[]) out.result()[0];
    int[] labels = (int[]) out.result()[1];
    for (int i = 0; i < x.length; i++) {
      check(m, x[i], probs[i], labels[i], "row " + i);
    }
    // a single row goes through the piecewise-linear sigmoid, a batch through the cubic one
    check(m, x[0], (double) out.result()[2], labels[0], "row 0 alone");
  }

  @Test
  void aLinearModelGivesItsValue() throws Exception {
    InferenceModel m = InferenceModel.linear(new double[] {1.5, -2.25, 0.125}, 3.0);
    double[][] x = {{1, 2, 3}, {-4.5, 0.25, 100}, {0, 0, 0}};
    var out = InferenceParties.run(new InferenceParties.Setup("dealer", 2),
        p -> p == 0 ? m : null, c -> {
          refusedNaming(() -> c.predictLabel(x[0]), "needs a logistic model");
          return new double[][] {c.predict(x), {c.predict(new double[][] {x[1]})[0]}};
        });
    for (int i = 0; i < x.length; i++) {
      assertEquals(m.logit(x[i]), out.result()[0][i], 1e-3);
    }
    assertEquals(m.logit(x[1]), out.result()[1][0], 1e-3);
  }

  @Test
  void aModelTooLargeForTheFeatureRangeIsRefusedAtEveryParty() {
    InferenceModel m = InferenceModel.logistic(new double[] {400, -300}, 0);
    Exception e = assertThrows(Exception.class, () -> InferenceParties.run(
        new InferenceParties.Setup("dealer", 2), p -> p == 0 ? m : null, c -> null));
    String msg = rootMessage(e);
    assertTrue(msg.contains("too large for features up to 2^20"), msg);
    // narrower features make room for it
    var ok = assertDoesNotThrow(() -> InferenceParties.run(new InferenceParties.Setup("dealer",
        2).with(InferenceSettings.DEFAULTS.withMaxFeatureBits(8).withPoolDepth(1)),
        p -> p == 0 ? m : null, c -> c.predict(new double[][] {{0.001, 0.002}})[0]));
    check(m, new double[] {0.001, 0.002}, ok.result(), 0, "a large model, narrow features");
  }

  static <T> T assertDoesNotThrow(org.junit.jupiter.api.function.ThrowingSupplier<T> s) {
    return org.junit.jupiter.api.Assertions.assertDoesNotThrow(s);
  }

  static String rootMessage(Throwable e) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      sb.append(t).append(" | ");
    }
    return sb.toString();
  }

  @Test
  void mismatchedSettingsAreRefusedNamingTheParty() {
    InferenceParties.Setup setup = new InferenceParties.Setup("ot", 2).withClientSettings(
        InferenceSettings.DEFAULTS.withScale(18));
    Exception e = assertThrows(Exception.class, () -> InferenceParties.run(setup,
        p -> p == 0 ? model(1, 3) : null, c -> null));
    // Whichever side compares first refuses with the mismatch and aborts the other: the client's
    // error is the mismatch itself (naming the server p0), or the server's abort with the
    // server's mismatch (naming the client p1) among the suppressed errors.
    Throwable cause = e.getCause();
    QueryMismatchException q = cause instanceof QueryMismatchException m ? m
        : java.util.Arrays.stream(cause.getSuppressed())
            .filter(QueryMismatchException.class::isInstance)
            .map(QueryMismatchException.class::cast).findFirst()
            .orElseThrow(() -> new AssertionError("no mismatch refusal: " + rootMessage(cause)));
    String named = q == cause ? "p0" : "p1";
    assertTrue(q.getMessage().contains("party '" + named + "' opened another inference session"),
        q.getMessage());
    assertTrue(q.getMessage().contains("scale=18"), q.getMessage());
  }

  /** {@code call} fails with an input error whose message holds every one of {@code parts}. */
  static void refusedNaming(org.junit.jupiter.api.function.Executable call, String... parts) {
    MpcInputException e = assertThrows(MpcInputException.class, call);
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), e.getMessage());
    }
  }
}
