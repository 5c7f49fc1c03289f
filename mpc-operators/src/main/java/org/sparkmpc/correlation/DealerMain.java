package org.sparkmpc.correlation;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Properties;
import org.sparkmpc.net.Gateway;
import org.sparkmpc.net.GatewayConfig;
import org.sparkmpc.net.PartyDirectory;
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
    PartyDirectory dir = PartyDirectory.parse(require(p, "spark.mpc.parties"), name);
    Duration timeout = Duration.ofMillis(millis(p.getProperty("spark.mpc.timeout", "120s")));
    Duration idle = Duration.ofMillis(millis(p.getProperty("dealer.idleTimeout", "1h")));
    GatewayConfig gc = GatewayConfig.defaults(dir, Path.of(require(p, "spark.mpc.keyDir")))
        .withTimeout(timeout);
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

  /** {@code 500ms}, {@code 30s}, {@code 2m}, {@code 1h}. */
  static long millis(String s) {
    String t = s.trim().toLowerCase(java.util.Locale.ROOT);
    if (t.endsWith("ms")) {
      return Long.parseLong(t.substring(0, t.length() - 2));
    }
    long unit = t.endsWith("h") ? 3_600_000 : t.endsWith("m") ? 60_000 : 1000;
    String num = Character.isDigit(t.charAt(t.length() - 1)) ? t : t.substring(0, t.length() - 1);
    return Math.round(Double.parseDouble(num) * (Character.isDigit(t.charAt(t.length() - 1))
        ? 1000 : unit));
  }
}
