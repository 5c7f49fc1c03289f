package org.sparkmpc.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.sparkmpc.correlation.DealerCorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.crypto.AesCtrPrg;
import org.sparkmpc.net.Gateway;
import org.sparkmpc.net.GatewayConfig;
import org.sparkmpc.net.PartyDirectory;
import org.sparkmpc.protocol.BeaverMultiplication;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.spark.MpcConf;
import org.sparkmpc.spark.runner.PartyRunner;

/**
 * The reference for the rounds-through-Spark benchmark row: the same kernel as {@link DeepChain}'s
 * task ({@code rounds} sequential Beaver multiplications per row, one message per partition per
 * round, dealer triples) over {@code partitions} partitions of {@code rows} rows in all, between
 * party JVMs over TLS, without Spark: {@code width} threads, thread i walking the partitions
 * {@code i, i+width, ...} as a wave task does. Writes {@code deep_kernel_ms} to {@code out}.
 */
public final class DeepKernelBench {
  private DeepKernelBench() {}

  public static void main(String[] args) throws Exception {
    Properties conf = PartyRunner.load(Path.of(args[0]));
    String party = conf.getProperty("spark.mpc.party");
    PartyDirectory dir = PartyDirectory.parse(conf.getProperty("spark.mpc.parties"), party);
    Path keys = Path.of(conf.getProperty("spark.mpc.keyDir"));
    Duration timeout = MpcConf.parseDuration(conf.getProperty("spark.mpc.timeout", "300s"));
    GatewayConfig gc = new GatewayConfig(dir, keys.resolve(party + ".key.pem"),
        keys.resolve(party + ".crt.pem"), keys.resolve("trust.pem"), timeout, 4L << 30);
    long rows = Long.parseLong(conf.getProperty("rows"));
    int partitions = Integer.parseInt(conf.getProperty("partitions"));
    int rounds = Integer.parseInt(conf.getProperty("rounds"));
    int width = Integer.parseInt(conf.getProperty("width"));
    int per = (int) (rows / partitions);
    StringBuilder out = new StringBuilder();
    try (Gateway gw = Gateway.start(gc)) {
      MpcContext ctx = MpcContext.establish(gw,
          conf.getProperty("spark.mpc.session.name", "spark-mpc"), timeout, new SecureRandom(),
          conf.getProperty("spark.mpc.dealer"));
      DealerCorrelationSource source = new DealerCorrelationSource(ctx);
      long[] x = new AesCtrPrg(new byte[32]).next(per);
      run(ctx, source, Math.max(1, per / 20), partitions, rounds, width, x); // warm-up
      long t0 = System.nanoTime();
      long check = run(ctx, source, per, partitions, rounds, width, x);
      long t1 = System.nanoTime();
      source.finish(ctx.coordinates().operator("end of session").id());
      out.append("deep_kernel_ms=").append((t1 - t0) / 1_000_000).append('\n');
      out.append("checksum_bit=").append(check & 1).append('\n');
      gw.endSession(ctx.sessionId());
    }
    Files.writeString(Path.of(conf.getProperty("out")), out.toString());
    System.exit(0);
  }

  /** One operator: request, then the waves' threads; returns a checksum of the shares. */
  private static long run(MpcContext ctx, DealerCorrelationSource source, int per,
      int partitions, int rounds, int width, long[] x) throws Exception {
    OperatorScope scope = ctx.coordinates().operator("deep kernel");
    RoundRange chain = scope.rounds("chain", rounds);
    StreamRange streams = scope.streams("chain", rounds);
    List<Need> needs = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      for (int r = 0; r < rounds; r++) {
        needs.add(Need.triples(p, streams.stream(r), per));
      }
    }
    source.request(scope.id(), needs);
    long[] sums = new long[partitions];
    Thread[] threads = new Thread[width];
    Throwable[] failed = new Throwable[1];
    for (int i = 0; i < width; i++) {
      int task = i;
      threads[i] = new Thread(() -> {
        try {
          for (int p = task; p < partitions; p += width) {
            long[] z = x.clone();
            for (int r = 0; r < rounds; r++) {
              z = BeaverMultiplication.multiply(ctx, source, scope.id(), p, chain.round(r),
                  streams.stream(r), z, x, per);
            }
            long s = 0;
            for (long v : z) {
              s += v;
            }
            sums[p] = s;
          }
        } catch (Throwable t) {
          failed[0] = t;
        }
      }, "wave-" + i);
      threads[i].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    if (failed[0] != null) {
      throw new IllegalStateException(failed[0]);
    }
    source.release(scope.id());
    ctx.channel().releaseOperator(ctx.sessionId(), scope.id());
    long c = 0;
    for (long s : sums) {
      c += s;
    }
    return c;
  }
}
