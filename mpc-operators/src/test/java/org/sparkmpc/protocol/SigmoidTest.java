package org.sparkmpc.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkmpc.share.PartyThreads.shareOf;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.share.Reveal;

/**
 * The sigmoid's documented error bound, in plaintext on a dense grid and on shares for every
 * correlation source, with inputs far outside the cubics' range.
 */
class SigmoidTest {
  static final int SCALE = 16;

  @Test
  void cubicsStayWithinTheBoundOnADenseGrid() {
    double worst = 0;
    for (int i = 0; i <= 2_000_000; i++) {
      double x = -12 + 24.0 * i / 2_000_000;
      worst = Math.max(worst, Math.abs(Sigmoid.approximate(x) - Sigmoid.exact(x)));
    }
    assertTrue(worst <= 5.98e-4 + 3.36e-4 && worst < Sigmoid.MAX_ERROR - 5e-5,
        "worst error " + worst);
    assertEquals(0.0, Sigmoid.approximate(-8.0001));
    assertEquals(1.0, Sigmoid.approximate(8));
    assertEquals(0.5, Sigmoid.approximate(0), 1e-3);
  }

  /** Inputs: a grid over [-10, 10], the breakpoints and their neighbours, and huge values. */
  static double[] inputs() {
    SplittableRandom r = new SplittableRandom(7);
    double[] v = new double[700];
    int k = 0;
    for (double a : Sigmoid.BREAKPOINTS) {
      v[k++] = a;
      v[k++] = a - Math.scalb(1.0, -SCALE);
      v[k++] = a + Math.scalb(1.0, -SCALE);
    }
    double[] far = {1e6, -1e6, 3e9, -3e9, 8.5, -8.5, 100, -100, 20, -20};
    for (double f : far) {
      v[k++] = f;
    }
    while (k < v.length) {
      v[k++] = r.nextDouble(-10, 10);
    }
    return v;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("org.sparkmpc.protocol.KernelSources#all")
  void outputSharesAreUniformForAConstantInput(KernelSources src) throws Exception {
    long[] x = new long[4000];
    java.util.Arrays.fill(x, Math.round(Math.scalb(1.25, SCALE)));
    List<long[]> shares = src.run((ctx, s) -> run(ctx, s, x, false));
    for (long[] share : shares) {
      BeaverMultiplicationTest.assertBalanced(share);
    }
  }

  static long[] run(MpcContext ctx, CorrelationSource source, long[] x) {
    return run(ctx, source, x, true);
  }

  /** The opened sigmoid of shared {@code x}, or this party's shares of it. */
  static long[] run(MpcContext ctx, CorrelationSource source, long[] x, boolean open) {
    OperatorScope op = ctx.coordinates().operator("sigmoid test");
    StreamRange inputs = op.streams("inputs", 1);
    VectorEngine counted = VectorEngine.counting(source, 0);
    Sigmoid.apply(counted, new long[x.length], SCALE);
    assertEquals(Sigmoid.ROUNDS, counted.rounds());
    StreamRange st = op.streams("sigmoid", counted.streams());
    RoundRange rr = op.rounds("sigmoid", counted.rounds());
    int reveal = op.round("reveal");
    source.request(op.id(), counted.needs(st));
    long[] xs = shareOf(ctx, 0, op.id(), inputs.stream(0), x);
    long[] y = Sigmoid.apply(VectorEngine.live(ctx, source, op.id(), 0, rr, st), xs, SCALE);
    return open ? Reveal.toAll(ctx, op.id(), 0, reveal, y, y.length) : y;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("org.sparkmpc.protocol.KernelSources#all")
  void sharesAreWithinTheBoundOfTheExactSigmoid(KernelSources src) throws Exception {
    double[] in = inputs();
    long[] x = new long[in.length];
    for (int i = 0; i < in.length; i++) {
      x[i] = Math.round(Math.scalb(in[i], SCALE));
    }
    List<long[]> out = src.run((ctx, s) -> run(ctx, s, x));
    for (long[] got : out) {
      for (int i = 0; i < in.length; i++) {
        double xv = Math.scalb((double) x[i], -SCALE);
        double y = Math.scalb((double) got[i], -SCALE);
        assertTrue(Math.abs(y - Sigmoid.exact(xv)) <= Sigmoid.MAX_ERROR,
            "sigmoid(" + xv + ") = " + y + ", exact " + Sigmoid.exact(xv));
        assertTrue(Math.abs(y - Sigmoid.approximate(xv)) <= 4 * Math.scalb(1.0, -SCALE),
            "sigmoid(" + xv + ") = " + y + ", plaintext approximation "
                + Sigmoid.approximate(xv));
        if (xv < -8 || xv >= 8) {
          assertEquals(xv < 0 ? 0 : 1L << SCALE, got[i], 1, "tail at " + xv);
        }
      }
    }
  }
}
