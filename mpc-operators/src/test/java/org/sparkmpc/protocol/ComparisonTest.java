package org.sparkmpc.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkmpc.share.PartyThreads.shareOf;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.ring.FixedPoint;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.share.Reveal;

/**
 * The comparison and equality kernels against plaintext, written once and run for the dealer (2, 3
 * and 5 parties) and the OT source (2 parties): random and edge values, batch sizes around the
 * 64-element packing, retries, and the randomness of the output shares.
 */
class ComparisonTest {
  static final long BIG = (1L << 62) - 1;
  static final int[] SIZES = {0, 1, 63, 64, 65, 3000};

  /** A kernel on shared operands {@code x}, {@code y} (y may be unused) with its coordinates. */
  interface Kernel {
    long[] apply(MpcContext ctx, CorrelationSource s, long op, RoundRange r, StreamRange st,
        long[] x, long[] y);
  }

  /** One party's opened result and its own share of it. */
  record Result(long[] opened, long[] share) {}

  /**
   * Share {@code x} (from party 0) and {@code y} (from the last party) under a fresh operator,
   * request the kernel's material, run it on partition 0 and open the result.
   */
  static Result runOnce(MpcContext ctx, CorrelationSource source, int rounds, int streams,
      java.util.function.IntFunction<List<Need>> needs, Kernel k, long[] x, long[] y) {
    OperatorScope op = ctx.coordinates().operator("kernel test");
    StreamRange inputs = op.streams("inputs", 2);
    StreamRange st = op.streams("kernel", streams);
    RoundRange r = op.rounds("kernel", rounds);
    int reveal = op.round("reveal");
    List<Need> all = new ArrayList<>(needs.apply(st.first()));
    source.request(op.id(), all);
    long[] xs = shareOf(ctx, 0, op.id(), inputs.stream(0), x);
    long[] ys = shareOf(ctx, ctx.parties() - 1, op.id(), inputs.stream(1), y);
    long[] z = k.apply(ctx, source, op.id(), r, st, xs, ys);
    assertEquals(x.length, z.length);
    // the channel carries no empty messages: an empty result is opened locally
    return new Result(z.length == 0 ? z : Reveal.toAll(ctx, op.id(), 0, reveal, z, z.length), z);
  }

  static List<Need> cmpNeeds(int firstStream, int n) {
    return Comparison.needs(0, new StreamRange("kernel", firstStream, Comparison.STREAMS), n);
  }

  static List<Need> eqNeeds(int firstStream, int n) {
    return Equality.needs(0, new StreamRange("kernel", firstStream, Equality.STREAMS), n);
  }

  static long[] edgeValues() {
    FixedPoint fp = new FixedPoint(16);
    long maxFp = fp.encode(Math.scalb(1.0, 45) - 1, "edge");
    return new long[] {0, 1, -1, 2, -2, BIG, -BIG, maxFp, -maxFp, Long.MAX_VALUE, Long.MIN_VALUE,
        Long.MIN_VALUE + 1, Long.MAX_VALUE - 1, 1L << 62, -(1L << 62), 1L << 63 >>> 1};
  }

  /** {@code n} values: the edge values first, then random ones of {@code bits} bits. */
  static long[] mixed(long seed, int n, int bits, boolean withFullRingEdges) {
    long[] edges = edgeValues();
    SplittableRandom r = new SplittableRandom(seed);
    long[] v = new long[n];
    int e = 0;
    for (int i = 0; i < n; i++) {
      long edge = e < edges.length ? edges[e++] : 0;
      boolean usable = withFullRingEdges || (edge >= -BIG && edge <= BIG);
      v[i] = i < edges.length && usable ? edge : r.nextLong() >> (64 - bits);
    }
    return v;
  }

