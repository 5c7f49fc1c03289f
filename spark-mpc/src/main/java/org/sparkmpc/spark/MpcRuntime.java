package org.sparkmpc.spark;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.List;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.DealerCorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.net.Gateway;
import org.sparkmpc.net.GatewayConfig;
import org.sparkmpc.net.PartyDirectory;
import org.sparkmpc.net.PartySettings;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;

/**
 * The party's MPC runtime inside one JVM: the gateway (embedded in the driver), the agreed session
 * (whose {@link org.sparkmpc.session.Coordinates} give secure operators deterministic ids and
 * their rounds and streams), and the partitioning contracts of the secure tables. Tasks find it by
 * session id ({@link #context(String)}), since the channel cannot be serialised into a closure.
 */
public final class MpcRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MpcRuntime.class);
  private static final Map<String, MpcRuntime> BY_SESSION = new ConcurrentHashMap<>();
  private static volatile MpcRuntime current;

  private final org.sparkmpc.net.Channel gateway;
  private final String ticket;
  private final org.apache.spark.SparkContext sparkContext;
  private final MpcContext context;
  private final int scaleBits;
  /** The last operator begun whose correlated randomness was not asked for yet, or null. */
  private OperatorScope unrequested;
  private final AtomicLong tables = new AtomicLong();
  private final Map<String, org.sparkmpc.spark.table.SecureTable> tablesById =
      new ConcurrentHashMap<>();

  private final DealerCorrelationSource dealer;
  private final CorrelationSource source;
  private final SecureTaskFailures failFast;
  private final FinishedOperators finished;
  private volatile boolean closed;
  private PolicyGuard guard;
  private final org.sparkmpc.spark.dp.ClipBounds clipBounds = new org.sparkmpc.spark.dp.ClipBounds();

  private MpcRuntime(org.sparkmpc.net.Channel gateway, MpcContext context, int scaleBits,
      String correlations, String ticket, org.apache.spark.SparkContext sparkContext) {
    this.gateway = gateway;
    this.ticket = ticket;
    this.sparkContext = sparkContext;
    this.context = context;
    this.scaleBits = scaleBits;
    this.dealer = context.dealer() >= 0 ? new DealerCorrelationSource(context) : null;
    if (correlations.equals("dealer") && dealer == null) {
      throw new org.sparkmpc.MpcInputException(MpcConf.CORRELATIONS.key() + "=dealer needs "
          + MpcConf.DEALER.key() + " (the dealer's name, listed last in "
          + MpcConf.PARTIES.key() + ")");
    }
    if (correlations.equals("ot")) {
      if (context.parties() != 2) {
        throw new org.sparkmpc.MpcInputException(MpcConf.CORRELATIONS.key() + "=ot is for two "
            + "parties; this session has " + context.parties() + " (use the dealer)");
      }
      this.source = new org.sparkmpc.correlation.ot.OtCorrelationSource(context);
    } else {
      this.source = dealer;
    }
    this.failFast = new SecureTaskFailures(sparkContext);
    sparkContext.addSparkListener(failFast);
    this.finished = new FinishedOperators(sparkContext, this);
    sparkContext.addSparkListener(finished);
  }

  /** The runtime of {@code spark}'s party, started on first use from the {@code spark.mpc.*} settings. */
  public static synchronized MpcRuntime getOrStart(SparkSession spark) {
    MpcRuntime rt = current;
    if (rt != null) {
      return rt;
    }
    String party = MpcConf.PARTY.get(spark);
    // The data policy is read and checked before this party joins: a mistake in it stops this
    // party at once, instead of failing the others mid-job.
    String policyFile = MpcConf.POLICY.get(spark).trim();
    org.sparkmpc.connectors.policy.Policy policy = policyFile.isEmpty() ? null
        : org.sparkmpc.connectors.policy.Policy.load(Path.of(policyFile));
    if (policy != null) {
      policy.checkParty(party);
    }
    PartyDirectory dir = PartyDirectory.parse(MpcConf.PARTIES.get(spark), party);
    // The same precedence and errors as the standalone gateway and the dealer.
    PartySettings.KeyFiles keys = PartySettings.keyFiles(party, k -> spark.conf().get(k, ""));
    Path key = keys.key();
    Path cert = keys.cert();
    Path trust = keys.trust();
    Duration timeout = MpcConf.TIMEOUT.get(spark);
    GatewayConfig gc = new GatewayConfig(dir, key, cert, trust, timeout,
        MpcConf.MAX_BUFFERED.get(spark), MpcConf.HANDSHAKE_TIMEOUT.get(spark));
    String address = MpcConf.GATEWAY_ADDRESS.get(spark).trim();
    org.sparkmpc.net.Channel gw;
    String gatewayHost;
    int gatewayPort;
    if (address.isEmpty()) {
      Gateway embedded = Gateway.start(gc);
      gw = embedded;
      gatewayHost = dir.self().host();
      gatewayPort = embedded.port();
      LOG.info("party {}: gateway listening on {}; agreeing a session with {} parties", party,
          dir.self().address(), dir.size());
    } else {
      int colon = address.lastIndexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException(MpcConf.GATEWAY_ADDRESS.key() + " must be host:port, "
            + "was '" + address + "'");
      }
      gatewayHost = address.substring(0, colon);
      gatewayPort = Integer.parseInt(address.substring(colon + 1));
      gw = new org.sparkmpc.net.GatewayClient(gc, gatewayHost, gatewayPort);
      LOG.info("party {}: using the party's gateway at {}; agreeing a session with {} parties",
          party, address, dir.size());
    }
    try {
      String dealer = MpcConf.DEALER.get(spark);
      MpcContext ctx = MpcContext.establish(gw, MpcConf.SESSION_NAME.get(spark), timeout,
          new SecureRandom(), dealer.isEmpty() ? null : dealer);
      LOG.info("party {}: session {} agreed{}", party, ctx.sessionId(),
          dealer.isEmpty() ? "" : " (dealer " + dealer + ")");
      String correlations = MpcConf.CORRELATIONS.get(spark);
      String ticket = ExecutorSession.ticket(ctx, key, cert, trust, gatewayHost, gatewayPort,
          timeout, correlations);
      rt = new MpcRuntime(gw, ctx, MpcConf.SCALE_BITS.get(spark), correlations, ticket,
          spark.sparkContext());
      rt.guard = new PolicyGuard(rt, policyFile, policy);
    } catch (RuntimeException e) {
      gw.close();
      throw e;
    }
    BY_SESSION.put(rt.context.sessionId(), rt);
    current = rt;
    return rt;
  }

  /** This party's declared clipping bounds of secure columns (differential privacy). */
  public org.sparkmpc.spark.dp.ClipBounds clipBounds() {
    return clipBounds;
  }

  /** This party's data policy at work in the session (checks pass when it has none). */
  public PolicyGuard policy() {
    return guard;
  }

  /**
   * Refuse the operation about to begin, at every party: begin its operator (the peers begin the
   * same one), abort it with {@code refusal}, which the peers receive, and return the refusal to
   * throw. Nothing of the operation has moved.
   */
  public org.sparkmpc.MpcInputException refuse(String kind, org.sparkmpc.MpcInputException refusal) {
    OperatorScope scope = beginOperator(kind);
    context.abort(scope.id(), refusal);
    return refusal;
  }

  /** The running runtime, or null. */
  public static MpcRuntime current() {
    return current;
  }

  /**
   * The party context of {@code sessionId} in this JVM (task side): the driver's, or on an
   * executor of the party's cluster, one opened from the session ticket the driver attached to the
   * task, connected to the party's gateway as a client.
   */
  public static MpcContext context(String sessionId) {
    MpcRuntime rt = BY_SESSION.get(sessionId);
    if (rt == null) {
      return ExecutorSession.of(sessionId).context();
    }
    return rt.context;
  }

  public MpcContext context() {
    return context;
  }

  /**
   * The correlation source of session {@code sessionId} in this JVM (task side): the dealer's, when
   * the session has one; otherwise an error naming the setting.
   */
  public static CorrelationSource correlations(String sessionId) {
    MpcRuntime rt = BY_SESSION.get(sessionId);
    if (rt == null) {
      return ExecutorSession.of(sessionId).correlations();
    }
    if (rt.source == null) {
      throw noCorrelations("multiplying secure columns");
    }
    return rt.source;
  }

  /** The error for {@code what} (an operation on secure columns) in a session without a source. */
  public static org.sparkmpc.MpcInputException noCorrelations(String what) {
    return new org.sparkmpc.MpcInputException(what + " needs correlated randomness: set "
        + MpcConf.CORRELATIONS.key() + " (dealer or ot) and, for the dealer, " + MpcConf.DEALER.key()
        + " to its name (listed last in " + MpcConf.PARTIES.key() + ")");
  }

  public int defaultScaleBits() {
    return scaleBits;
  }

  /**
   * Start a secure operator on the driver: its coordinates from the session's allocator (the next
   * operator id, parties in lockstep allocate the same sequence; its rounds and streams come from
   * the returned scope). Its correlated randomness is asked for with {@link #request}; an operator
   * that does not ask is asked for with an empty list when the next one begins (or the session
   * ends), so the dealer, which serves every operator id in order, never waits for a skipped one.
   *
   * @param kind what the operator computes (in errors and logs)
   */
  public synchronized OperatorScope beginOperator(String kind) {
    bindTasks();
    requestPending();
    unrequested = context.coordinates().operator(kind);
    return unrequested;
  }

  /**
   * Make the correlated randomness of the operator just begun ready: the dealer is sent the list;
   * an interactive source generates it now. At most once per operator, before the next begins.
   *
   * @param needs batches whose streams {@code operator} handed out
   * @throws IllegalStateException if {@code operator} is not the last one begun, or asked before
   */
  public synchronized void request(OperatorScope operator, List<Need> needs) {
    if (operator != unrequested) {
      throw new IllegalStateException(operator + " asked for its correlated randomness after the "
          + "next operator began, or twice");
    }
    unrequested = null;
    if (source != null) {
      source.request(operator.id(), needs);
    }
  }

  /**
   * {@code operator} has finished for good at this party: its jobs completed and its result is on
   * the driver, so no task of it can run again. Its messages are dropped at the party's gateway
   * (embedded, or standalone over the authenticated client link), which frees the receive buffer
   * ({@link MpcConf#MAX_BUFFERED}) for the operators that follow; a late message of it is refused
   * naming it. Never for an operator whose output Spark may recompute from lineage (the sharing
   * operators' cached secure tables, predictions): those keep their messages until the session
   * ends. A release that fails is logged: the messages then stay until the session ends, as they
   * would have.
   */
  public void releaseMessages(OperatorScope operator) {
    if (closed) {
      return;
    }
    try {
      gateway.releaseOperator(context.sessionId(), operator.id());
    } catch (org.sparkmpc.net.MpcChannelException e) {
      LOG.warn("{}: its messages stay at the gateway until the session ends: {}", operator,
          e.getMessage());
    }
  }

  /**
   * Release {@code operator}'s messages ({@link #releaseMessages}) at the end of the SQL execution
   * that runs it, if by then no task of it can run again: {@code output}, the RDD whose tasks read
   * them, was computed whole and nothing cached depends on it (see {@link FinishedOperators}).
   */
  public void releaseMessagesAfterQuery(OperatorScope operator,
      org.apache.spark.rdd.RDD<?> output) {
    finished.atExecutionEnd(operator, output);
  }

  /** Ask for the material of an operator that did not: nothing. */
  private void requestPending() {
    if (unrequested != null) {
      request(unrequested, List.of());
    }
  }

  /**
   * Attach the session ticket to the jobs this thread submits from now on (a Spark local
   * property), so that executors in other JVMs can open the session.
   */
  private void bindTasks() {
    sparkContext.setLocalProperty(ExecutorSession.TICKET_PROPERTY, ticket);
  }

  /** This party's correlation source, or null when the session has none. */
  public CorrelationSource correlationSource() {
    return source;
  }

  /** The next secure table id ({@code t1}, {@code t2}, ...). */
  public String nextTableId() {
    return "t" + tables.incrementAndGet();
  }

  /**
   * The partitioning contract of {@code table} (rows per partition, equal at every party), or null
   * if this party holds no such table.
   */
  public long[] contract(String table) {
    org.sparkmpc.spark.table.SecureTable t = tablesById.get(table);
    return t == null ? null : t.contract().clone();
  }

  /** Register a materialised secure table. */
  public void registerTable(org.sparkmpc.spark.table.SecureTable table) {
    tablesById.put(table.id(), table);
  }

  /** Release a secure table's partitions. */
  public void dropTable(String id) {
    org.sparkmpc.spark.table.SecureTable t = tablesById.remove(id);
    clipBounds.forget(id);
    if (guard != null) {
      guard.forget(id);
    }
    if (t != null) {
      t.unpersist();
    }
  }

  /** The secure table {@code id}; an error naming it if this party has none. */
  public org.sparkmpc.spark.table.SecureTable table(String id) {
    org.sparkmpc.spark.table.SecureTable t = tablesById.get(id);
    if (t == null) {
      throw new IllegalStateException("secure table " + id + " is not materialised at this party");
    }
    return t;
  }

  /** The party's channel: its embedded gateway, or a client of its standalone gateway. */
  public org.sparkmpc.net.Channel gateway() {
    return gateway;
  }

  @Override
  public synchronized void close() {
    closed = true;
    sparkContext.removeSparkListener(failFast);
    sparkContext.removeSparkListener(finished);
    finished.clear();
    if (source != null && source != dealer) {
      source.close();
    }
    if (dealer != null) {
      try {
        requestPending();
        dealer.finish(context.coordinates().operator("end of session").id());
      } catch (RuntimeException e) {
        LOG.warn("could not tell the dealer that the session ended: {}", e.getMessage());
      }
    }
    BY_SESSION.remove(context.sessionId());
    ExecutorSession.drop(context.sessionId(), "the driver closed it");
    tablesById.values().forEach(org.sparkmpc.spark.table.SecureTable::unpersist);
    tablesById.clear();
    if (current == this) {
      current = null;
    }
    try {
      gateway.endSession(context.sessionId());
    } finally {
      gateway.close();
    }
  }
}
