package org.sparkmpc.share;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.sparkmpc.net.Channel;
import org.sparkmpc.net.LocalChannelHub;
import org.sparkmpc.session.MpcContext;

/**
 * Runs one body per party, each on its own thread with its own {@link MpcContext}, over an in-JVM
 * channel hub: the FRESCO-style harness for protocol tests. The session hello runs for real, so the
 * pairwise keys come from a real X25519 agreement.
 */
public final class PartyThreads {
  private PartyThreads() {}

  public static List<String> names(int n) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      names.add("p" + i);
    }
    return names;
  }

  /**
   * Run {@code body} for each of {@code n} computing parties, with a dealer as an extra member on a
   * thread of its own serving until the last party ends the session.
   */
  public static <T> List<T> runWithDealer(int n, Function<MpcContext, T> body) throws Exception {
    return runWithDealer(n, (p, ch) -> ch, body);
  }

  /**
   * {@link #runWithDealer}, each party's channel passed through {@code wrap} (party index, hub
   * channel) first: to record a party's view.
   */
  public static <T> List<T> runWithDealer(int n, BiFunction<Integer, Channel, Channel> wrap,
      Function<MpcContext, T> body) throws Exception {
    Duration timeout = Duration.ofSeconds(30);
    List<String> members = new ArrayList<>(names(n));
    members.add("dealer");
    ExecutorService pool = Executors.newFixedThreadPool(n + 1);
    try (LocalChannelHub hub = new LocalChannelHub(members, timeout)) {
      Future<Long> dealer = pool.submit(() -> org.sparkmpc.correlation.DealerService.serve(
          MpcContext.establish(hub.channel(n), "test", timeout, new SecureRandom(), "dealer"),
          timeout));
      List<Future<T>> fs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int p = i;
        fs.add(pool.submit(() -> body.apply(MpcContext.establish(wrap.apply(p, hub.channel(p)),
            "test", timeout, new SecureRandom(), "dealer"))));
      }
      List<T> out = new ArrayList<>();
      for (Future<T> f : fs) {
        out.add(f.get(120, TimeUnit.SECONDS));
      }
      dealer.get(60, TimeUnit.SECONDS);
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  /** Run {@code body} for each of {@code n} parties; results by party index. */
  public static <T> List<T> run(int n, Function<MpcContext, T> body) throws Exception {
    return run(n, Duration.ofSeconds(20), body);
  }

  public static <T> List<T> run(int n, Duration timeout, Function<MpcContext, T> body)
      throws Exception {
    return run(n, timeout, (p, ch) -> ch, body);
  }

  /** {@link #run}, each party's channel passed through {@code wrap} first (as in the dealer's). */
  public static <T> List<T> run(int n, Duration timeout, BiFunction<Integer, Channel, Channel> wrap,
      Function<MpcContext, T> body) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try (LocalChannelHub hub = new LocalChannelHub(names(n), timeout)) {
      List<Future<T>> fs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int p = i;
        fs.add(pool.submit(() -> body.apply(
            MpcContext.establish(wrap.apply(p, hub.channel(p)), "test", timeout,
                new SecureRandom()))));
      }
      List<T> out = new ArrayList<>();
      for (Future<T> f : fs) {
        out.add(f.get(60, TimeUnit.SECONDS));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  /** {@code n} seeded random values of {@code bits} significant bits (sign-extended). */
  public static long[] values(long seed, int n, int bits) {
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    long[] v = new long[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextLong() >> (64 - bits);
    }
    return v;
  }

  /** This party's shares of {@code values} owned by party {@code owner} (partition 0). */
  public static long[] shareOf(MpcContext ctx, int owner, long op, int stream, long[] values) {
    int n = values.length;
    if (ctx.self() == owner) {
      long[] s = values.clone();
      AdditiveSharing.shareOwnInPlace(ctx, op, 0, stream, s, n);
      return s;
    }
    return AdditiveSharing.peerShare(ctx, owner, op, 0, stream, n);
  }
}
