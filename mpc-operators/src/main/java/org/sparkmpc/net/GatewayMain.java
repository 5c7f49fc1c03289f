package org.sparkmpc.net;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * A party's {@link Gateway} as a standalone process, for Spark clusters whose executors run in other
 * JVMs: they reach it with a {@link GatewayClient} (same party, same key files). Configured with one
 * properties file:
 *
 * <ul>
 *   <li>{@code spark.mpc.party}: this party's name;
 *   <li>{@code spark.mpc.parties}: the party list ({@link PartyDirectory#parse}); the gateway listens
 *       on this party's entry;
 *   <li>{@code spark.mpc.keyDir}: the directory {@link KeyGen} wrote ({@code NAME.key.pem}, {@code
 *       NAME.crt.pem}, {@code trust.pem});
 *   <li>{@code spark.mpc.timeout} (optional, default 60s): e.g. {@code 500ms}, {@code 120s},
 *       {@code 2m}, {@code 1h};
 *   <li>{@value Mailbox#MAX_BUFFERED_BYTES_SETTING} (optional, default 512m): e.g. {@code 512m},
 *       {@code 2g}, {@code 65536k}, or plain bytes;
 *   <li>{@value GatewayConfig#HANDSHAKE_TIMEOUT_SETTING} (optional, default 5s): how long a connection
 *       may take to complete its TLS handshake before it is closed.
 * </ul>
 *
 * Prints {@code gateway <party> listening on host:port} once it accepts connections and runs until the
 * process is killed; a shutdown hook closes the gateway. Prints only names, addresses and settings:
 * never key material or messages.
 */
public final class GatewayMain {
  private GatewayMain() {}

  /**
   * Start the gateway described by the properties file {@code args[0]} and block until the process
   * is stopped. Exits with status 2 on a usage or configuration error, 1 if the gateway cannot start.
   */
  public static void main(String[] args) throws IOException, InterruptedException {
    if (args.length != 1) {
      System.err.println("usage: gateway <gateway.properties>");
      System.exit(2);
      return;
    }
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(Path.of(args[0]))) {
      p.load(in);
    }
    GatewayConfig config;
    try {
      config = config(p);
    } catch (IllegalArgumentException e) {
      System.err.println("gateway: bad configuration in " + args[0] + ": " + e.getMessage());
      System.exit(2);
      return;
    }
    Gateway gateway;
    try {
      gateway = Gateway.start(config);
    } catch (RuntimeException e) {
      System.err.println("gateway " + config.directory().self().name() + " failed to start: " + e.getMessage());
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      gateway.close();
      stopped.countDown();
    }, "mpc-gateway-shutdown"));
    PartyDirectory.Party self = config.directory().self();
    System.out.println("gateway " + self.name() + " listening on " + self.host() + ":" + gateway.port());
    System.out.flush();
    stopped.await();
  }

  /**
   * The gateway configuration from the properties described on the class.
   *
   * @throws IllegalArgumentException naming the property that is missing or malformed
   */
  public static GatewayConfig config(Properties p) {
    String name = require(p, "spark.mpc.party");
    PartyDirectory dir = PartyDirectory.parse(require(p, "spark.mpc.parties"), name);
    GatewayConfig gc = GatewayConfig.defaults(dir, Path.of(require(p, "spark.mpc.keyDir")));
    String timeout = p.getProperty("spark.mpc.timeout");
    if (timeout != null && !timeout.isBlank()) {
      gc = gc.withTimeout(Duration.ofMillis(ConfigValues.millis("spark.mpc.timeout", timeout)));
    }
    String max = p.getProperty(Mailbox.MAX_BUFFERED_BYTES_SETTING);
    if (max != null && !max.isBlank()) {
      gc = gc.withMaxBufferedBytes(ConfigValues.bytes(Mailbox.MAX_BUFFERED_BYTES_SETTING, max));
    }
    String handshake = p.getProperty(GatewayConfig.HANDSHAKE_TIMEOUT_SETTING);
    if (handshake != null && !handshake.isBlank()) {
      gc = gc.withHandshakeTimeout(Duration.ofMillis(
          ConfigValues.millis(GatewayConfig.HANDSHAKE_TIMEOUT_SETTING, handshake)));
    }
    return gc;
  }

  private static String require(Properties p, String key) {
    String v = p.getProperty(key);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("no '" + key + "'");
    }
    return v.trim();
  }
}
