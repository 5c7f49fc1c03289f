package org.sparkmpc.net;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * A party's {@link Gateway} as a standalone process ({@code bin/gateway CONFIG}), for Spark clusters
 * whose executors run in other JVMs: they reach it with a {@link GatewayClient} (same party, same
 * key files). Configured with the party's config file, the one its Spark jobs use:
 *
 * <ul>
 *   <li>{@code spark.mpc.party}: this party's name;
 *   <li>{@code spark.mpc.parties}: the party list ({@link PartyDirectory#parse}); the gateway listens
 *       on this party's entry;
 *   <li>the key files, read as the Spark side reads them ({@link PartySettings#keyFiles}): {@code
 *       spark.mpc.keyFile}, {@code spark.mpc.certFile}, {@code spark.mpc.trustFile}, each by
 *       default in {@code spark.mpc.keyDir}, the directory {@link KeyGen} wrote;
 *   <li>{@code spark.mpc.timeout} (optional, default 60s): e.g. {@code 500ms}, {@code 120s},
 *       {@code 2m}, {@code 1h};
 *   <li>{@value Mailbox#MAX_BUFFERED_BYTES_SETTING} (optional, default 512m): e.g. {@code 512m},
 *       {@code 2g}, {@code 65536k}, or plain bytes;
 *   <li>{@value GatewayConfig#HANDSHAKE_TIMEOUT_SETTING} (optional, default 5s): how long a connection
 *       may take to complete its TLS handshake before it is closed.
 * </ul>
 *
 * Other keys of the config (the job's, Spark's, the Spark side's other {@code spark.mpc.*}
 * settings) are not used here; a {@code spark.mpc.*} key no part of Spark MPC knows is refused
 * ({@link PartySettings#refuseUnknown}).
 *
 * <p>Prints {@code gateway <party> listening on host:port} once it accepts connections and runs until
 * the process is killed; a shutdown hook closes the gateway. Prints only names, addresses and
 * settings: never key material or messages.
 */
@Command(name = "gateway", mixinStandardHelpOptions = true,
    versionProvider = ToolCommands.Version.class,
    description = {"A party's standalone gateway: listens on the party's entry in "
        + "spark.mpc.parties for the other parties' gateways and for the party's own drivers and "
        + "executors (clients with the party's own certificate), and runs until stopped."},
    footer = {"", "Settings read from CONFIG (the party config its Spark jobs use):",
        "  spark.mpc.party      this party's name",
        "  spark.mpc.parties    name=host:port,... of every party",
        "  spark.mpc.keyFile    private key      (default: <keyDir>/<party>.key.pem)",
        "  spark.mpc.certFile   certificate      (default: <keyDir>/<party>.crt.pem)",
        "  spark.mpc.trustFile  all certificates (default: <keyDir>/trust.pem)",
        "  spark.mpc.keyDir     the folder keygen wrote",
        "  spark.mpc.timeout    wait for a peer (default 60s)",
        "  " + Mailbox.MAX_BUFFERED_BYTES_SETTING + "  messages kept (default 512m)",
        "  " + GatewayConfig.HANDSHAKE_TIMEOUT_SETTING + "  TLS handshake limit (default 5s)",
        "Other keys are ignored; a spark.mpc.* key Spark MPC does not know is refused.",
        "Exit status: 2 for a usage or configuration error, 1 if the gateway cannot start."})
public final class GatewayMain implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "CONFIG", description = "the party config (properties)")
  Path configFile;

  /** Picocli builds it; {@link #main} and {@link #run} run it. */
  GatewayMain() {}

  /**
   * Start the gateway described by the properties file {@code args[0]} and block until the process
   * is stopped. Exits with status 2 on a usage or configuration error, 1 if the gateway cannot start.
   */
  public static void main(String[] args) {
    int code = run(System.out, System.err, args);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** Run the command line, printing to {@code out} and {@code err}; returns the exit status. */
  static int run(PrintStream out, PrintStream err, String... args) {
    return ToolCommands.execute(new GatewayMain(), out, err, args);
  }

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter err = spec.commandLine().getErr();
    Properties p;
    try {
      p = PartySettings.load(configFile);
    } catch (UncheckedIOException e) {
      err.println("gateway: " + e.getMessage());
      return ToolCommands.USAGE;
    }
    GatewayConfig config;
    try {
      config = config(p);
    } catch (IllegalArgumentException e) {
      err.println("gateway: bad configuration in " + configFile + ": " + e.getMessage());
      return ToolCommands.USAGE;
    }
    Gateway gateway;
    try {
      gateway = Gateway.start(config);
    } catch (RuntimeException e) {
      err.println("gateway " + config.directory().self().name() + " failed to start: "
          + ToolCommands.describe(e));
      return ToolCommands.FAILED;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      gateway.close();
      stopped.countDown();
    }, "mpc-gateway-shutdown"));
    PartyDirectory.Party self = config.directory().self();
    PrintWriter out = spec.commandLine().getOut();
    out.println("gateway " + self.name() + " listening on " + self.host() + ":" + gateway.port());
    out.flush();
    stopped.await();
    return 0;
  }

  /**
   * The gateway configuration from the properties described on the class.
   *
   * @throws IllegalArgumentException naming the property that is missing, malformed or unknown
   */
  public static GatewayConfig config(Properties p) {
    PartySettings.refuseUnknown(p);
    String name = require(p, PartySettings.PARTY);
    PartyDirectory dir = PartyDirectory.parse(require(p, PartySettings.PARTIES), name);
    PartySettings.KeyFiles keys = PartySettings.keyFiles(name, p::getProperty);
    GatewayConfig gc = new GatewayConfig(dir, keys.key(), keys.cert(), keys.trust(),
        GatewayConfig.DEFAULT_TIMEOUT, GatewayConfig.DEFAULT_MAX_BUFFERED_BYTES,
        GatewayConfig.DEFAULT_HANDSHAKE_TIMEOUT);
    String timeout = p.getProperty(PartySettings.TIMEOUT);
    if (timeout != null && !timeout.isBlank()) {
      gc = gc.withTimeout(Duration.ofMillis(ConfigValues.millis(PartySettings.TIMEOUT, timeout)));
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
