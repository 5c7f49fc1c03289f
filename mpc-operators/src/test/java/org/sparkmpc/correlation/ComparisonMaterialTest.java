package org.sparkmpc.correlation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sparkmpc.correlation.ot.OtCorrelationSource;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.share.PartyThreads;

/**
 * The comparison material of each source: boolean triples satisfy {@code c = a & b}, the XOR bits
 * of an edaBit are the word of its additive value, a daBit's two sharings hold the same bit; the
 * material is the same when asked for again and varies between streams.
 */
class ComparisonMaterialTest {

  record Material(BitTriples t, EdaBits e, DaBits d, BitTriples again, EdaBits otherStream) {}

  static Material fetch(MpcContext ctx, CorrelationSource s, int words, int n) {
    s.request(1, List.of(Need.bitTriples(2, 0, words), Need.edaBits(2, 1, n),
        Need.daBits(2, 2, n), Need.edaBits(2, 3, n)));
    return new Material(s.bitTriples(1, 2, 0, words), s.edaBits(1, 2, 1, n),
        s.daBits(1, 2, 2, n), s.bitTriples(1, 2, 0, words), s.edaBits(1, 2, 3, n));
  }

  static void check(List<Material> out, int words, int n) {
    for (int i = 0; i < words; i++) {
      long a = 0;
      long b = 0;
      long c = 0;
      for (Material m : out) {
        a ^= m.t().a()[i];
        b ^= m.t().b()[i];
        c ^= m.t().c()[i];
      }
      assertEquals(a & b, c, "boolean triple word " + i);
    }
    int ones = 0;
    for (int i = 0; i < n; i++) {
      long r = 0;
      long bits = 0;
      long b = 0;
      long bx = 0;
      for (Material m : out) {
        r += m.e().r()[i];
        bits ^= m.e().bits()[i];
        b += m.d().arith()[i];
        bx ^= (m.d().bits()[i >>> 6] >>> (i & 63)) & 1;
      }
      assertEquals(r, bits, "edaBit " + i);
      assertTrue(b == 0 || b == 1, "daBit " + i + " is not a bit");
      assertEquals(b, bx, "daBit " + i);
      ones += (int) b;
    }
    assertTrue(Math.abs(ones - n / 2) < 6 * Math.sqrt(n) / 2 + 1, ones + " ones of " + n);
    for (Material m : out) {
      assertArrayEquals(m.t().c(), m.again().c(), "asked again, the same material");
      assertTrue(m.e().r()[0] != m.otherStream().r()[0], "another stream, other material");
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3, 5})
  void dealerMaterialIsCorrect(int parties) throws Exception {
    int words = 1000;
    int n = 3001;
    Function<MpcContext, Material> body = ctx -> {
      DealerCorrelationSource d = new DealerCorrelationSource(ctx);
      Material m = fetch(ctx, d, words, n);
      d.finish(2);
      return m;
    };
    check(PartyThreads.runWithDealer(parties, body), words, n);
  }

  @org.junit.jupiter.api.Test
  void otMaterialIsCorrect() throws Exception {
    int words = 1000;
    int n = 3001;
    check(PartyThreads.run(2, Duration.ofSeconds(60),
        ctx -> fetch(ctx, new OtCorrelationSource(ctx), words, n)), words, n);
  }
}
