package org.sparkmpc.correlation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.net.Gateway;
import org.sparkmpc.net.GatewayConfig;
import org.sparkmpc.net.KeyGen;
import org.sparkmpc.net.PartyDirectory;
import org.sparkmpc.net.ToolOutput;
import org.sparkmpc.session.MpcContext;

/**
 * {@code bin/dealer}'s command line, and a dealer whose config names its key files one by one
 * ({@code spark.mpc.keyFile}, {@code certFile}, {@code trustFile}, no {@code keyDir}) serving a
 * session of two parties in-process.
 */
class DealerMainTest {
  @TempDir
  Path dir;

  private static ToolOutput dealer(String... args) {
    return ToolOutput.of((out, err) -> DealerMain.run(out, err, args));
  }

  private Path write(Properties p) throws IOException {
    Path f = dir.resolve("dealer.properties");
    try (OutputStream o = Files.newOutputStream(f)) {
      p.store(o, null);
    }
    return f;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void helpAndUsageErrors() throws IOException {
    ToolOutput help = dealer("--help");
    assertEquals(0, help.code(), help.toString());
    for (String s : List.of("Usage: dealer", "CONFIG", "spark.mpc.keyFile", "spark.mpc.trustFile",
        DealerMain.IDLE_TIMEOUT, "colludes with no party")) {
      assertTrue(help.out().contains(s), s + " in\n" + help);
    }
    ToolOutput unknown = dealer("--sessions", "2", "x.properties");
    assertEquals(2, unknown.code(), unknown.toString());
    assertTrue(unknown.err().contains("'--sessions'"), unknown.toString());
    assertEquals(2, dealer().code());
    Properties p = new Properties();
    p.setProperty("spark.mpc.party", "dealer");
    p.setProperty("spark.mpc.parties", "a=127.0.0.1:1,dealer=127.0.0.1:2");
    p.setProperty("spark.mpc.keyDir", dir.toString());
    p.setProperty(DealerMain.IDLE_TIMEOUT, "soon");
    ToolOutput bad = dealer(write(p).toString());
    assertEquals(2, bad.code(), bad.toString());
    assertTrue(bad.err().contains("bad configuration") && bad.err().contains("dealer.idleTimeout"),
        bad.toString());
  }

  @Test
  void aDealerConfiguredByItsKeyFilesServesASession() throws Exception {
    Path keys = dir.resolve("keys");
    KeyGen.generateDemo(List.of("a", "b", "dealer"), keys);
    Path own = Files.createDirectories(dir.resolve("dealer-only"));
    Properties p = new Properties();
    int[] ports = {freePort(), freePort(), freePort()};
    String parties = "a=127.0.0.1:" + ports[0] + ",b=127.0.0.1:" + ports[1] + ",dealer=127.0.0.1:"
        + ports[2];
    p.setProperty("spark.mpc.party", "dealer");
    p.setProperty("spark.mpc.parties", parties);
    p.setProperty("spark.mpc.keyFile",
        Files.move(KeyGen.keyFile(keys, "dealer"), own.resolve("k.pem")).toString());
    p.setProperty("spark.mpc.certFile",
        Files.move(KeyGen.certFile(keys, "dealer"), own.resolve("c.pem")).toString());
    p.setProperty("spark.mpc.trustFile",
        Files.copy(KeyGen.trustFile(keys), own.resolve("t.pem")).toString());
    p.setProperty("spark.mpc.timeout", "20s");
    p.setProperty(DealerMain.IDLE_TIMEOUT, "20s");
    Path config = write(p);

    Duration timeout = Duration.ofSeconds(20);
    ExecutorService pool = Executors.newFixedThreadPool(3);
    List<Gateway> gateways = new ArrayList<>();
    try {
      Future<ToolOutput> run = pool.submit(() -> dealer(config.toString()));
      for (String name : List.of("a", "b")) {
        gateways.add(Gateway.start(GatewayConfig.defaults(PartyDirectory.parse(parties, name), keys)
            .withTimeout(timeout)));
      }
      List<Future<?>> parties2 = new ArrayList<>();
      for (Gateway g : gateways) {
        parties2.add(pool.submit(() -> {
          MpcContext ctx = MpcContext.establish(g, "spark-mpc", timeout, new SecureRandom(),
              "dealer");
          // No operator: the last computing party ends the dealer's session at once.
          new DealerCorrelationSource(ctx).finish(ctx.coordinates().operator("end").id());
          return null;
        }));
      }
      for (Future<?> f : parties2) {
        f.get(60, TimeUnit.SECONDS);
      }
      ToolOutput r = run.get(60, TimeUnit.SECONDS);
      assertEquals(0, r.code(), r.toString());
      assertTrue(r.out().contains("dealer dealer: served 0 operators of session "), r.toString());
    } finally {
      gateways.forEach(Gateway::close);
      pool.shutdownNow();
    }
  }
}
