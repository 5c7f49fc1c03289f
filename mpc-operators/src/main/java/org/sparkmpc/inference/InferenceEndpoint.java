package org.sparkmpc.inference;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Properties;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.DealerCorrelationSource;
import org.sparkmpc.correlation.ot.OtCorrelationSource;
import org.sparkmpc.net.Gateway;
import org.sparkmpc.net.GatewayMain;
import org.sparkmpc.net.MpcChannelException;
import org.sparkmpc.session.MpcContext;

/**
 * One party of inference sessions as a process: its TLS gateway and the sessions it opens on it,
 * configured with the properties every {@code bin/} tool takes ({@code spark.mpc.party}, {@code
 * spark.mpc.parties}, {@code spark.mpc.keyDir}, {@code spark.mpc.timeout}, and for the correlated
 * randomness {@code spark.mpc.dealer} and {@code spark.mpc.correlations}), plus the inference
 * settings:
 *
 * <ul>
 *   <li>{@code inference.client}: the client party's name (required at servers and the dealer
 *       loop only for messages; the client is this party at {@code predict});
 *   <li>{@code inference.scale}, {@code inference.maxFeatureBits}, {@code inference.poolDepth},
 *       {@code inference.chunkRows}: {@link InferenceSettings}, the same at every party;
 *   <li>{@code spark.mpc.session.name}: the name the parties' session hellos use (default
 *       {@value #DEFAULT_SESSION_NAME}).
 * </ul>
 *
 * <p>Reveals nothing: it prints and throws names, addresses and settings only.
 */
public final class InferenceEndpoint implements AutoCloseable {
  /** The session name used when {@code spark.mpc.session.name} is not set. */
  public static final String DEFAULT_SESSION_NAME = "spark-mpc-inference";

  private final Properties conf;
  private final Gateway gateway;
  private final String dealer;
  private final String correlations;

  private InferenceEndpoint(Properties conf, Gateway gateway) {
    this.conf = conf;
    this.gateway = gateway;
    String d = conf.getProperty("spark.mpc.dealer", "").trim();
    this.dealer = d.isEmpty() ? null : d;
    String c = conf.getProperty(OtCorrelationSource.SETTING, "auto").trim();
    if (c.equals("auto")) {
      c = dealer != null ? "dealer" : "ot";
    }
    if (!c.equals("dealer") && !c.equals("ot")) {
      throw new MpcInputException(OtCorrelationSource.SETTING + " must be auto, dealer or ot, was '"
          + c + "'");
    }
    if (c.equals("dealer") && dealer == null) {
      throw new MpcInputException(OtCorrelationSource.SETTING + "=dealer needs spark.mpc.dealer "
          + "(the dealer's name, listed last in spark.mpc.parties)");
    }
    this.correlations = c;
  }

  /** Read a properties file. */
  public static Properties load(Path file) {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
    return p;
  }

  /** Start this party's gateway as the properties describe it. */
  public static InferenceEndpoint start(Properties conf) {
    Gateway g = Gateway.start(GatewayMain.config(conf));
    try {
      return new InferenceEndpoint(conf, g);
    } catch (RuntimeException e) {
      g.close();
      throw e;
    }
  }

  /** This party's gateway. */
  public Gateway gateway() {
    return gateway;
  }

  /** This party's name. */
  public String party() {
    return gateway.directory().self().name();
  }

  /** The dealer's name, or null when the parties use oblivious transfer. */
  public String dealer() {
    return correlations.equals("dealer") ? dealer : null;
  }

  /** The timeout of every wait for a peer ({@code spark.mpc.timeout}). */
  public Duration timeout() {
    return gateway.config().timeout();
  }

  /** The settings of the properties: {@code inference.*} over the defaults. */
  public InferenceSettings settings() {
    InferenceSettings d = InferenceSettings.DEFAULTS;
    return new InferenceSettings(intSetting("inference.scale", d.scale()),
        intSetting("inference.maxFeatureBits", d.maxFeatureBits()),
        intSetting("inference.poolDepth", d.poolDepth()),
        intSetting("inference.chunkRows", d.chunkRows()));
  }

  private int intSetting(String key, int dflt) {
    String v = conf.getProperty(key, "").trim();
    try {
      return v.isEmpty() ? dflt : Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new MpcInputException(key + " must be an integer, was '" + v + "'");
    }
  }

  /** The client's name ({@code inference.client}), or {@code dflt} when it is not set. */
  public String client(String dflt) {
    String c = conf.getProperty("inference.client", "").trim();
    if (c.isEmpty()) {
      if (dflt == null) {
        throw new MpcInputException("no inference.client: the name of the client party");
      }
      return dflt;
    }
    return c;
  }

  /** How long one attempt at a session hello waits for the other members. */
  static final Duration HELLO_ATTEMPT = Duration.ofSeconds(5);

  /**
   * Agree a new session with every member (the peers and the dealer, if any), retrying the
   * session hello every few seconds until they all answer: a member that joins late (a client
   * that starts after the server, or whose earlier process took the server's last hello with it)
   * gets a fresh hello, and members whose hellos crossed agree at the next attempt. The session's
   * later waits use the full timeout.
   *
   * @param within how long to keep trying (null: until a session is agreed)
   * @throws MpcChannelException from the last attempt, when {@code within} has passed
   */
  public MpcContext establish(Duration within) {
    return establish(within, dealer);
  }

  /** As {@link #establish(Duration)}, the dealer of the session named explicitly. */
  MpcContext establish(Duration within, String dealerName) {
    long deadline = within == null ? Long.MAX_VALUE : System.nanoTime() + within.toNanos();
    Duration attempt = timeout().compareTo(HELLO_ATTEMPT) < 0 ? timeout() : HELLO_ATTEMPT;
    while (true) {
      try {
        MpcContext hello = MpcContext.establish(gateway, sessionName(), attempt,
            new SecureRandom(), dealerName);
        return new MpcContext(hello.directory(), hello.channel(), hello.sessionId(), hello.keys(),
            timeout(), hello.parties());
      } catch (MpcChannelException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new MpcChannelException("interrupted while agreeing a session");
        }
      }
    }
  }

  /** The name the session hellos use ({@code spark.mpc.session.name}). */
  public String sessionName() {
    return conf.getProperty("spark.mpc.session.name", DEFAULT_SESSION_NAME).trim();
  }

  /** The correlation source of a session: the dealer's, or oblivious transfer (two parties). */
  public CorrelationSource source(MpcContext ctx) {
    return correlations.equals("dealer") ? new DealerCorrelationSource(ctx)
        : new OtCorrelationSource(ctx);
  }

  /** {@code dealer} or {@code ot}. */
  public String correlations() {
    return correlations;
  }

  @Override
  public void close() {
    gateway.close();
  }
}
