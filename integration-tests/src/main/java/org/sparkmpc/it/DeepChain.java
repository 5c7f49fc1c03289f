package org.sparkmpc.it;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.protocol.BeaverMultiplication;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.share.Reveal;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.exec.DeepPartition;
import org.sparkmpc.spark.exec.DeepStage;
import org.sparkmpc.spark.exec.DeepTask;
import org.sparkmpc.spark.table.SecureTable;

/**
 * A deep protocol for the tests and the benchmark: {@code Σ x^(k+1)} over a shared integral
 * column, in Z(2^64), by {@code k} sequential Beaver multiplications {@code z ← z · x} per row, all
 * of them inside one task per partition ({@link DeepStage}), then one reveal of the sum on the
 * driver. Rounds: k (one message per partition per round, 16 bytes per row to each peer) + the
 * wave agreement + the plan agreement + 1 reveal. Reveals: the sum only.
 *
 * <p>For the retry tests, a party can make its task fail once, on the first attempt of the stage,
 * at one partition and round ({@link Injection}): Spark then runs the stage again.
 */
public final class DeepChain {
  private DeepChain() {}

  /** A failure a party's task throws on the stage's first attempt (null: none). */
  public record Injection(int partition, int round) implements java.io.Serializable {}

  /** The revealed {@code Σ x^(rounds+1)} over {@code column} of the secure table {@code secure}. */
  public static long run(SparkMpc mpc, Dataset<Row> secure, String column, int rounds,
      Injection fail) {
    MpcRuntime rt = mpc.runtime();
    MpcContext ctx = rt.context();
    SecureTable t = mpc.secureTable(secure, "DeepChain");
    int c = -1;
    for (int i = 0; i < t.output().size(); i++) {
      if (t.output().get(i).name().equals(column) && t.secure()[i]) {
        c = t.index()[i];
      }
    }
    if (c < 0) {
      throw new MpcInputException("DeepChain: no secure column '" + column + "'");
    }
    OperatorScope scope = rt.beginOperator("DeepChain");
    RoundRange chain = scope.rounds("chain", rounds);
    StreamRange streams = scope.streams("chain", rounds);
    int reveal = scope.round("reveal");
    long[] contract = t.contract();
    List<Need> needs = new ArrayList<>();
    for (int p = 0; p < contract.length; p++) {
      for (int r = 0; r < rounds; r++) {
        needs.add(Need.triples(p, streams.stream(r), (int) contract[p]));
      }
    }
    rt.request(scope, needs);
    try {
      ctx.agree(scope.id(), "DeepChain column=" + column + " rounds=" + rounds + " table="
          + t.id() + " rows=" + java.util.Arrays.toString(contract));
      List<Long> parts = DeepStage.run(rt, t, scope, new Task(c, chain, streams, rounds, fail));
      long sum = 0;
      for (Long s : parts) {
        sum += s;
      }
      return Reveal.toAll(ctx, scope.id(), Coordinates.DRIVER_PARTITION, reveal,
          new long[] {sum}, 1)[0];
    } finally {
      if (rt.correlationSource() != null) {
        rt.correlationSource().release(scope.id());
      }
      rt.releaseMessages(scope);
    }
  }

  /** The per-partition body: k rounds of {@code z ← z · x}, then this party's share of Σ z. */
  private record Task(int column, RoundRange chain, StreamRange streams, int rounds,
      Injection fail) implements DeepTask<Long> {
    @Override
    public Long run(DeepPartition p) {
      MpcContext ctx = p.mpc();
      CorrelationSource source = p.correlations();
      int n = p.data().rows();
      long[] x = p.data().shares(column);
      long[] z = x.clone();
      long bytes = 16L * n * (ctx.parties() - 1);
      for (int r = 0; r < rounds; r++) {
        if (fail != null && fail.partition() == p.partition() && fail.round() == r
            && TaskContext.get().stageAttemptNumber() == 0) {
          throw new IllegalStateException("DeepChain: failure injected at partition "
              + p.partition() + ", round " + r + " (first attempt)");
        }
        z = BeaverMultiplication.multiply(ctx, source, p.operator(), p.partition(),
            chain.round(r), streams.stream(r), z, x, n);
        p.sent(bytes);
        p.received(bytes);
      }
      long s = 0;
      for (long v : z) {
        s += v;
      }
      return s;
    }
  }
}
