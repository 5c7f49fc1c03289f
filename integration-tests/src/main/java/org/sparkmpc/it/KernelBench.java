package org.sparkmpc.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.DealerCorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.correlation.ot.OtCorrelationSource;
import org.sparkmpc.crypto.AesCtrPrg;
import org.sparkmpc.net.Gateway;
import org.sparkmpc.net.GatewayConfig;
import org.sparkmpc.net.PartyDirectory;
import org.sparkmpc.correlation.BitTriples;
import org.sparkmpc.correlation.DaBits;
import org.sparkmpc.correlation.EdaBits;
import org.sparkmpc.protocol.BeaverMultiplication;
import org.sparkmpc.protocol.Comparison;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.spark.MpcConf;
import org.sparkmpc.spark.runner.PartyRunner;

/**
 * One party of the multiplication-kernel benchmark, without Spark: its gateway (mutual TLS on
 * loopback, a JVM per party), the session, then {@code batches} batched Beaver multiplications of
 * {@code batch} elements. The preprocessing (getting every batch's triples from the correlation
 * source) is timed apart from the online phase (masking, one exchange, the local products), which
 * is what the online throughput counts. Writes {@code key=value} lines to {@code out}.
 *
 * <p>With {@code kernel=ltz}, the same for secure comparisons ({@link Comparison#ltz}, 8 rounds per
 * batch): the preprocessing (requesting and fetching every batch's edaBits, boolean triples and
 * daBits) is timed apart from the online rounds, and the output has {@code cmp_*} keys, bytes
 * sent and received included, so that the bytes of all parties and the dealer can be summed.
 */
public final class KernelBench {
  private KernelBench() {}

  public static void main(String[] args) throws Exception {
    Properties conf = PartyRunner.load(Path.of(args[0]));
    String party = conf.getProperty("spark.mpc.party");
    PartyDirectory dir = PartyDirectory.parse(conf.getProperty("spark.mpc.parties"), party);
    Path keys = Path.of(conf.getProperty("spark.mpc.keyDir"));
    Duration timeout = MpcConf.parseDuration(conf.getProperty("spark.mpc.timeout", "300s"));
    GatewayConfig gc = new GatewayConfig(dir, keys.resolve(party + ".key.pem"),
        keys.resolve(party + ".crt.pem"), keys.resolve("trust.pem"), timeout, 3L << 30);
    int batch = Integer.parseInt(conf.getProperty("batch", "1048576"));
    int batches = Integer.parseInt(conf.getProperty("batches", "8"));
    String dealerName = conf.getProperty("spark.mpc.dealer", "");
    StringBuilder out = new StringBuilder();
    try (Gateway gw = Gateway.start(gc)) {
      MpcContext ctx = MpcContext.establish(gw,
          conf.getProperty("spark.mpc.session.name", "spark-mpc"), timeout, new SecureRandom(),
          dealerName.isEmpty() ? null : dealerName);
      CorrelationSource source = "ot".equals(conf.getProperty("correlations"))
          ? new OtCorrelationSource(ctx) : new DealerCorrelationSource(ctx);
      if ("ltz".equals(conf.getProperty("kernel"))) {
        comparisons(ctx, gw, source, batch, batches, out);
        if (source instanceof DealerCorrelationSource d) {
          d.finish(ctx.coordinates().operator("end of session").id());
        }
        gw.endSession(ctx.sessionId());
        Files.writeString(Path.of(conf.getProperty("out")), out.toString());
        System.exit(0);
      }
      long[] x = new AesCtrPrg(new byte[32]).next(batch);
      long[] y = new AesCtrPrg(new byte[32]).next(batch);
      // Warm-up: the same code on a first operator, two batches, not timed.
      OperatorScope warm = ctx.coordinates().operator("warm-up");
      int warmStream = warm.streams("products", 1).stream(0);
      int warmRound = warm.round("products");
      source.request(warm.id(), List.of(Need.triples(0, warmStream, batch),
          Need.triples(1, warmStream, batch)));
      for (int b = 0; b < 2; b++) {
        BeaverMultiplication.multiply(ctx, source, warm.id(), b, warmRound, warmStream, x, y,
            batch);
      }
      source.release(warm.id());
      OperatorScope scope = ctx.coordinates().operator("products");
      long op = scope.id();
      int stream = scope.streams("products", 1).stream(0);
      int round = scope.round("products");
      List<Need> needs = new ArrayList<>();
      for (int b = 0; b < batches; b++) {
        needs.add(Need.triples(b, stream, batch));
      }

      long sent0 = gw.stats().bytesSent();
      long t0 = System.nanoTime();
      source.request(op, needs);
      BeaverMultiplication.Pending[] prepared = new BeaverMultiplication.Pending[batches];
      for (int b = 0; b < batches; b++) {
        prepared[b] = BeaverMultiplication.prepare(source, op, b, stream, x, y, batch);
      }
      long t1 = System.nanoTime();
      long sent1 = gw.stats().bytesSent();
      // As the Spark path does: every batch's masked values go out (a sender thread), while the
      // batches that have arrived are finished.
      long check = 0;
      long[] sendNs = {0};
      Thread sender = new Thread(() -> {
        long s0 = System.nanoTime();
        for (int b = 0; b < batches; b++) {
          BeaverMultiplication.sendMasked(ctx, op, b, round, prepared[b]);
        }
        sendNs[0] = System.nanoTime() - s0;
      }, "kernel-sender");
      sender.start();
      for (int b = 0; b < batches; b++) {
        long[] z = BeaverMultiplication.finish(ctx, op, b, round, prepared[b]);
        check += z[0];
      }
      sender.join();
      long t2 = System.nanoTime();
      out.append("online_send_ms=").append(sendNs[0] / 1_000_000).append('\n');
      long sent2 = gw.stats().bytesSent();
      if (source instanceof DealerCorrelationSource d) {
        d.finish(ctx.coordinates().operator("end of session").id());
      }
      out.append("mults=").append((long) batch * batches).append('\n');
      out.append("prep_ms=").append((t1 - t0) / 1_000_000).append('\n');
      out.append("online_ms=").append((t2 - t1) / 1_000_000).append('\n');
      out.append("prep_bytes_sent=").append(sent1 - sent0).append('\n');
      out.append("online_bytes_sent=").append(sent2 - sent1).append('\n');
      out.append("checksum_bit=").append(check & 1).append('\n');
      gw.endSession(ctx.sessionId());
    }
    Files.writeString(Path.of(conf.getProperty("out")), out.toString());
    System.exit(0);
  }

