package org.sparkmpc.correlation.ot;

import static org.sparkmpc.share.PartyThreads.shareOf;
import static org.sparkmpc.share.PartyThreads.values;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sparkmpc.correlation.BeaverTriples;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.protocol.BeaverMultiplication;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.share.PartyThreads;
import org.sparkmpc.share.Reveal;

/** Dealer-free triples from OT extension and Gilboa multiplication, two parties as threads. */
class OtCorrelationSourceTest {

  @Test
  void triplesAreCorrectStableAndUniform() throws Exception {
    int n = 10_000;
    int m = 1_000;
    List<BeaverTriples[]> out = PartyThreads.run(2, ctx -> {
      OtCorrelationSource source = new OtCorrelationSource(ctx);
      assertEquals("ot", source.name());
      source.request(7, List.of(Need.triples(2, 0, n), Need.triples(2, 5, m)));
      BeaverTriples t = source.triples(7, 2, 0, n);
      BeaverTriples again = source.triples(7, 2, 0, n);
      BeaverTriples other = source.triples(7, 2, 5, m);
      assertSame(t, again);
      assertThrows(IllegalArgumentException.class, () -> source.triples(7, 2, 0, n - 1));
      source.release(7);
      assertThrows(IllegalStateException.class, () -> source.triples(7, 2, 0, n));
      // The protocol is deterministic per instance: preparing again re-sends identical messages
      // (which the channel accepts as retries) and rebuilds identical triples.
      source.request(7, List.of(Need.triples(2, 0, n)));
      BeaverTriples redone = source.triples(7, 2, 0, n);
      assertArrayEquals(t.c(), redone.c());
      return new BeaverTriples[] {t, again, other};
    });
    BeaverTriples[] p0 = out.get(0);
    BeaverTriples[] p1 = out.get(1);
    for (int k : new int[] {0, 2}) {
      BeaverTriples x = p0[k];
      BeaverTriples y = p1[k];
      for (int i = 0; i < x.size(); i++) {
        long a = x.a()[i] + y.a()[i];
        long b = x.b()[i] + y.b()[i];
        assertEquals(a * b, x.c()[i] + y.c()[i], "triple " + i + " of batch " + k);
      }
    }
    for (BeaverTriples[] p : out) {
      assertArrayEquals(p[0].a(), p[1].a());
      assertArrayEquals(p[0].c(), p[1].c());
      assertTrue(p[0].a()[0] != p[2].a()[0], "another stream gives other triples");
      assertTopBitBalanced(p[0].c());
      assertTopBitBalanced(p[0].a());
    }
    assertFalse(Arrays.equals(p0[0].a(), p1[0].a()), "the parties pick their own a");
    assertFalse(Arrays.equals(p0[0].c(), p1[0].c()));
  }

  @Test
  void messagesOfAStreamStayInItsBlockOfCorrelationRounds() {
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    for (int stream : new int[] {0, 1, Coordinates.MAX_STREAMS - 1}) {
      RoundRange block = Coordinates.correlationRounds(stream);
      for (int chunk = 0; chunk < OtCorrelationSource.MAX_CHUNKS; chunk++) {
        for (int k = 0; k < 2; k++) {
          int round = OtCorrelationSource.round(stream, chunk, k);
          assertTrue(block.contains(round), "chunk " + chunk + " of stream " + stream);
          assertTrue(seen.add(round), "round " + round + " used twice");
        }
      }
    }
    // The largest batch a need may ask for fits in the chunks a stream has rounds for.
    assertTrue((long) OtCorrelationSource.MAX_CHUNKS * OtCorrelationSource.CHUNK
        >= Need.MAX_ELEMENTS / 3);
    assertThrows(IllegalArgumentException.class,
        () -> OtCorrelationSource.round(0, OtCorrelationSource.MAX_CHUNKS, 0));
  }

  @Test
  void chunkedNeedsAreCorrect() throws Exception {
    int n = OtCorrelationSource.CHUNK + 100;
    List<BeaverTriples> out = PartyThreads.run(2, ctx -> {
      OtCorrelationSource source = new OtCorrelationSource(ctx);
      source.request(3, List.of(Need.triples(0, 1, n), Need.triples(1, 1, 0)));
      assertEquals(0, source.triples(3, 1, 1, 0).size());
      return source.triples(3, 0, 1, n);
    });
    for (int i = 0; i < n; i++) {
      long a = out.get(0).a()[i] + out.get(1).a()[i];
      long b = out.get(0).b()[i] + out.get(1).b()[i];
      assertEquals(a * b, out.get(0).c()[i] + out.get(1).c()[i], "triple " + i);
    }
  }

  @Test
  void beaverMultiplicationWithOtTriplesEqualsPlaintext() throws Exception {
    int n = 5_000;
    long[] x = values(1, n, 64);
    long[] y = values(2, n, 64);
    List<long[]> out = PartyThreads.run(2, ctx -> {
      OtCorrelationSource source = new OtCorrelationSource(ctx);
      source.request(1, List.of(Need.triples(0, 0, n)));
      long[] xs = shareOf(ctx, 0, 1, 0, x);
      long[] ys = shareOf(ctx, 1, 1, 1, y);
      long[] z = BeaverMultiplication.multiply(ctx, source, 1, 0, 0, 0, xs, ys, n);
      // a second operator reuses the same base OTs
      source.request(2, List.of(Need.triples(0, 0, n)));
      long[] z2 = BeaverMultiplication.multiply(ctx, source, 2, 0, 0, 0, z, ys, n);
      long[] opened = Reveal.toAll(ctx, 1, 0, 1, z, n);
      long[] opened2 = Reveal.toAll(ctx, 2, 0, 1, z2, n);
      long[] both = Arrays.copyOf(opened, 2 * n);
      System.arraycopy(opened2, 0, both, n, n);
      return both;
    });
    long[] expected = new long[2 * n];
    for (int i = 0; i < n; i++) {
      expected[i] = x[i] * y[i];
      expected[n + i] = x[i] * y[i] * y[i];
    }
    for (long[] o : out) {
      assertArrayEquals(expected, o);
    }
  }

  @Test
  void threePartiesAreRefusedNamingTheSetting() throws Exception {
    List<String> messages = PartyThreads.run(3, ctx -> assertThrows(
        IllegalArgumentException.class, () -> new OtCorrelationSource(ctx)).getMessage());
    for (String m : messages) {
      assertTrue(m.contains("spark.mpc.correlations"), m);
    }
  }

  @Test
  void unpreparedCoordinatesAreRefused() throws Exception {
    List<String> messages = PartyThreads.run(2, ctx -> assertThrows(IllegalStateException.class,
        () -> new OtCorrelationSource(ctx).triples(4, 1, 2, 10)).getMessage());
    for (String m : messages) {
      assertTrue(m.contains("operator 4") && m.contains("partition 1") && m.contains("stream 2"),
          m);
    }
  }

  /** The top bit is 1 in 0.5 +- 0.02 of the values. */
  static void assertTopBitBalanced(long[] v) {
    long ones = 0;
    for (long x : v) {
      ones += x >>> 63;
    }
    double frac = ones / (double) v.length;
    assertTrue(Math.abs(frac - 0.5) < 0.02, "top bit: " + frac);
  }
}
