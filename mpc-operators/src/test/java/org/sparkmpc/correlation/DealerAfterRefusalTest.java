package org.sparkmpc.correlation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.net.PeerAbortedException;
import org.sparkmpc.protocol.BeaverMultiplication;
import org.sparkmpc.share.PartyThreads;
import org.sparkmpc.share.Reveal;

/**
 * A party that refuses its input stops the operator before asking the dealer for anything: the
 * dealer skips that operator and serves the next one (it used to stop on the refusal, and every
 * later operator of the session then failed with the dealer unavailable).
 */
class DealerAfterRefusalTest {

  @Test
  void theDealerServesTheOperatorAfterOneStoppedBeforeItsRequest() throws Exception {
    int n = 1_000;
    long[] x = PartyThreads.values(1, n, 20);
    long[] y = PartyThreads.values(2, n, 20);
    List<long[]> out = PartyThreads.runWithDealer(2, ctx -> {
      DealerCorrelationSource dealer = new DealerCorrelationSource(ctx);
      // Operator 1: the last party refuses its input before the request; the other waits on it.
      if (ctx.self() == 1) {
        ctx.abort(1, new MpcInputException("column 'x' of party p1 has nulls"));
      } else {
        PeerAbortedException e = assertThrows(PeerAbortedException.class,
            () -> ctx.channel().receive(ctx.key(1, 0, 0).withSender(1), ctx.timeout()));
        assertEquals(true, e.getMessage().contains("column 'x' of party p1"));
      }
      // Operator 2: a product with the dealer's triples, as if nothing had happened.
      dealer.request(2, List.of(Need.triples(0, 0, n)));
      long[] xs = PartyThreads.shareOf(ctx, 0, 2, 1, x);
      long[] ys = PartyThreads.shareOf(ctx, 1, 2, 2, y);
      long[] z = BeaverMultiplication.multiply(ctx, dealer, 2, 0, 0, 0, xs, ys, n);
      long[] opened = Reveal.toAll(ctx, 2, 0, 1, z, n);
      dealer.finish(3);
      return opened;
    });
    for (long[] o : out) {
      for (int i = 0; i < n; i++) {
        assertEquals(x[i] * y[i], o[i], "element " + i);
      }
    }
  }
}
