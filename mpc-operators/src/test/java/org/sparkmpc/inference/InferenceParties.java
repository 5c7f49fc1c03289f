package org.sparkmpc.inference;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.DealerCorrelationSource;
import org.sparkmpc.correlation.DealerService;
import org.sparkmpc.correlation.ot.OtCorrelationSource;
import org.sparkmpc.net.Channel;
import org.sparkmpc.net.LocalChannelHub;
import org.sparkmpc.session.MpcContext;

/**
 * An inference session with every party on a thread of its own over an in-JVM channel hub:
 * servers {@code p0} (and {@code p2}, ...) serve, {@code p1} is the client and runs the test's
 * body; with the dealer source a dealer thread serves the session's correlated randomness.
 */
final class InferenceParties {
  static final int CLIENT = 1;

  /** What the test varies. */
  record Setup(String source, int parties, InferenceSettings settings, Duration timeout,
      InferenceSettings clientSettings) {
    Setup(String source, int parties) {
      this(source, parties, InferenceSettings.DEFAULTS.withPoolDepth(4).withChunkRows(128),
          Duration.ofSeconds(30), null);
    }

    Setup with(InferenceSettings s) {
      return new Setup(source, parties, s, timeout, null);
    }

    /** The client opens the session with other settings than the servers. */
    Setup withClientSettings(InferenceSettings s) {
      return new Setup(source, parties, settings, timeout, s);
    }

    Setup withTimeout(Duration t) {
      return new Setup(source, parties, settings, t, clientSettings);
    }

    InferenceSettings settingsOf(int party) {
      return party == CLIENT && clientSettings != null ? clientSettings : settings;
    }

    @Override
    public String toString() {
      return source + ", " + parties + " parties";
    }
  }

  /** The client's body. */
  interface ClientBody<T> {
    T apply(InferenceClient client) throws Exception;
  }

  /** The outcome: the body's result and what each server's serve returned or threw. */
  record Outcome<T>(T result, List<Object> servers) {}

  private InferenceParties() {}

  static <T> Outcome<T> run(Setup setup, IntFunction<InferenceModel> models, ClientBody<T> body)
      throws Exception {
    return run(setup, models, c -> c, body);
  }

  /**
   * Run a session: {@code models.apply(i)} is party i's model (null: none), {@code wrap} may
   * decorate each party's channel (it gets the raw channel; party index from its directory).
   */
  static <T> Outcome<T> run(Setup setup, IntFunction<InferenceModel> models,
      Function<Channel, Channel> wrap, ClientBody<T> body) throws Exception {
    int n = setup.parties();
    boolean dealer = setup.source().equals("dealer");
    List<String> members = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      members.add("p" + i);
    }
    if (dealer) {
      members.add("dealer");
    }
    ExecutorService pool = Executors.newFixedThreadPool(members.size());
    Duration timeout = setup.timeout();
    try (LocalChannelHub hub = new LocalChannelHub(members, timeout)) {
      Future<Long> dealerRun = dealer ? pool.submit(() -> DealerService.serve(
          MpcContext.establish(hub.channel(n), "inference-test", timeout, new SecureRandom(),
              "dealer"), timeout)) : null;
      List<Future<Object>> servers = new ArrayList<>();
      Future<T> client = null;
      for (int i = 0; i < n; i++) {
        int p = i;
        if (p == CLIENT) {
          client = pool.submit(() -> {
            MpcContext ctx = MpcContext.establish(wrap.apply(hub.channel(p)), "inference-test",
                timeout, new SecureRandom(), dealer ? "dealer" : null);
            try (InferenceClient c = InferenceClient.open(ctx, source(ctx, dealer),
                setup.settingsOf(p), models.apply(p))) {
              return body.apply(c);
            }
          });
        } else {
          servers.add(pool.submit(() -> {
            MpcContext ctx = MpcContext.establish(wrap.apply(hub.channel(p)), "inference-test",
                timeout, new SecureRandom(), dealer ? "dealer" : null);
            try (InferenceServer s = InferenceServer.open(ctx, source(ctx, dealer),
                setup.settingsOf(p), "p" + CLIENT, models.apply(p))) {
              return (Object) s.serve(Duration.ofSeconds(120));
            } catch (RuntimeException e) {
              return e;
            }
          }));
        }
      }
      T result;
      try {
        result = client.get(180, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        for (Future<Object> s : servers) {
          Object o = s.get(60, TimeUnit.SECONDS);
          if (o instanceof Throwable t) {
            e.getCause().addSuppressed(t);
          }
        }
        throw e;
      }
      List<Object> outs = new ArrayList<>();
      for (Future<Object> s : servers) {
        outs.add(s.get(60, TimeUnit.SECONDS));
      }
      if (dealerRun != null) {
        dealerRun.get(60, TimeUnit.SECONDS);
      }
      return new Outcome<>(result, outs);
    } finally {
      pool.shutdownNow();
    }
  }

  static CorrelationSource source(MpcContext ctx, boolean dealer) {
    return dealer ? new DealerCorrelationSource(ctx) : new OtCorrelationSource(ctx);
  }
}
