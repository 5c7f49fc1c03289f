package org.sparkmpc.correlation;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.sparkmpc.net.ConfigValues;
import org.sparkmpc.net.Gateway;
import org.sparkmpc.net.GatewayConfig;
import org.sparkmpc.net.GatewayMain;
import org.sparkmpc.net.PartySettings;
import org.sparkmpc.net.ToolCommands;
import org.sparkmpc.session.MpcContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The dealer as a process of its own ({@code bin/dealer CONFIG}): its own gateway, key and
 * certificate on the channel, one session of the parties' job, then it exits. Configured with the
 * same keys as a party, read the same way ({@link GatewayMain#config}: {@code spark.mpc.party} is
 * the dealer's own name, listed last in {@code spark.mpc.parties}; the key files; {@code
 * spark.mpc.timeout}, default 120s as on the Spark side; {@code spark.mpc.session.name}) plus
 * {@value #IDLE_TIMEOUT}, how long it waits for the parties' next operator.
 *
 * <p>Trust: the dealer must not collude with any party: it could reconstruct every product's
 * masks. It never sees shares of the parties' data.
 */
@Command(name = "dealer", mixinStandardHelpOptions = true,
    versionProvider = ToolCommands.Version.class,
    description = {"The dealer service: takes part in one session of the parties' job as the "
        + "last member of spark.mpc.parties, hands out the correlated randomness of its secure "
        + "operators, and exits when the parties end the session.",
        "It must be run by an organisation that colludes with no party."},
    footer = {"", "Settings read from CONFIG (a party config, the dealer's name as the party):",
        "  spark.mpc.party      the dealer's name (listed last in spark.mpc.parties)",
        "  spark.mpc.parties    name=host:port,... of every party and the dealer",
        "  spark.mpc.keyFile    private key      (default: <keyDir>/<party>.key.pem)",
        "  spark.mpc.certFile   certificate      (default: <keyDir>/<party>.crt.pem)",
        "  spark.mpc.trustFile  all certificates (default: <keyDir>/trust.pem)",
        "  spark.mpc.keyDir     the folder keygen wrote",
        "  spark.mpc.timeout    wait for a party (default 120s)",
        "  spark.mpc.session.name  the joint job's name (default spark-mpc)",
        "  spark.mpc.gateway.*  as for bin/gateway",
        "  " + DealerMain.IDLE_TIMEOUT + "   wait for the parties' next operator (default 1h)",
        "Other keys are ignored; a spark.mpc.* key Spark MPC does not know is refused.",
        "Exit status: 2 for a usage or configuration error, 1 if the session failed."})
public final class DealerMain implements Callable<Integer> {
  /** How long the dealer waits for the parties' next operator before giving the session up. */
  public static final String IDLE_TIMEOUT = "dealer.idleTimeout";

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "CONFIG", description = "the dealer's config (properties)")
  Path configFile;

  /** Picocli builds it; {@link #main} and {@link #run} run it. */
  DealerMain() {}

  /** Serve one session as the properties file {@code args[0]} describes, then exit. */
  public static void main(String[] args) {
    int code = run(System.out, System.err, args);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** Run the command line, printing to {@code out} and {@code err}; returns the exit status. */
  static int run(PrintStream out, PrintStream err, String... args) {
    return ToolCommands.execute(new DealerMain(), out, err, args);
  }

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    Properties p;
    try {
      p = PartySettings.load(configFile);
    } catch (UncheckedIOException e) {
      err.println("dealer: " + e.getMessage());
      return ToolCommands.USAGE;
    }
    String name = p.getProperty(PartySettings.PARTY, "").trim();
    GatewayConfig gc;
    Duration idle;
    try {
      if (p.getProperty(PartySettings.TIMEOUT, "").isBlank()) {
        p.setProperty(PartySettings.TIMEOUT, "120s");
      }
      gc = GatewayMain.config(p);
      idle = Duration.ofMillis(ConfigValues.millis(IDLE_TIMEOUT,
          p.getProperty(IDLE_TIMEOUT, "1h")));
    } catch (IllegalArgumentException e) {
      err.println("dealer: bad configuration in " + configFile + ": " + e.getMessage());
      return ToolCommands.USAGE;
    }
    try (Gateway gw = Gateway.start(gc)) {
      MpcContext ctx = MpcContext.establish(gw, p.getProperty(PartySettings.SESSION_NAME,
          "spark-mpc"), gc.timeout(), new SecureRandom(), name);
      long served = DealerService.serve(ctx, idle);
      PrintWriter out = spec.commandLine().getOut();
      out.println("dealer " + name + ": served " + served + " operators of session "
          + ctx.sessionId());
      out.flush();
      gw.endSession(ctx.sessionId());
    } catch (RuntimeException e) {
      err.println("dealer " + name + " failed: " + ToolCommands.describe(e));
      return ToolCommands.FAILED;
    }
    return 0;
  }
}
