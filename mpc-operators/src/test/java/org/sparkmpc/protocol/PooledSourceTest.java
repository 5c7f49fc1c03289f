package org.sparkmpc.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkmpc.share.PartyThreads.shareOf;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.correlation.PooledSource;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.share.Reveal;

/**
 * A loop of steps whose material comes from a few pooled batches computes what it computes with
 * one batch per step: several sigmoids, products and truncations, for every source, with batch
 * sizes that do not fill whole words of packed bits.
 */
class PooledSourceTest {
  static final int SCALE = 16;
  static final int STEPS = 5;

  /** STEPS rounds of: y = σ(x), x = trunc(x·y + x). */
  static long[] loop(VectorEngine e, long[] x) {
    for (int s = 0; s < STEPS; s++) {
      long[] y = Sigmoid.apply(e, x, SCALE);
      long[] p = e.mulTrunc(x, y, SCALE);
      for (int i = 0; i < x.length; i++) {
        x[i] = p[i];
      }
    }
    return x;
  }

  static double plain(double x) {
    for (int s = 0; s < STEPS; s++) {
      x = x * Sigmoid.approximate(x);
    }
    return x;
  }

  static long[] run(MpcContext ctx, CorrelationSource source, long[] x) {
    OperatorScope op = ctx.coordinates().operator("pooled test");
    StreamRange inputs = op.streams("inputs", 1);
    VectorEngine counted = VectorEngine.counting(source, 0);
    loop(counted, new long[x.length]);
    StreamRange virtual = new StreamRange("virtual", 0, counted.streams());
    PooledSource.Plan plan = PooledSource.plan(counted.needs(virtual));
    assertTrue(plan.batches().size() < 12, plan.batches().size() + " batches");
    StreamRange real = op.streams("pooled", plan.batches().size());
    RoundRange rr = op.rounds("loop", counted.rounds());
    int reveal = op.round("reveal");
    List<Need> needs = new ArrayList<>();
    for (Need n : plan.batches()) {
      needs.add(new Need(n.kind(), n.partition(), real.stream(n.stream()), n.n(), n.p(), n.q(),
          n.r()));
    }
    source.request(op.id(), needs);
    long[] xs = shareOf(ctx, 0, op.id(), inputs.stream(0), x);
    CorrelationSource pooled = PooledSource.fetch(source, plan, op.id(), 0, real.first());
    long[] y = loop(VectorEngine.live(ctx, pooled, op.id(), 0, rr, virtual), xs);
    return Reveal.toAll(ctx, op.id(), 0, reveal, y, y.length);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("org.sparkmpc.protocol.KernelSources#all")
  void aLoopOnPooledMaterialMatchesPlaintext(KernelSources src) throws Exception {
    int n = 77;
    long[] x = new long[n];
    double[] in = new double[n];
    for (int i = 0; i < n; i++) {
      in[i] = -6 + 12.0 * i / n;
      x[i] = Math.round(Math.scalb(in[i], SCALE));
    }
    List<long[]> out = src.run((ctx, s) -> run(ctx, s, x.clone()));
    for (long[] got : out) {
      for (int i = 0; i < n; i++) {
        double v = Math.scalb((double) got[i], -SCALE);
        assertEquals(plain(in[i]), v, 0.02, "x = " + in[i]);
      }
    }
  }
}
