package org.sparkmpc.spark.ml;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.protocol.VectorEngine;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.exec.DeepStage;
import org.sparkmpc.spark.exec.DeepTask;
import org.sparkmpc.spark.table.SecureTable;

/**
 * Runs an algorithm written against {@link VectorEngine} as one secure operator: counted first
 * (rounds, streams and correlated randomness), then live, on the driver over the driver's channel
 * or in one deep stage over a secure table's partitions. Every party calls it at the same point
 * of its program with the same description; the operator's agreement includes it.
 */
final class EngineRuns {
  private EngineRuns() {}

  /** The blocks a counted algorithm takes under one operator. */
  record Blocks(long operator, RoundRange rounds, StreamRange streams) implements Serializable {
    private static final long serialVersionUID = 1L;

    VectorEngine live(MpcContext ctx, CorrelationSource source, int partition) {
      return VectorEngine.live(ctx, source, operator, partition, rounds, streams);
    }
  }

  /**
   * An algorithm over one partition of a table: its engine and this party's shares of the chosen
   * columns ({@code columns[c][row]}, at the session's scale; zeros when counting).
   */
  interface PartitionAlgorithm<R extends Serializable> extends Serializable {
    R run(VectorEngine e, long[][] columns);
  }

  /** This party's shares of share columns {@code index}, each shifted left by {@code up} bits. */
  static long[][] columns(org.sparkmpc.spark.table.SharePartition part, int[] index, int[] up) {
    long[][] z = new long[index.length][];
    for (int c = 0; c < index.length; c++) {
      long[] s = part.shares(index[c]);
      for (int i = 0; up[c] != 0 && i < s.length; i++) {
        s[i] <<= up[c];
      }
      z[c] = s;
    }
    return z;
  }

  /** Run {@code algorithm} on the driver as operator {@code kind}; returns its result. */
  static <T> T onDriver(MpcRuntime rt, String kind, String description,
      Function<VectorEngine, T> algorithm) {
    MpcContext ctx = rt.context();
    CorrelationSource source = SecureLinearRegression.requireSource(rt);
    VectorEngine counted = VectorEngine.counting(source, Coordinates.DRIVER_PARTITION);
    algorithm.apply(counted);
    OperatorScope scope = rt.beginOperator(kind);
    StreamRange streams = scope.streams(kind, Math.max(1, counted.streams()));
    RoundRange rounds = scope.rounds(kind, Math.max(1, counted.rounds()));
    rt.request(scope, counted.needs(streams));
    try {
      ctx.agree(scope.id(), kind + " " + description + " rounds=" + counted.rounds());
      T out = algorithm.apply(VectorEngine.live(ctx, source, scope.id(),
          Coordinates.DRIVER_PARTITION, rounds, streams));
      source.release(scope.id());
      rt.releaseMessages(scope);
      return out;
    } catch (RuntimeException e) {
      ctx.abort(scope.id(), e);
      throw e;
    }
  }

