package org.sparkmpc.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.correlation.DealerCorrelationSource;
import org.sparkmpc.correlation.DealerService;
import org.sparkmpc.net.Gateway;
import org.sparkmpc.net.GatewayConfig;
import org.sparkmpc.net.KeyGen;
import org.sparkmpc.net.PartyDirectory;
import org.sparkmpc.session.MpcContext;

/**
 * A long-lived session over the real TLS gateways on loopback (owner, client, dealer, each with
 * its own key and certificate): hundreds of sequential requests, then a batch and labels, the
 * results checked against the plaintext model; each gateway's receive buffer stays bounded
 * through the session (every request's messages are released) and is empty once it ends.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class InferenceGatewayTest {
  static final List<String> MEMBERS = List.of("owner", "client", "dealer");
  static final int D = 30;

  @TempDir
  Path keys;

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void aLongSessionOverTlsHoldsBoundedMemory() throws Exception {
    KeyGen.generateDemo(MEMBERS, keys);
    List<PartyDirectory.Party> parties = new ArrayList<>();
    for (String m : MEMBERS) {
      parties.add(new PartyDirectory.Party(m, "127.0.0.1", freePort()));
    }
    Duration timeout = Duration.ofSeconds(20);
    List<Gateway> gws = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(3);
    InferenceModel m = InferenceTest.model(11, D);
    InferenceSettings settings = InferenceSettings.DEFAULTS.withPoolDepth(8).withChunkRows(256);
    int warm = 100;
    int timed = 300;
    try {
      for (String name : MEMBERS) {
        gws.add(Gateway.start(GatewayConfig.defaults(new PartyDirectory(parties, name), keys)
            .withTimeout(timeout)));
      }
      Future<Long> dealer = pool.submit(() -> DealerService.serve(MpcContext.establish(gws.get(2),
          "inference", timeout, new SecureRandom(), "dealer"), timeout));
      Future<Long> server = pool.submit(() -> {
        MpcContext ctx = MpcContext.establish(gws.get(0), "inference", timeout,
            new SecureRandom(), "dealer");
        try (InferenceServer s = InferenceServer.open(ctx, new DealerCorrelationSource(ctx),
            settings, "client", m)) {
          return s.serve(Duration.ofSeconds(60));
        }
      });
      MpcContext ctx = MpcContext.establish(gws.get(1), "inference", timeout, new SecureRandom(),
          "dealer");
      double[][] rows = InferenceTest.rows(12, warm + timed, D);
      long[] ns = new long[timed];
      long[][] held = new long[2][warm + timed];
      double[][] batch = InferenceTest.rows(13, 1000, D);
      double[] batchOut;
      int[] labels = new int[20];
      try (InferenceClient c = InferenceClient.open(ctx, new DealerCorrelationSource(ctx),
          settings)) {
        for (int i = 0; i < warm + timed; i++) {
          long t0 = System.nanoTime();
          double p = c.predictProbability(rows[i]);
          if (i >= warm) {
            ns[i - warm] = System.nanoTime() - t0;
          }
          InferenceTest.check(m, rows[i], p, m.predictLabel(rows[i]), "request " + i);
          held[0][i] = gws.get(0).bufferedBytes();
          held[1][i] = gws.get(1).bufferedBytes();
        }
        batchOut = c.predict(batch);
        for (int i = 0; i < labels.length; i++) {
          labels[i] = c.predictLabel(batch[i]);
        }
        System.out.println("inference over TLS, client phases (ms per request): "
            + c.phaseMillis());
      }
      assertEquals(warm + timed + 1 + labels.length + 1, server.get(60, TimeUnit.SECONDS) + 1);
      dealer.get(60, TimeUnit.SECONDS);
      for (int i = 0; i < batch.length; i++) {
        InferenceTest.check(m, batch[i], batchOut[i], i < labels.length ? labels[i]
            : m.predictLabel(batch[i]), "batch row " + i);
      }
      Arrays.sort(ns);
      System.out.printf("inference over TLS on loopback, %d single-row requests after %d: "
          + "p50 %.2f ms, p99 %.2f ms%n", timed, warm, ns[timed / 2] / 1e6,
          ns[timed * 99 / 100] / 1e6);
      // Bounded: the owner holds at most a request's messages; the client (the last computing
      // party) also the dealer's material for the pool's prepared requests.
      for (int g = 0; g < 2; g++) {
        long early = 0;
        long late = 0;
        for (int i = 0; i < warm; i++) {
          early = Math.max(early, held[g][i]);
        }
        for (int i = warm; i < warm + timed; i++) {
          late = Math.max(late, held[g][i]);
        }
        System.out.println(MEMBERS.get(g) + " gateway holds at most " + early + " bytes in the "
            + "first " + warm + " requests, " + late + " in the next " + timed);
        assertTrue(late <= early + 4096 && late < 64 * 1024, MEMBERS.get(g) + ": " + late
            + " bytes held late in the session, " + early + " early");
        assertEquals(0, gws.get(g).bufferedBytes(), "nothing held once the session ended");
      }
    } finally {
      pool.shutdownNow();
      for (Gateway g : gws) {
        g.close();
      }
    }
  }
}
