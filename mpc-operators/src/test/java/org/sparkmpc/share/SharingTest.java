package org.sparkmpc.share;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.QueryMismatchException;

/** Input sharing and reveal, written once and run for 2, 3 and 5 parties as threads. */
class SharingTest {

  /** Values party {@code owner} holds in the tests: deterministic, signed, some large. */
  static long[] values(int owner, int n) {
    Random r = new Random(1000 + owner);
    long[] v = new long[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextLong() >> (i % 3 == 0 ? 1 : 20);
    }
    return v;
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3, 5})
  void sharesOfEveryOwnerSumToItsValuesAndRevealToAll(int parties) throws Exception {
    int n = 10_000;
    List<long[][]> out = PartyThreads.run(parties, ctx -> {
      long[][] revealed = new long[parties][];
      for (int owner = 0; owner < parties; owner++) {
        long[] share = owner == ctx.self() ? values(owner, n).clone()
            : AdditiveSharing.peerShare(ctx, owner, 7, 3, 0, n);
        if (owner == ctx.self()) {
          AdditiveSharing.shareOwnInPlace(ctx, 7, 3, 0, share, n);
        }
        revealed[owner] = Reveal.toAll(ctx, 7, 3, owner, share, n);
      }
      return revealed;
    });
    for (int p = 0; p < parties; p++) {
      for (int owner = 0; owner < parties; owner++) {
        assertArrayEquals(values(owner, n), out.get(p)[owner], "party " + p + ", owner " + owner);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void revealToNamedPartiesGivesNothingToTheOthers(int parties) throws Exception {
    int n = 100;
    List<long[]> out = PartyThreads.run(parties, ctx -> {
      long[] share = ctx.self() == 0 ? values(0, n).clone()
          : AdditiveSharing.peerShare(ctx, 0, 1, 0, 0, n);
      if (ctx.self() == 0) {
        AdditiveSharing.shareOwnInPlace(ctx, 1, 0, 0, share, n);
      }
      return Reveal.toParties(ctx, 1, 0, 0, share, n, new int[] {parties - 1});
    });
    for (int p = 0; p < parties - 1; p++) {
      assertNull(out.get(p), "party " + p + " is not a recipient");
    }
    assertArrayEquals(values(0, n), out.get(parties - 1));
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void sharesLookUniformAndDoNotShowTheSecret(int parties) throws Exception {
    int n = 200_000;
    // The secret is constant: any share that leaked it would show a biased bit.
    List<long[]> shares = PartyThreads.run(parties, ctx -> {
      if (ctx.self() == 0) {
        long[] v = new long[n];
        java.util.Arrays.fill(v, 42L);
        AdditiveSharing.shareOwnInPlace(ctx, 9, 0, 0, v, n);
        return v;
      }
      return AdditiveSharing.peerShare(ctx, 0, 9, 0, 0, n);
    });
    for (int p = 0; p < parties; p++) {
      long[] s = shares.get(p);
      for (int bit : new int[] {0, 1, 5, 31, 63}) {
        long ones = 0;
        for (long x : s) {
          ones += (x >>> bit) & 1;
        }
        double frac = ones / (double) n;
        // 200k fair coin flips: 6 standard deviations is 0.0067
        assertTrue(Math.abs(frac - 0.5) < 0.0067, "party " + p + " bit " + bit + " frac " + frac);
      }
      long equalToSecret = java.util.Arrays.stream(s).filter(x -> x == 42L).count();
      assertTrue(equalToSecret < 3, "share of party " + p + " shows the secret");
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void sharingIsDeterministicSoARetriedTaskSendsTheSameBytes(int parties) throws Exception {
    List<Boolean> same = PartyThreads.run(parties, ctx -> {
      long[] a = ctx.self() == 0 ? values(0, 500).clone()
          : AdditiveSharing.peerShare(ctx, 0, 4, 2, 1, 500);
      long[] b = ctx.self() == 0 ? values(0, 500).clone()
          : AdditiveSharing.peerShare(ctx, 0, 4, 2, 1, 500);
      if (ctx.self() == 0) {
        AdditiveSharing.shareOwnInPlace(ctx, 4, 2, 1, a, 500);
        AdditiveSharing.shareOwnInPlace(ctx, 4, 2, 1, b, 500);
      }
      long[] other = ctx.self() == 0 ? null : AdditiveSharing.peerShare(ctx, 0, 4, 3, 1, 500);
      return java.util.Arrays.equals(a, b)
          && (other == null || !java.util.Arrays.equals(a, other));
    });
    assertFalse(same.contains(false));
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void revealOfNoValuesWorks(int parties) throws Exception {
    List<long[]> out = PartyThreads.run(parties, ctx -> Reveal.toAll(ctx, 2, 0, 0, new long[0], 0));
    for (long[] o : out) {
      assertEquals(0, o.length);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void partiesThatDisagreeOnRowCountsAreRefusedNamingTheParty(int parties) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> PartyThreads.run(parties,
        ctx -> {
          int n = ctx.self() == parties - 1 ? 11 : 10;
          return Reveal.toAll(ctx, 3, 0, 0, new long[n], n);
        }));
    assertTrue(e.getCause() instanceof ProtocolException, e.getCause().toString());
    assertTrue(e.getCause().getMessage().contains("disagree on the number of rows"),
        e.getCause().getMessage());
    assertTrue(e.getCause().getMessage().contains("party 'p"), e.getCause().getMessage());
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void partiesRunningDifferentOperationsAreRefusedBeforeAnyShareMoves(int parties) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> PartyThreads.run(parties,
        ctx -> {
          ctx.agree(5, ctx.self() == 1 ? "SUM(salary) group by name" : "SUM(salary) group by role");
          return Reveal.toAll(ctx, 5, 0, 0, new long[] {1}, 1);
        }));
    assertTrue(e.getCause() instanceof QueryMismatchException, e.getCause().toString());
    String m = e.getCause().getMessage();
    assertTrue(m.contains("different secure operation") && m.contains("group by"), m);
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void arrowVectorsShareAndRevealWhole(int parties) throws Exception {
    List<long[]> out = PartyThreads.run(parties, ctx -> {
      try (BufferAllocator alloc = new RootAllocator()) {
        long[] plain = values(1, 4096);
        BigIntVector share;
        if (ctx.self() == 1) {
          try (BigIntVector in = ArrowLongs.fromArray(alloc, "x", plain, plain.length)) {
            share = VectorSharing.shareOwn(ctx, alloc, 6, 0, 0, in, "x");
          }
        } else {
          share = VectorSharing.peerShare(ctx, alloc, 1, 6, 0, 0, plain.length, "x");
        }
        try (share; BigIntVector opened = VectorSharing.reveal(ctx, alloc, 6, 0, 0, share,
            new int[] {0}, "x")) {
          return opened == null ? null : ArrowLongs.toArray(opened, "x");
        }
      }
    });
    assertNotNull(out.get(0));
    assertArrayEquals(values(1, 4096), out.get(0));
    for (int p = 1; p < parties; p++) {
      assertNull(out.get(p));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void everyPartyDerivesTheSameSessionAndPairKeysMatch(int parties) throws Exception {
    List<MpcContext> ctxs = PartyThreads.run(parties, ctx -> ctx);
    for (MpcContext c : ctxs) {
      assertEquals(ctxs.get(0).sessionId(), c.sessionId());
    }
    for (int p = 0; p < parties; p++) {
      for (int q = 0; q < parties; q++) {
        if (p != q) {
          assertArrayEquals(ctxs.get(p).keys().seedWith(q, "L"), ctxs.get(q).keys().seedWith(p, "L"));
        }
      }
    }
    if (parties > 2) {
      assertFalse(java.util.Arrays.equals(ctxs.get(0).keys().seedWith(1, "L"),
          ctxs.get(0).keys().seedWith(2, "L")));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void aPartyThatStopsAnOperatorTellsThePeersWhyAtOnce(int parties) {
    long start = System.nanoTime();
    ExecutionException e = assertThrows(ExecutionException.class, () -> PartyThreads.run(parties,
        java.time.Duration.ofSeconds(30), ctx -> {
          if (ctx.self() == 1) {
            ctx.abort(8, new org.sparkmpc.MpcInputException("column 'amount' of party p1 has a null"));
            throw new IllegalStateException("p1 stopped");
          }
          return Reveal.toAll(ctx, 8, 0, 0, new long[] {123456789L}, 1);
        }));
    assertTrue((System.nanoTime() - start) / 1e9 < 10, "peers waited for the timeout");
    assertTrue(e.getCause() instanceof org.sparkmpc.net.PeerAbortedException
        || e.getCause().getMessage().contains("p1 stopped"), e.getCause().toString());
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void abortsForwardOnlySecretFreeReasons(int parties) throws Exception {
    List<String> seen = PartyThreads.run(parties, ctx -> {
      if (ctx.self() == 0) {
        ctx.abort(9, new NumberFormatException("For input string: \"31337.42\""));
        return "";
      }
      try {
        Reveal.toAll(ctx, 9, 0, 0, new long[1], 1);
        return "no error";
      } catch (org.sparkmpc.net.PeerAbortedException ex) {
        return ex.getMessage();
      }
    });
    for (int p = 1; p < parties; p++) {
      assertTrue(seen.get(p).contains("stopped operator 9"), seen.get(p));
      assertTrue(seen.get(p).contains("NumberFormatException"), seen.get(p));
      assertFalse(seen.get(p).contains("31337"), seen.get(p));
    }
  }
}
