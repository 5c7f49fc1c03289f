package org.sparkmpc.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.sparkmpc.share.PartyThreads.shareOf;
import static org.sparkmpc.share.PartyThreads.values;

import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.DealerCorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.correlation.ot.OtCorrelationSource;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.share.PartyThreads;
import org.sparkmpc.share.Reveal;

/**
 * A Spark task that is retried re-runs its send stage from scratch: it must send byte-identical
 * messages (the channel accepts an identical duplicate once; different bytes are a conflict), so
 * that the operator's result is unchanged. Checked for each correlation source.
 */
class RetriedTaskTest {

  /** First attempt and retry of a send stage, then the receive stage; returns the product. */
  static long[] sendTwiceThenFinish(MpcContext ctx, CorrelationSource source, long[] x, long[] y,
      int n) {
    source.request(1, source.hasMatrixTriples()
        ? List.of(Need.triples(0, 0, n), Need.gram(1, 0, n, 2)) : List.of(Need.triples(0, 0, n)));
    long[] xs = shareOf(ctx, 0, 1, 0, x);
    long[] ys = shareOf(ctx, ctx.parties() - 1, 1, 1, y);
    BeaverMultiplication.Pending first = BeaverMultiplication.send(ctx, source, 1, 0, 0, 0, xs,
        ys, n);
    BeaverMultiplication.Pending retry = BeaverMultiplication.send(ctx, source, 1, 0, 0, 0, xs,
        ys, n);
    assertArrayEquals(first.maskedDe(), retry.maskedDe(), "a retried send stage sends the same");
    // A retry that sent other bytes would be refused as a conflict, not silently mixed in
    // (shown on another round, since a conflict poisons its key for the receiver).
    int peer = ctx.self() == 0 ? 1 : 0;
    byte[] sent = org.sparkmpc.ring.LongCodec.encode(retry.maskedDe());
    ctx.channel().send(peer, ctx.key(1, 0, 7), sent);
    byte[] tampered = sent.clone();
    tampered[0]++;
    assertThrows(ProtocolException.class, () -> ctx.channel().send(peer, ctx.key(1, 0, 7),
        tampered));
    if (source.hasMatrixTriples()) {
      long[][] cols = {xs, ys};
      assertArrayEquals(MatrixProducts.gramPrepare(source, 1, 1, 0, cols, n).masked(),
          MatrixProducts.gramPrepare(source, 1, 1, 0, cols, n).masked());
    }
    long[] z = BeaverMultiplication.finish(ctx, 1, 0, 0,
        BeaverMultiplication.prepare(source, 1, 0, 0, xs, ys, n));
    return Reveal.toAll(ctx, 1, 0, 1, z, n);
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void dealerRetriesSendIdenticalMessages(int parties) throws Exception {
    int n = 5_000;
    long[] x = values(41, n, 64);
    long[] y = values(42, n, 64);
    Function<MpcContext, long[]> body = ctx -> {
      DealerCorrelationSource d = new DealerCorrelationSource(ctx);
      long[] r = sendTwiceThenFinish(ctx, d, x, y, n);
      d.finish(2);
      return r;
    };
    BeaverMultiplicationTest.assertProducts(PartyThreads.runWithDealer(parties, body), x, y);
  }

  @Test
  void otRetriesSendIdenticalMessages() throws Exception {
    int n = 3_000;
    long[] x = values(43, n, 64);
    long[] y = values(44, n, 64);
    BeaverMultiplicationTest.assertProducts(PartyThreads.run(2, Duration.ofSeconds(60), ctx -> sendTwiceThenFinish(ctx,
        new OtCorrelationSource(ctx), x, y, n)), x, y);
  }
}
