package org.sparkmpc.spark;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.TaskContext;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.DealerCorrelationSource;
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
 * <p>The ticket ({@link SessionTicket}) holds the party list, the paths of the party's key files,
 * the gateway's address, the session id, and the pairwise keys <b>sealed</b> (AES-256-GCM) under a
 * key derived from the party's private key for that purpose only, bound to the party, the session,
 * the gateway and every other field of the ticket: it may pass through Spark's RPC, its event log
 * and its UI without showing them, only a holder of the party's key file opens it, and an altered
 * ticket or one presented for another session does not open. The executors
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

  /** The ticket of the driver's session {@code ctx} (see {@link SessionTicket}). */
  static String ticket(MpcContext ctx, Path key, Path cert, Path trust, String gatewayHost,
      int gatewayPort, Duration timeout, String correlations) {
    return SessionTicket.write(ctx.directory(), ctx.parties(), ctx.sessionId(), ctx.keys(), key, cert,
        trust, gatewayHost, gatewayPort, timeout, correlations);
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

  private static ExecutorSession open(String sessionId, String ticketText) {
    SessionTicket t = SessionTicket.read(ticketText, sessionId);
    PartyDirectory dir = t.directory;
    GatewayConfig gc = new GatewayConfig(dir, t.key, t.cert, t.trust, t.timeout,
        MpcConf.MAX_BUFFERED.parse(MpcConf.MAX_BUFFERED.defaultValue()));
    GatewayClient client = new GatewayClient(gc, t.gatewayHost, t.gatewayPort);
    MpcContext ctx = new MpcContext(dir, client, sessionId, t.keys, t.timeout, t.computing);
    String correlations = t.correlations;
    CorrelationSource source = !correlations.equals("ot") && ctx.dealer() >= 0
        ? new DealerCorrelationSource(ctx) : null;
    LOG.info("party {}: this executor opened session {} through the gateway at {}",
        dir.self().name(), sessionId, t.gatewayAddress());
    return new ExecutorSession(ctx, source, correlations);
  }
}
