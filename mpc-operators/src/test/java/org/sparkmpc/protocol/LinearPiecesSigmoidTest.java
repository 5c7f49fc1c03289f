package org.sparkmpc.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkmpc.share.PartyThreads.shareOf;

import java.util.List;
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
 * The piecewise-linear sigmoid: its lines within the documented fit on a dense grid, and on
 * shares (inputs at 32 fractional bits, the breakpoints and their neighbours, values far out of
 * range) within the sigmoid's error bound for every correlation source.
 */
class LinearPiecesSigmoidTest {
  static final int SCALE = 16;
  static final int EXTRA = 16;

  @Test
  void linesStayWithinTheirFitOnADenseGrid() {
    double worst = 0;
    for (int i = 0; i <= 2_000_000; i++) {
      double x = -12 + 24.0 * i / 2_000_000;
      worst = Math.max(worst, Math.abs(LinearPiecesSigmoid.approximate(x) - Sigmoid.exact(x)));
    }
    assertTrue(worst <= LinearPiecesSigmoid.FIT_ERROR, "worst error " + worst);
    assertEquals(LinearPiecesSigmoid.BREAKS, LinearPiecesSigmoid.BREAKPOINTS.length);
    assertEquals(0.5, LinearPiecesSigmoid.approximate(0), 1e-3);
    assertEquals(0.0, LinearPiecesSigmoid.approximate(-8.0001));
    assertEquals(1.0, LinearPiecesSigmoid.approximate(8));
  }

  static long[] run(MpcContext ctx, CorrelationSource source, long[] z) {
    OperatorScope op = ctx.coordinates().operator("linear sigmoid test");
    StreamRange inputs = op.streams("inputs", 1);
    VectorEngine c = VectorEngine.counting(source, 0);
    LinearPiecesSigmoid.apply(c, new long[z.length], SCALE, EXTRA);
    assertEquals(LinearPiecesSigmoid.ROUNDS, c.rounds());
    StreamRange st = op.streams("sigmoid", c.streams());
    RoundRange rr = op.rounds("sigmoid", c.rounds());
    int reveal = op.round("reveal");
    source.request(op.id(), c.needs(st));
    long[] zs = shareOf(ctx, 0, op.id(), inputs.stream(0), z);
    long[] y = LinearPiecesSigmoid.apply(VectorEngine.live(ctx, source, op.id(), 0, rr, st), zs,
        SCALE, EXTRA);
    return Reveal.toAll(ctx, op.id(), 0, reveal, y, y.length);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("org.sparkmpc.protocol.KernelSources#all")
  void withinTheBoundOfTheExactSigmoid(KernelSources src) throws Exception {
    long[] z = ProductSigmoidTest.inputs();
    long[] more = new long[z.length + 2 * LinearPiecesSigmoid.BREAKS];
    System.arraycopy(z, 0, more, 0, z.length);
    int k = z.length;
    for (double a : LinearPiecesSigmoid.BREAKPOINTS) {
      long at = Math.round(Math.scalb(a, SCALE + EXTRA));
      more[k++] = at - 1;
      more[k++] = at;
    }
    List<long[]> out = src.run((ctx, s) -> run(ctx, s, more));
    for (long[] got : out) {
      for (int i = 0; i < more.length; i++) {
        double x = Math.scalb((double) more[i], -(SCALE + EXTRA));
        double y = Math.scalb((double) got[i], -SCALE);
        assertTrue(Math.abs(y - Sigmoid.exact(x)) <= Sigmoid.MAX_ERROR,
            "sigmoid(" + x + ") = " + y + ", exact " + Sigmoid.exact(x));
        assertTrue(Math.abs(y - LinearPiecesSigmoid.approximate(x)) <= 3 * Math.scalb(1.0, -SCALE),
            "sigmoid(" + x + ") = " + y + ", plaintext " + LinearPiecesSigmoid.approximate(x));
        if (x < -8 || x >= 8) {
          assertEquals(x < 0 ? 0 : 1L << SCALE, got[i], "tail at " + x);
        }
      }
    }
  }
}