  /**
   * As {@link #onDriver}, for an algorithm on two engines of the operator with disjoint blocks (a
   * main one and one whose steps run beside it on another thread, as {@link
   * org.sparkmpc.protocol.ProductSigmoid} does), over a channel whose sends do not wait for their
   * acknowledgement ({@link org.sparkmpc.net.SendAheadChannel}): a round then costs about one
   * message's way instead of a round trip and a half. The steps' correlated randomness is asked
   * for as a few large batches ({@link org.sparkmpc.correlation.PooledSource}), not one per step.
   */
  static <T> T onDriverTwo(MpcRuntime rt, String kind, String description,
      java.util.function.BiFunction<VectorEngine, VectorEngine, T> algorithm) {
    MpcContext ctx = rt.context();
    CorrelationSource source = SecureLinearRegression.requireSource(rt);
    VectorEngine main = VectorEngine.counting(source, Coordinates.DRIVER_PARTITION);
    VectorEngine side = VectorEngine.counting(source, Coordinates.DRIVER_PARTITION);
    algorithm.apply(main, side);
    OperatorScope scope = rt.beginOperator(kind);
    RoundRange mr = scope.rounds(kind, Math.max(1, main.rounds()));
    RoundRange sr = scope.rounds(kind + " beside", Math.max(1, side.rounds()));
    // the steps' material on virtual streams, requested as a few pooled batches
    StreamRange mv = new StreamRange(kind + " (pooled)", 0, Math.max(1, main.streams()));
    StreamRange sv = new StreamRange(kind + " beside (pooled)", mv.count(),
        Math.max(1, side.streams()));
    List<Need> virtual = new ArrayList<>(main.needs(mv));
    virtual.addAll(side.needs(sv));
    org.sparkmpc.correlation.PooledSource.Plan plan =
        org.sparkmpc.correlation.PooledSource.plan(virtual);
    StreamRange real = scope.streams(kind, Math.max(1, plan.batches().size()));
    List<Need> needs = new ArrayList<>();
    for (Need n : plan.batches()) {
      needs.add(new Need(n.kind(), n.partition(), real.stream(n.stream()), n.n(), n.p(), n.q(),
          n.r()));
    }
    rt.request(scope, needs);
    org.sparkmpc.net.SendAheadChannel ahead = new org.sparkmpc.net.SendAheadChannel(
        ctx.channel());
    MpcContext fast = new MpcContext(ctx.directory(), ahead, ctx.sessionId(), ctx.keys(),
        ctx.timeout(), ctx.parties());
    try {
      ctx.agree(scope.id(), kind + " " + description + " rounds=" + main.rounds() + "+"
          + side.rounds());
      CorrelationSource pooled = org.sparkmpc.correlation.PooledSource.fetch(source, plan,
          scope.id(), Coordinates.DRIVER_PARTITION, real.first());
      T out = algorithm.apply(VectorEngine.live(fast, pooled, scope.id(),
          Coordinates.DRIVER_PARTITION, mr, mv), VectorEngine.live(fast, pooled, scope.id(),
          Coordinates.DRIVER_PARTITION, sr, sv));
      ahead.drain(ctx.timeout()); // the last round's messages reach the peers before the stop
      ahead.close();
      source.release(scope.id());
      rt.releaseMessages(scope);
      return out;
    } catch (RuntimeException e) {
      ahead.close();
      ctx.abort(scope.id(), e);
      throw e;
    }
  }

  /**
   * Run {@code algorithm} on every partition of {@code table} in one deep stage as operator
   * {@code kind}; returns each partition's result, indexed by partition (null for an empty one).
   */
  static <R extends Serializable> List<R> onPartitions(MpcRuntime rt, SecureTable table,
      String kind, String description, int[] index, int[] up, PartitionAlgorithm<R> algorithm) {
    MpcContext ctx = rt.context();
    CorrelationSource source = SecureLinearRegression.requireSource(rt);
    long[] rows = table.contract();
    // the same steps for every partition; the material depends on its row count only
    Map<Long, List<Need>> bySize = new HashMap<>();
    int rounds = -1;
    int streams = -1;
    for (long r : rows) {
      if (r == 0 || bySize.containsKey(r)) {
        continue;
      }
      VectorEngine counted = VectorEngine.counting(source, 0);
      algorithm.run(counted, new long[index.length][(int) r]);
      if (rounds >= 0 && (rounds != counted.rounds() || streams != counted.streams())) {
        throw new IllegalStateException(kind + ": the steps depend on the partition size");
      }
      rounds = counted.rounds();
      streams = counted.streams();
      bySize.put(r, counted.needs(new StreamRange("count", 0, Math.max(1, streams))));
    }
    OperatorScope scope = rt.beginOperator(kind);
    StreamRange st = scope.streams(kind, Math.max(1, streams));
    RoundRange rr = scope.rounds(kind, Math.max(1, rounds));
    List<Need> needs = new ArrayList<>();
    for (int p = 0; p < rows.length; p++) {
      if (rows[p] == 0) {
        continue;
      }
      for (Need n : bySize.get(rows[p])) {
        needs.add(new Need(n.kind(), p, st.stream(n.stream()), n.n(), n.p(), n.q(), n.r()));
      }
    }
    rt.request(scope, needs);
    Blocks blocks = new Blocks(scope.id(), rr, st);
    try {
      ctx.agree(scope.id(), kind + " " + description + " rounds=" + rounds + " table="
          + table.id() + " rows=" + java.util.Arrays.toString(rows));
      DeepTask<R> task = dp -> {
        int r = dp.data().rows();
        if (r == 0) {
          return null;
        }
        return algorithm.run(blocks.live(dp.mpc(), dp.correlations(), dp.partition()),
            columns(dp.data(), index, up));
      };
      List<R> out = DeepStage.run(rt, table, scope, task);
      source.release(scope.id());
      rt.releaseMessages(scope);
      return out;
    } catch (RuntimeException e) {
      ctx.abort(scope.id(), e);
      throw e;
    }
  }
}
