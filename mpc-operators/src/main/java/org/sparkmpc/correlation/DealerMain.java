package org.sparkmpc.correlation;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Properties;
import org.sparkmpc.net.Gateway;
import org.sparkmpc.net.ConfigValues;
import org.sparkmpc.net.GatewayConfig;
import org.sparkmpc.net.GatewayMain;
import org.sparkmpc.session.MpcContext;

/**
 * The dealer as a process of its own: its own gateway, key and certificate on the channel, one
 * session of the parties' job, then it exits. Configured with the same keys as a party
 * ({@code spark.mpc.party} is the dealer's own name, listed last in {@code spark.mpc.parties};
 * {@code spark.mpc.keyDir}, {@code spark.mpc.timeout}, {@code spark.mpc.session.name}) plus
 * {@code dealer.idleTimeout}, how long it waits for the parties' next operator.
 *
 * <p>Trust: the dealer must not collude with any party: it could reconstruct every product's
 * masks. It never sees shares of the parties' data.
 */
public final class DealerMain {
  private DealerMain() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: dealer <dealer.properties>");
      System.exit(2);
    }
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(Path.of(args[0]))) {
      p.load(in);
    }
    String name = require(p, "spark.mpc.party");
    if (p.getProperty("spark.mpc.timeout", "").isBlank()) {
      p.setProperty("spark.mpc.timeout", "120s");
    }
    GatewayConfig gc = GatewayMain.config(p);
    Duration timeout = gc.timeout();
    Duration idle = Duration.ofMillis(ConfigValues.millis("dealer.idleTimeout",
        p.getProperty("dealer.idleTimeout", "1h")));
    try (Gateway gw = Gateway.start(gc)) {
      MpcContext ctx = MpcContext.establish(gw, p.getProperty("spark.mpc.session.name",
          "spark-mpc"), timeout, new SecureRandom(), name);
      long served = DealerService.serve(ctx, idle);
      System.out.println("dealer " + name + ": served " + served + " operators of session "
          + ctx.sessionId());
      gw.endSession(ctx.sessionId());
    } catch (RuntimeException e) {
      System.err.println("dealer " + name + " failed: " + e.getMessage());
      System.exit(1);
    }
  }

  private static String require(Properties p, String key) {
    String v = p.getProperty(key);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("the dealer config has no '" + key + "'");
    }
    return v.trim();
  }
}
