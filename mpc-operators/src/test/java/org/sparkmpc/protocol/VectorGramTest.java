package org.sparkmpc.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.sparkmpc.share.PartyThreads.shareOf;
import static org.sparkmpc.share.PartyThreads.values;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.ring.Matrices;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.share.Reveal;

/** {@link VectorEngine#gram} equals the plaintext Gram over the ring, for every source. */
class VectorGramTest {

  static long[] run(MpcContext ctx, CorrelationSource source, long[][] cols) {
    int m = cols.length;
    OperatorScope op = ctx.coordinates().operator("gram test");
    StreamRange inputs = op.streams("inputs", m);
    VectorEngine counted = VectorEngine.counting(source, 0);
    counted.gram(new long[m][cols[0].length]);
    assertEquals(1, counted.rounds());
    StreamRange st = op.streams("gram", counted.streams());
    RoundRange rr = op.rounds("gram", counted.rounds());
    int reveal = op.round("reveal");
    source.request(op.id(), counted.needs(st));
    long[][] shares = new long[m][];
    for (int c = 0; c < m; c++) {
      shares[c] = shareOf(ctx, c % ctx.parties(), op.id(), inputs.stream(c), cols[c]);
    }
    long[] g = VectorEngine.live(ctx, source, op.id(), 0, rr, st).gram(shares);
    return Reveal.toAll(ctx, op.id(), 0, reveal, g, g.length);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("org.sparkmpc.protocol.KernelSources#all")
  void gramOfSharedColumnsEqualsPlaintext(KernelSources src) throws Exception {
    int rows = 257;
    int m = 3;
    long[][] cols = new long[m][];
    long[] flat = new long[rows * m];
    for (int c = 0; c < m; c++) {
      cols[c] = values(40 + c, rows, 64);
      System.arraycopy(cols[c], 0, flat, c * rows, rows);
    }
    long[] expected = Matrices.gram(flat, rows, m);
    List<long[]> out = src.run((ctx, s) -> run(ctx, s, cols));
    for (long[] got : out) {
      assertArrayEquals(expected, got);
    }
  }
}
