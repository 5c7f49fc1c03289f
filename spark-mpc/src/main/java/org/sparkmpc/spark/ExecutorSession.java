package org.sparkmpc.spark;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.sparkmpc.crypto.PairwiseKeys;
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
 * ticket or one presented for another session does not open. The executors need that file anyway,
 * to reach the gateway as the party, so {@code spark.mpc.keyDir} (or the key file settings) must
 * name the same files on every node of the party's cluster.
 *
 * <p><b>End of a session.</b> The driver ends a session at the party's gateway ({@link
 * MpcRuntime#close}). An executor keeps an opened session only until it learns that: every {@link
 * #SWEEP_INTERVAL} a daemon thread asks the gateway about each open session, and opening another
 * session asks first too; an ended session is removed, its gateway client closed and its pairwise
 * keys overwritten with zeros ({@link PairwiseKeys#destroy}). A task that still brings the ticket
 * of an ended session is refused instead of opening it again.
 */
final class ExecutorSession {
  /**
   * The Spark local property that carries the ticket. Spark copies local properties into its event
   * log; the name contains "secret" so that Spark's default {@code spark.redaction.regex} redacts
   * it there (the keys in it are sealed anyway).
   */
  static final String TICKET_PROPERTY = "spark.mpc.session.secretTicket";

  /** How often an executor asks the gateway whether its open sessions ended. */
  static final Duration SWEEP_INTERVAL = Duration.ofSeconds(10);

  private static final Map<String, ExecutorSession> OPEN = new ConcurrentHashMap<>();
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(ExecutorSession.class);
  private static volatile Thread sweeper;
  /** The sweeper's interval; tests shorten it. */
  static volatile Duration sweepInterval = SWEEP_INTERVAL;

  private final String sessionId;
  private final MpcContext context;
  private final GatewayClient client;
  private final CorrelationSource source;
  private final String correlations;

  private ExecutorSession(String sessionId, MpcContext context, GatewayClient client,
      CorrelationSource source, String correlations) {
    this.sessionId = sessionId;
    this.context = context;
    this.client = client;
    this.source = source;
    this.correlations = correlations;
  }

  MpcContext context() {
    return context;
  }

  /** The session's pairwise keys (destroyed once the session is dropped). */
  PairwiseKeys keys() {
    return context.keys();
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
    return of(sessionId, ticket);
  }

  /**
   * The session {@code sessionId}, opened from {@code ticket} if this JVM has not opened it yet;
   * opening one first drops the sessions that ended at the gateway.
   */
  static ExecutorSession of(String sessionId, String ticket) {
    ExecutorSession open = OPEN.get(sessionId);
    if (open != null) {
      return open;
    }
    sweep(sessionId);
    open = OPEN.computeIfAbsent(sessionId, sid -> open(sid, ticket));
    startSweeper();
    return open;
  }

  /** Whether this JVM holds session {@code sessionId} open. */
  static boolean isOpen(String sessionId) {
    return OPEN.containsKey(sessionId);
  }

  /**
   * Ask the gateway about every open session but {@code except} (null: all) and drop those that
   * ended. A gateway that cannot be asked (unavailable, an older version) leaves them open.
   */
  static void sweep(String except) {
    for (ExecutorSession s : OPEN.values()) {
      if (s.sessionId.equals(except)) {
        continue;
      }
      boolean ended;
      try {
        ended = s.client.sessionEnded(s.sessionId);
      } catch (RuntimeException e) {
        LOG.debug("could not ask the gateway whether session {} ended: {}", s.sessionId, e.getMessage());
        continue;
      }
      if (ended) {
        drop(s.sessionId, "it ended at the party's gateway");
      }
    }
  }

  /** Drop session {@code sessionId} from this JVM, if open: close its client, wipe its keys. */
  static void drop(String sessionId, String why) {
    ExecutorSession s = OPEN.remove(sessionId);
    if (s != null) {
      s.close();
      LOG.info("party {}: this JVM dropped session {} ({}); its keys were wiped",
          s.context.directory().self().name(), sessionId, why);
    }
  }

  private void close() {
    try {
      if (source != null) {
        source.close();
      }
    } catch (RuntimeException e) {
      LOG.debug("closing the correlation source of session {} failed: {}", sessionId, e.getMessage());
    } finally {
      client.close();
      context.keys().destroy();
    }
  }

  private static void startSweeper() {
    if (sweeper != null) {
      return;
    }
    synchronized (ExecutorSession.class) {
      if (sweeper != null) {
        return;
      }
      Thread t = new Thread(ExecutorSession::sweepForever, "mpc-executor-session-sweeper");
      t.setDaemon(true);
      t.start();
      sweeper = t;
    }
  }

  private static void sweepForever() {
    while (true) {
      try {
        Thread.sleep(Math.max(1, sweepInterval.toMillis()));
      } catch (InterruptedException e) {
        return;
      }
      if (!OPEN.isEmpty()) {
        try {
          sweep(null);
        } catch (RuntimeException e) {
          LOG.debug("sweeping ended sessions failed: {}", e.getClass().getName());
        }
      }
    }
  }

  private static ExecutorSession open(String sessionId, String ticketText) {
    SessionTicket t = SessionTicket.read(ticketText, sessionId);
    PartyDirectory dir = t.directory;
    GatewayClient client = null;
    try {
      GatewayConfig gc = new GatewayConfig(dir, t.key, t.cert, t.trust, t.timeout,
          MpcConf.MAX_BUFFERED.parse(MpcConf.MAX_BUFFERED.defaultValue()));
      client = new GatewayClient(gc, t.gatewayHost, t.gatewayPort);
      if (endedAtGateway(client, sessionId)) {
        throw new IllegalStateException("session " + sessionId + " has ended at the gateway of party '"
            + dir.self().name() + "' (" + t.gatewayAddress() + "); a task of it cannot run anymore");
      }
      MpcContext ctx = new MpcContext(dir, client, sessionId, t.keys, t.timeout, t.computing);
      String correlations = t.correlations;
      CorrelationSource source = !correlations.equals("ot") && ctx.dealer() >= 0
          ? new DealerCorrelationSource(ctx) : null;
      LOG.info("party {}: this executor opened session {} through the gateway at {}",
          dir.self().name(), sessionId, t.gatewayAddress());
      return new ExecutorSession(sessionId, ctx, client, source, correlations);
    } catch (RuntimeException e) {
      if (client != null) {
        client.close();
      }
      t.keys.destroy();
      throw e;
    }
  }

  /** Whether the gateway says the session ended; false if it cannot tell (its calls will). */
  private static boolean endedAtGateway(GatewayClient client, String sessionId) {
    try {
      return client.sessionEnded(sessionId);
    } catch (RuntimeException e) {
      LOG.debug("could not ask the gateway whether session {} ended: {}", sessionId, e.getMessage());
      return false;
    }
  }
}
