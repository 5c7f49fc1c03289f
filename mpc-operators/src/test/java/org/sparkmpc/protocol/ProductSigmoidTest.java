package org.sparkmpc.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkmpc.share.PartyThreads.shareOf;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.share.Reveal;

/**
 * The product sigmoid against the exact σ for every correlation source: inputs at 32 fractional
 * bits (a product of two 16-bit values), the breakpoints and their neighbours at that scale, a
 * grid, and values far outside the cubics' range.
 */
class ProductSigmoidTest {
  static final int SCALE = 16;
  static final int EXTRA = 16;

  static long[] inputs() {
    SplittableRandom r = new SplittableRandom(17);
    long[] v = new long[600];
    int k = 0;
    for (double a : Sigmoid.BREAKPOINTS) {
      long at = Math.round(Math.scalb(a, SCALE + EXTRA));
      v[k++] = at;
      v[k++] = at - 1;
      v[k++] = at + 1;
    }
    for (double f : new double[] {1e6, -1e6, 2.5e8, -2.5e8, 8.5, -8.5, 20, -20}) {
      v[k++] = Math.round(Math.scalb(f, SCALE + EXTRA));
    }
    while (k < v.length) {
      v[k++] = Math.round(Math.scalb(r.nextDouble(-10, 10), SCALE + EXTRA));
    }
    return v;
  }

  static long[] run(MpcContext ctx, CorrelationSource source, long[] z,
      ExecutorService helper) {
    OperatorScope op = ctx.coordinates().operator("product sigmoid test");
    StreamRange inputs = op.streams("inputs", 1);
    VectorEngine cm = VectorEngine.counting(source, 0);
    VectorEngine cs = VectorEngine.counting(source, 0);
    ProductSigmoid.apply(cm, cs, null, new long[z.length], SCALE, EXTRA);
    assertEquals(ProductSigmoid.ROUNDS, cm.rounds());
    StreamRange ms = op.streams("main", cm.streams());
    RoundRange mr = op.rounds("main", cm.rounds());
    StreamRange ss = op.streams("side", cs.streams());
    RoundRange sr = op.rounds("side", cs.rounds());
    int reveal = op.round("reveal");
    List<Need> needs = new java.util.ArrayList<>(cm.needs(ms));
    needs.addAll(cs.needs(ss));
    source.request(op.id(), needs);
    long[] zs = shareOf(ctx, 0, op.id(), inputs.stream(0), z);
    long[] y = ProductSigmoid.apply(VectorEngine.live(ctx, source, op.id(), 0, mr, ms),
        VectorEngine.live(ctx, source, op.id(), 0, sr, ss), helper, zs, SCALE, EXTRA);
    return Reveal.toAll(ctx, op.id(), 0, reveal, y, y.length);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("org.sparkmpc.protocol.KernelSources#all")
  void withinTheBoundOfTheExactSigmoid(KernelSources src) throws Exception {
    long[] z = inputs();
    List<long[]> out = src.run((ctx, s) -> {
      ExecutorService helper = Executors.newSingleThreadExecutor();
      try {
        return run(ctx, s, z, helper);
      } finally {
        helper.shutdownNow();
      }
    });
    for (long[] got : out) {
      for (int i = 0; i < z.length; i++) {
        double x = Math.scalb((double) z[i], -(SCALE + EXTRA));
        double y = Math.scalb((double) got[i], -SCALE);
        assertTrue(Math.abs(y - Sigmoid.exact(x)) <= Sigmoid.MAX_ERROR,
            "sigmoid(" + x + ") = " + y + ", exact " + Sigmoid.exact(x));
        assertTrue(Math.abs(y - Sigmoid.approximate(x)) <= 3 * Math.scalb(1.0, -SCALE),
            "sigmoid(" + x + ") = " + y + ", plaintext approximation "
                + Sigmoid.approximate(x));
        if (x < -8 || x >= 8) {
          assertEquals(x < 0 ? 0 : 1L << SCALE, got[i], "tail at " + x);
        }
      }
    }
  }
}