  /**
   * {@code batches} comparisons of {@code batch} elements each (one partition per batch), after a
   * warm-up operator: preprocessing (request and fetch of all material) then online rounds.
   */
  static void comparisons(MpcContext ctx, Gateway gw, CorrelationSource source, int batch,
      int batches, StringBuilder out) {
    long[] x = new AesCtrPrg(new byte[32]).next(batch);
    for (int i = 0; i < batch; i++) {
      x[i] >>= 2; // within the fixed-point range
    }
    runComparisons(ctx, source, "warm-up", x, 2);
    long sent0 = gw.stats().bytesSent();
    long recv0 = gw.stats().bytesReceived();
    long[] t = runComparisons(ctx, source, "comparisons", x, batches);
    out.append("cmps=").append((long) batch * batches).append('\n');
    out.append("cmp_prep_ms=").append(t[0] / 1_000_000).append('\n');
    out.append("cmp_online_ms=").append(t[1] / 1_000_000).append('\n');
    out.append("cmp_prep_bytes_sent=").append(t[2] - sent0).append('\n');
    out.append("cmp_online_bytes_sent=").append(gw.stats().bytesSent() - t[2]).append('\n');
    out.append("cmp_prep_bytes_received=").append(t[3] - recv0).append('\n');
    out.append("cmp_checksum_bit=").append(t[4] & 1).append('\n');
  }

  /** One operator of comparisons; returns prep ns, online ns, bytes sent and received after prep. */
  private static long[] runComparisons(MpcContext ctx, CorrelationSource source, String name,
      long[] x, int batches) {
    OperatorScope scope = ctx.coordinates().operator(name);
    StreamRange streams = scope.streams("ltz", Comparison.STREAMS);
    RoundRange rounds = scope.rounds("ltz", Comparison.ROUNDS);
    int n = x.length;
    long t0 = System.nanoTime();
    List<Need> needs = new ArrayList<>();
    for (int b = 0; b < batches; b++) {
      needs.addAll(Comparison.needs(b, streams, n));
    }
    source.request(scope.id(), needs);
    Prefetched pre = new Prefetched(source);
    for (int b = 0; b < batches; b++) {
      pre.fetch(scope.id(), b, streams, n);
    }
    long t1 = System.nanoTime();
    long sent = ((Gateway) ctx.channel()).stats().bytesSent();
    long recv = ((Gateway) ctx.channel()).stats().bytesReceived();
    long check = 0;
    for (int b = 0; b < batches; b++) {
      check += Comparison.ltz(ctx, pre, scope.id(), b, rounds, streams, x)[0];
    }
    long t2 = System.nanoTime();
    source.release(scope.id());
    return new long[] {t1 - t0, t2 - t1, sent, recv, check};
  }

  /**
   * The material of every batch fetched ahead (the preprocessing), handed to the kernel from memory
   * so that the online phase is timed alone.
   */
  private static final class Prefetched implements CorrelationSource {
    private final CorrelationSource source;
    private final java.util.Map<String, Object> held = new java.util.HashMap<>();

    Prefetched(CorrelationSource source) {
      this.source = source;
    }

    void fetch(long op, int partition, StreamRange s, int n) {
      held.put(partition + "/" + s.stream(0), source.edaBits(op, partition, s.stream(0), n));
      held.put(partition + "/" + s.stream(1), source.bitTriples(op, partition, s.stream(1),
          org.sparkmpc.protocol.BitConversion.signTripleWords(n)));
      held.put(partition + "/" + s.stream(2), source.daBits(op, partition, s.stream(2), n));
    }

    @Override
    public EdaBits edaBits(long operator, int partition, int stream, int n) {
      return (EdaBits) held.get(partition + "/" + stream);
    }

    @Override
    public BitTriples bitTriples(long operator, int partition, int stream, int words) {
      return (BitTriples) held.get(partition + "/" + stream);
    }

    @Override
    public DaBits daBits(long operator, int partition, int stream, int n) {
      return (DaBits) held.get(partition + "/" + stream);
    }

    @Override
    public org.sparkmpc.correlation.BeaverTriples triples(long operator, int partition,
        int stream, int n) {
      return source.triples(operator, partition, stream, n);
    }

    @Override
    public void request(long operator, List<Need> needs) {
      source.request(operator, needs);
    }

    @Override
    public String name() {
      return source.name();
    }
  }
}