  static void assertBits(long[] expected, List<Result> out, String what) {
    for (Result r : out) {
      assertArrayEquals(expected, r.opened(), what);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("org.sparkmpc.protocol.KernelSources#all")
  void ltzIsTheSignBitOverTheWholeRing(KernelSources src) throws Exception {
    List<List<Result>> perSize = src.run((ctx, s) -> {
      List<Result> rs = new ArrayList<>();
      for (int n : SIZES) {
        long[] x = mixed(n, n, 64, true);
        rs.add(runOnce(ctx, s, Comparison.ROUNDS, Comparison.STREAMS, f -> cmpNeeds(f, n),
            (c, so, op, r, st, xs, ys) -> Comparison.ltz(c, so, op, 0, r, st, xs), x, x));
      }
      return rs;
    });
    for (int k = 0; k < SIZES.length; k++) {
      int n = SIZES[k];
      long[] x = mixed(n, n, 64, true);
      long[] expected = new long[n];
      for (int i = 0; i < n; i++) {
        expected[i] = x[i] < 0 ? 1 : 0;
      }
      int kk = k;
      assertBits(expected, perSize.stream().map(l -> l.get(kk)).toList(), "ltz, n = " + n);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("org.sparkmpc.protocol.KernelSources#all")
  void orderComparisonsMatchPlaintext(KernelSources src) throws Exception {
    int n = 2000;
    long[] x = mixed(11, n, 62, false);
    long[] y = mixed(12, n, 62, false);
    for (int i = 0; i < n; i += 7) {
      y[i] = x[i]; // equal pairs
    }
    for (int i = 3; i < n; i += 11) {
      y[i] = x[i] + (i % 2 == 0 ? 1 : -1); // neighbours
      if (Math.abs(y[i]) > BIG) {
        y[i] = x[i];
      }
    }
    long c = 12345L << 16;
    Kernel[] kernels = {
        (ctx, s, op, r, st, xs, ys) -> Comparison.lessThan(ctx, s, op, 0, r, st, xs, ys),
        (ctx, s, op, r, st, xs, ys) -> Comparison.greaterThan(ctx, s, op, 0, r, st, xs, ys),
        (ctx, s, op, r, st, xs, ys) -> Comparison.lessEqual(ctx, s, op, 0, r, st, xs, ys),
        (ctx, s, op, r, st, xs, ys) -> Comparison.greaterEqual(ctx, s, op, 0, r, st, xs, ys),
        (ctx, s, op, r, st, xs, ys) -> Comparison.lessThanPublic(ctx, s, op, 0, r, st, xs, c),
        (ctx, s, op, r, st, xs, ys) -> Comparison.greaterThanPublic(ctx, s, op, 0, r, st, xs, c),
        (ctx, s, op, r, st, xs, ys) -> Comparison.lessEqualPublic(ctx, s, op, 0, r, st, xs, x[5]),
        (ctx, s, op, r, st, xs, ys) -> Comparison.greaterEqualPublic(ctx, s, op, 0, r, st, xs,
            -BIG)};
    List<List<Result>> out = src.run((ctx, s) -> {
      List<Result> rs = new ArrayList<>();
      for (Kernel k : kernels) {
        rs.add(runOnce(ctx, s, Comparison.ROUNDS, Comparison.STREAMS, f -> cmpNeeds(f, n), k, x,
            y));
      }
      return rs;
    });
    String[] names = {"<", ">", "<=", ">=", "< c", "> c", "<= x5", ">= -BIG"};
    for (int k = 0; k < kernels.length; k++) {
      long[] expected = new long[n];
      for (int i = 0; i < n; i++) {
        boolean b = switch (k) {
          case 0 -> x[i] < y[i];
          case 1 -> x[i] > y[i];
          case 2 -> x[i] <= y[i];
          case 3 -> x[i] >= y[i];
          case 4 -> x[i] < c;
          case 5 -> x[i] > c;
          case 6 -> x[i] <= x[5];
          default -> x[i] >= -BIG;
        };
        expected[i] = b ? 1 : 0;
      }
      int kk = k;
      assertBits(expected, out.stream().map(l -> l.get(kk)).toList(), names[k]);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("org.sparkmpc.protocol.KernelSources#all")
  void equalityMatchesPlaintext(KernelSources src) throws Exception {
    List<long[]> xs = new ArrayList<>();
    List<long[]> ys = new ArrayList<>();
    for (int n : SIZES) {
      long[] x = mixed(20 + n, n, 64, true);
      long[] y = mixed(40 + n, n, 64, true);
      for (int i = 0; i < n; i += 3) {
        y[i] = x[i];
      }
      for (int i = 1; i < n; i += 5) {
        y[i] = x[i] ^ (1L << (i % 64)); // differs in exactly one bit
      }
      xs.add(x);
      ys.add(y);
    }
    long c = -1;
    List<List<Result>> out = src.run((ctx, s) -> {
      List<Result> rs = new ArrayList<>();
      for (int k = 0; k < SIZES.length; k++) {
        int n = SIZES[k];
        rs.add(runOnce(ctx, s, Equality.ROUNDS, Equality.STREAMS, f -> eqNeeds(f, n),
            (cx, so, op, r, st, a, b) -> Equality.equal(cx, so, op, 0, r, st, a, b), xs.get(k),
            ys.get(k)));
      }
      int n = 200;
      rs.add(runOnce(ctx, s, Equality.ROUNDS, Equality.STREAMS, f -> eqNeeds(f, n),
          (cx, so, op, r, st, a, b) -> Equality.equalPublic(cx, so, op, 0, r, st, a, c),
          mixed(5, n, 2, true), new long[n]));
      return rs;
    });
    for (int k = 0; k < SIZES.length; k++) {
      long[] x = xs.get(k);
      long[] y = ys.get(k);
      long[] expected = new long[x.length];
      for (int i = 0; i < x.length; i++) {
        expected[i] = x[i] == y[i] ? 1 : 0;
      }
      int kk = k;
      assertBits(expected, out.stream().map(l -> l.get(kk)).toList(), "==, n = " + x.length);
    }
    long[] x = mixed(5, 200, 2, true);
    long[] expected = new long[200];
    for (int i = 0; i < 200; i++) {
      expected[i] = x[i] == c ? 1 : 0;
    }
    assertTrue(Arrays.stream(expected).sum() > 10, "the public test hits some equal values");
    assertBits(expected, out.stream().map(l -> l.get(SIZES.length)).toList(), "== -1");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("org.sparkmpc.protocol.KernelSources#all")
  void aRetriedCallSendsIdenticalMessagesAndSharesAreRandom(KernelSources src) throws Exception {
    int n = 4000;
    long[] x = new long[n]; // all zero: the bit is 0 everywhere, so shares must hide it
    long[] y = new long[n];
    Arrays.fill(y, 5);
    List<long[][]> out = src.run((ctx, s) -> {
      OperatorScope op = ctx.coordinates().operator("retry test");
      StreamRange st = op.streams("cmp", Comparison.STREAMS);
      RoundRange r = op.rounds("cmp", Comparison.ROUNDS);
      StreamRange eqSt = op.streams("eq", Equality.STREAMS);
      RoundRange eqR = op.rounds("eq", Equality.ROUNDS);
      List<Need> needs = new ArrayList<>(Comparison.needs(0, st, n));
      needs.addAll(Equality.needs(0, eqSt, n));
      s.request(op.id(), needs);
      long[] xs = shareOf(ctx, 0, op.id(), op.streams("x", 1).stream(0), x);
      long[] ys = shareOf(ctx, 0, op.id(), op.streams("y", 1).stream(0), y);
      long[] first = Comparison.lessThan(ctx, s, op.id(), 0, r, st, xs, ys);
      // The retry re-sends every round: a message with other bytes would be a ProtocolException.
      long[] retry = Comparison.lessThan(ctx, s, op.id(), 0, r, st, xs, ys);
      long[] eq = Equality.equal(ctx, s, op.id(), 0, eqR, eqSt, xs, ys);
      long[] eqRetry = Equality.equal(ctx, s, op.id(), 0, eqR, eqSt, xs, ys);
      long[] opened = Reveal.toAll(ctx, op.id(), 0, op.round("open"), first, n);
      long[] openedEq = Reveal.toAll(ctx, op.id(), 0, op.round("open eq"), eq, n);
      return new long[][] {first, retry, eq, eqRetry, opened, openedEq};
    });
    for (long[][] p : out) {
      assertArrayEquals(p[0], p[1], "a retry computes the same shares");
      assertArrayEquals(p[2], p[3], "a retry computes the same shares");
      long[] ones = new long[n];
      Arrays.fill(ones, 1);
      assertArrayEquals(ones, p[4], "0 < 5");
      assertArrayEquals(new long[n], p[5], "0 != 5");
      for (long[] share : new long[][] {p[0], p[2]}) {
        long bitLike = Arrays.stream(share).filter(v -> v == 0 || v == 1).count();
        assertTrue(bitLike < 10, bitLike + " of " + n + " shares look like the bit itself");
        BeaverMultiplicationTest.assertBalanced(share);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("org.sparkmpc.protocol.KernelSources#all")
  void badArgumentsAreRefusedNamingTheProblem(KernelSources src) throws Exception {
    List<String> messages = src.run((ctx, s) -> {
      OperatorScope op = ctx.coordinates().operator("bad arguments");
      StreamRange st = op.streams("cmp", Comparison.STREAMS);
      RoundRange tooFew = op.rounds("cmp", Comparison.ROUNDS - 1);
      s.request(op.id(), Comparison.needs(0, st, 10));
      String lengths = assertThrows(IllegalArgumentException.class,
          () -> Comparison.lessThan(ctx, s, op.id(), 0, tooFew, st, new long[10], new long[9]))
          .getMessage();
      String rounds = assertThrows(IllegalArgumentException.class,
          () -> Comparison.ltz(ctx, s, op.id(), 0, tooFew, st, new long[10])).getMessage();
      String count = assertThrows(IllegalArgumentException.class,
          () -> Comparison.needs(0, st, -1)).getMessage();
      String streams = assertThrows(IllegalArgumentException.class,
          () -> Comparison.needs(0, new StreamRange("short", 0, 2), 1)).getMessage();
      return lengths + "|" + rounds + "|" + count + "|" + streams;
    });
    for (String m : messages) {
      assertTrue(m.contains("10 and 9"), m);
      assertTrue(m.contains("outside its block"), m);
      assertTrue(m.contains("-1"), m);
      assertTrue(m.contains("stream 2"), m);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("org.sparkmpc.protocol.KernelSources#all")
  void bitLogicAndSelectMatchPlaintext(KernelSources src) throws Exception {
    int n = 1000;
    SplittableRandom rnd = new SplittableRandom(77);
    long[] a = new long[n];
    long[] b = new long[n];
    for (int i = 0; i < n; i++) {
      a[i] = rnd.nextInt(2);
      b[i] = rnd.nextInt(2);
    }
    long[] u = mixed(3, n, 64, true);
    long[] v = mixed(4, n, 64, true);
    List<long[]> out = src.run((ctx, s) -> {
      OperatorScope op = ctx.coordinates().operator("bit logic");
      StreamRange in = op.streams("inputs", 4);
      StreamRange andSt = op.streams("and", BitLogic.STREAMS);
      StreamRange orSt = op.streams("or", BitLogic.STREAMS);
      StreamRange selSt = op.streams("select", BitLogic.STREAMS);
      List<Need> needs = new ArrayList<>(BitLogic.needs(0, andSt, n));
      needs.addAll(BitLogic.needs(0, orSt, n));
      needs.addAll(BitLogic.needs(0, selSt, n));
      s.request(op.id(), needs);
      long[] as = shareOf(ctx, 0, op.id(), in.stream(0), a);
      long[] bs = shareOf(ctx, ctx.parties() - 1, op.id(), in.stream(1), b);
      long[] us = shareOf(ctx, 0, op.id(), in.stream(2), u);
      long[] vs = shareOf(ctx, 1, op.id(), in.stream(3), v);
      long[] and = BitLogic.and(ctx, s, op.id(), 0, op.rounds("and", 1), andSt, as, bs);
      long[] or = BitLogic.or(ctx, s, op.id(), 0, op.rounds("or", 1), orSt, as, bs);
      long[] not = BitLogic.not(ctx, as);
      long[] sel = BitLogic.select(ctx, s, op.id(), 0, op.rounds("select", 1), selSt, as, us, vs);
      long[] all = new long[4 * n];
      System.arraycopy(and, 0, all, 0, n);
      System.arraycopy(or, 0, all, n, n);
      System.arraycopy(not, 0, all, 2 * n, n);
      System.arraycopy(sel, 0, all, 3 * n, n);
      return Reveal.toAll(ctx, op.id(), 0, op.round("open"), all, 4 * n);
    });
    long[] expected = new long[4 * n];
    for (int i = 0; i < n; i++) {
      expected[i] = a[i] & b[i];
      expected[n + i] = a[i] | b[i];
      expected[2 * n + i] = 1 - a[i];
      expected[3 * n + i] = a[i] == 1 ? u[i] : v[i];
    }
    for (long[] o : out) {
      assertArrayEquals(expected, o);
    }
    assertEquals(4 * n, expected.length);
  }
}
