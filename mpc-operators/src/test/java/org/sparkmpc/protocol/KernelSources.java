package org.sparkmpc.protocol;

import java.time.Duration;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.DealerCorrelationSource;
import org.sparkmpc.correlation.ot.OtCorrelationSource;
import org.sparkmpc.net.Channel;
import org.sparkmpc.share.PartyThreads;

/**
 * The correlation sources a kernel test runs against: the dealer for 2, 3 and 5 parties and the
 * dealer-free OT source for 2. A test body is written once and gets each party's context and
 * source.
 */
record KernelSources(String kind, int parties) {

  static Stream<KernelSources> all() {
    return Stream.of(new KernelSources("dealer", 2), new KernelSources("dealer", 3),
        new KernelSources("dealer", 5), new KernelSources("ot", 2));
  }

  /** Run {@code body} at every party with this source; results by party index. */
  <T> List<T> run(BiFunction<org.sparkmpc.session.MpcContext, CorrelationSource, T> body)
      throws Exception {
    return run((p, ch) -> ch, body);
  }

  /** {@link #run}, each party's channel passed through {@code wrap} (index, channel) first. */
  <T> List<T> run(BiFunction<Integer, Channel, Channel> wrap,
      BiFunction<org.sparkmpc.session.MpcContext, CorrelationSource, T> body) throws Exception {
    if (kind.equals("dealer")) {
      return PartyThreads.runWithDealer(parties, wrap, ctx -> {
        DealerCorrelationSource d = new DealerCorrelationSource(ctx);
        T r;
        try {
          r = body.apply(ctx, d);
        } catch (RuntimeException | Error e) {
          // the first party's timeout would hide another party's failure: show it here
          System.err.println("party " + ctx.self() + " failed: " + e);
          e.printStackTrace();
          throw e;
        }
        d.finish(ctx.coordinates().operator("end of session").id());
        return r;
      });
    }
    return PartyThreads.run(parties, Duration.ofSeconds(60), wrap,
        ctx -> body.apply(ctx, new OtCorrelationSource(ctx)));
  }

  @Override
  public String toString() {
    return kind + ", " + parties + " parties";
  }
}
