package org.sparkmpc.spark;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.TaskContext;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.DealerCorrelationSource;
import org.sparkmpc.crypto.Hkdf;
import org.sparkmpc.crypto.PairwiseKeys;
import org.sparkmpc.net.GatewayClient;
import org.sparkmpc.net.GatewayConfig;
import org.sparkmpc.net.PartyDirectory;
import org.sparkmpc.session.MpcContext;

/**
 * A party's session as seen from one of its executors in another JVM (a Spark cluster's
 * executor): the driver attaches a <em>ticket</em> to every task (a Spark local property), and the
 * first task of the session in an executor opens it: a {@link GatewayClient} to the party's gateway
 * and the session's pairwise keys.
 *
 * <p>The ticket holds the party list, the paths of the party's key files, the gateway's address,
 * the session id, and the pairwise keys <b>sealed</b> (AES-256-GCM) under a key derived from the
 * party's private key file and the session id: it may pass through Spark's RPC, its event log and
 * its UI without showing them, and only a holder of the party's key file opens it. The executors
 * need that file anyway, to reach the gateway as the party, so {@code spark.mpc.keyDir} (or the key
 * file settings) must name the same files on every node of the party's cluster.
 */
final class ExecutorSession {
  /**
   * The Spark local property that carries the ticket. Spark copies local properties into its event
   * log; the name contains "secret" so that Spark's default {@code spark.redaction.regex} redacts
   * it there (the keys in it are sealed anyway).
   */
  static final String TICKET_PROPERTY = "spark.mpc.session.secretTicket";

  private static final Map<String, ExecutorSession> OPEN = new ConcurrentHashMap<>();
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(ExecutorSession.class);

  private final MpcContext context;
  private final CorrelationSource source;
  private final String correlations;

  private ExecutorSession(MpcContext context, CorrelationSource source, String correlations) {
    this.context = context;
    this.source = source;
    this.correlations = correlations;
  }

  MpcContext context() {
    return context;
  }

  CorrelationSource correlations() {
    if (source != null) {
      return source;
    }
    if (correlations.equals("ot")) {
      throw new MpcInputException(MpcConf.CORRELATIONS.key() + "=ot keeps its triples in the "
          + "driver, and this task runs in another JVM: use the dealer on a cluster, or run the "
          + "executors in the driver's JVM (local mode)");
    }
    throw MpcRuntime.noCorrelations("multiplying secure columns");
  }

  /** The key that seals the session keys: from the party's private key file and the session. */
  static byte[] wrapKey(Path keyFile, String sessionId) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(keyFile));
      return Hkdf.derive(digest, sessionId.getBytes(StandardCharsets.UTF_8),
          "sparkmpc/executor-ticket", 32);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the party's key file " + keyFile, e);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The ticket of the driver's session {@code ctx}. */
  static String ticket(MpcContext ctx, Path key, Path cert, Path trust, String gatewayHost,
      int gatewayPort, Duration timeout, String correlations) {
    Properties p = new Properties();
    List<String> parties = new ArrayList<>();
    for (PartyDirectory.Party party : ctx.directory().parties()) {
      parties.add(party.name() + "=" + party.host() + ":" + party.port());
    }
    p.setProperty("party", ctx.directory().self().name());
    p.setProperty("parties", String.join(",", parties));
    p.setProperty("computing", Integer.toString(ctx.parties()));
    p.setProperty("key", key.toAbsolutePath().toString());
    p.setProperty("cert", cert.toAbsolutePath().toString());
    p.setProperty("trust", trust.toAbsolutePath().toString());
    p.setProperty("gatewayHost", gatewayHost);
    p.setProperty("gatewayPort", Integer.toString(gatewayPort));
    p.setProperty("timeoutMs", Long.toString(timeout.toMillis()));
    p.setProperty("session", ctx.sessionId());
    p.setProperty("correlations", correlations);
    p.setProperty("keys", Base64.getEncoder().encodeToString(
        ctx.keys().seal(wrapKey(key, ctx.sessionId()))));
    StringWriter w = new StringWriter();
    try {
      p.store(w, null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }

  /** The session {@code sessionId} in this executor, opened from the running task's ticket. */
  static ExecutorSession of(String sessionId) {
    ExecutorSession open = OPEN.get(sessionId);
    if (open != null) {
      return open;
    }
    TaskContext task = TaskContext.get();
    String ticket = task == null ? null : task.getLocalProperty(TICKET_PROPERTY);
    if (ticket == null) {
      throw new IllegalStateException("no MPC session " + sessionId + " in this JVM, and no "
          + "session ticket with the task");
    }
    return OPEN.computeIfAbsent(sessionId, sid -> open(sid, ticket));
  }

  private static ExecutorSession open(String sessionId, String ticket) {
    Properties p = new Properties();
    try {
      p.load(new StringReader(ticket));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (!sessionId.equals(p.getProperty("session"))) {
      throw new IllegalStateException("the task's session ticket is for another session");
    }
    Path key = Path.of(p.getProperty("key"));
    PairwiseKeys keys = PairwiseKeys.unseal(wrapKey(key, sessionId),
        Base64.getDecoder().decode(p.getProperty("keys")));
    PartyDirectory dir = PartyDirectory.parse(p.getProperty("parties"), p.getProperty("party"));
    Duration timeout = Duration.ofMillis(Long.parseLong(p.getProperty("timeoutMs")));
    GatewayConfig gc = new GatewayConfig(dir, key, Path.of(p.getProperty("cert")),
        Path.of(p.getProperty("trust")), timeout,
        MpcConf.MAX_BUFFERED.parse(MpcConf.MAX_BUFFERED.defaultValue()));
    String gatewayHost = p.getProperty("gatewayHost");
    int gatewayPort = Integer.parseInt(p.getProperty("gatewayPort"));
    GatewayClient client = new GatewayClient(gc, gatewayHost, gatewayPort);
    MpcContext ctx = new MpcContext(dir, client, sessionId, keys, timeout,
        Integer.parseInt(p.getProperty("computing")));
    String correlations = p.getProperty("correlations");
    CorrelationSource source = !correlations.equals("ot") && ctx.dealer() >= 0
        ? new DealerCorrelationSource(ctx) : null;
    LOG.info("party {}: this executor opened session {} through the gateway at {}:{}",
        dir.self().name(), sessionId, gatewayHost, gatewayPort);
    return new ExecutorSession(ctx, source, correlations);
  }
}
