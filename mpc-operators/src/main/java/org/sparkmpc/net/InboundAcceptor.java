package org.sparkmpc.net;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The inbound side of a {@link Gateway} up to an authenticated connection: accepts TCP connections
 * (at most {@link Gateway#MAX_INBOUND_CONNECTIONS} at a time, one daemon thread each), runs the TLS
 * 1.3 server handshake with client authentication, identifies the peer by its pinned certificate,
 * sends the gateway's HELLO and hands the connection to the gateway's {@link Handler}.
 *
 * <p><b>Handshake deadline.</b> A connection must complete the TLS handshake and receive the HELLO
 * within {@link GatewayConfig#effectiveHandshakeTimeout()} of being accepted ({@value
 * GatewayConfig#HANDSHAKE_TIMEOUT_SETTING}); otherwise its socket is closed and its slot freed. The
 * deadline is a watchdog on the whole handshake, not a per-read timeout, so a client that sends
 * nothing, a partial ClientHello, or one byte now and then cannot hold a slot for longer. Once
 * handed over, the connection is authenticated and the gateway's own timeouts apply.
 *
 * <p>Logs name addresses, parties and certificate fingerprints, never payload bytes.
 */
final class InboundAcceptor {

  private static final Logger LOG = LoggerFactory.getLogger(InboundAcceptor.class);

  /** The peer index of a connection with this party's own certificate: a {@link GatewayClient}. */
  static final int CLIENT = -2;

  private static final int BUFFER_BYTES = 64 * 1024;
  private static final int HANDSHAKING = 0;
  private static final int HANDED_OVER = 1;
  private static final int EXPIRED = 2;

  /** Serves one authenticated connection (its HELLO already sent) until it ends. */
  interface Handler {
    /**
     * @param peer the peer's party index, or {@link #CLIENT} for a client of this party
     */
    void serve(SSLSocket s, DataInputStream in, DataOutputStream out, int peer, String remote)
        throws IOException;
  }

  private final PartyDirectory directory;
  private final PartyCredentials credentials;
  private final ServerSocket server;
  private final SSLSocketFactory tls;
  private final Duration handshakeTimeout;
  private final int handshakeTimeoutMs;
  private final int ioTimeoutMs;
  private final Handler handler;
  private final Set<Socket> inbound = ConcurrentHashMap.newKeySet();
  private final AtomicInteger connectionIds = new AtomicInteger();
  private final ScheduledThreadPoolExecutor deadlines;
  private final Thread acceptThread;
  private volatile boolean closed;

  InboundAcceptor(GatewayConfig config, PartyCredentials credentials, ServerSocket server,
      SSLSocketFactory tls, Handler handler) {
    this.directory = config.directory();
    this.credentials = credentials;
    this.server = server;
    this.tls = tls;
    this.handshakeTimeout = config.effectiveHandshakeTimeout();
    this.handshakeTimeoutMs = toMillis(handshakeTimeout);
    this.ioTimeoutMs = toMillis(config.timeout());
    this.handler = handler;
    String name = selfName();
    this.deadlines = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "mpc-gateway-" + name + "-handshake-deadlines");
      t.setDaemon(true);
      return t;
    });
    this.deadlines.setRemoveOnCancelPolicy(true);
    this.acceptThread = new Thread(this::acceptLoop, "mpc-gateway-" + name + "-accept");
    this.acceptThread.setDaemon(true);
  }

  void start() {
    acceptThread.start();
  }

  /**
   * The last inbound connection refused for its certificate (its address and why), or null: a peer
   * whose certificate this party refused may have given up and gone before this party's own
   * connection to it, which then finds nothing listening. Public data only (addresses, names,
   * certificate fingerprints).
   */
  private volatile String refusedCertificate;

  String refusedCertificate() {
    return refusedCertificate;
  }

  /** Inbound connections holding a slot now (authenticated, or still in the handshake). */
  int connections() {
    return inbound.size();
  }

  /** Stop accepting new connections; the open ones keep running. */
  void stopAccepting() {
    closed = true;
    Gateway.closeQuietly(server);
  }

  /** Close every inbound connection and stop the accept thread (waits up to a second for it). */
  void closeConnections() {
    closed = true;
    for (Socket s : inbound) {
      Gateway.closeQuietly(s);
    }
    deadlines.shutdownNow();
    try {
      acceptThread.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void acceptLoop() {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        if (!closed) {
          LOG.warn("gateway {}: accept failed: {}", selfName(), e.getMessage());
          sleepQuietly(50);
        }
        continue;
      }
      if (inbound.size() >= Gateway.MAX_INBOUND_CONNECTIONS) {
        LOG.warn("gateway {}: refused connection from {}: already {} connections", selfName(),
            s.getRemoteSocketAddress(), Gateway.MAX_INBOUND_CONNECTIONS);
        Gateway.closeQuietly(s);
        continue;
      }
      inbound.add(s);
      if (closed) {
        Gateway.closeQuietly(s);
        inbound.remove(s);
        break;
      }
      Thread t = new Thread(() -> serve(s),
          "mpc-gateway-" + selfName() + "-in-" + connectionIds.incrementAndGet());
      t.setDaemon(true);
      t.start();
    }
  }

  private void serve(Socket raw) {
    String remote = String.valueOf(raw.getRemoteSocketAddress());
    AtomicInteger state = new AtomicInteger(HANDSHAKING);
    ScheduledFuture<?> deadline = scheduleDeadline(raw, state);
    SSLSocket s = null;
    try {
      if (deadline == null) {
        return; // closing
      }
      int peer;
      DataInputStream in;
      DataOutputStream out;
      try {
        raw.setTcpNoDelay(true);
        // A second guard: no single read of the handshake waits longer than the whole of it may take.
        raw.setSoTimeout(handshakeTimeoutMs);
        s = (SSLSocket) tls.createSocket(raw, raw.getInetAddress().getHostAddress(), raw.getPort(), false);
        s.setUseClientMode(false);
        SSLParameters params = Gateway.tlsParameters();
        params.setNeedClientAuth(true);
        s.setSSLParameters(params);
        s.startHandshake();
        peer = authenticatedPeer(s);
        if (peer < 0 && peer != CLIENT) {
          LOG.warn("gateway {}: refused connection from {}: its certificate is not pinned for any other party",
              selfName(), remote);
          refusedCertificate = "from " + remote + ": its certificate is not pinned for any other party";
          return;
        }
        in = new DataInputStream(new BufferedInputStream(s.getInputStream(), BUFFER_BYTES));
        out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), BUFFER_BYTES));
        Wire.writeHello(out, directory.selfIndex(), directory.size());
        out.flush();
      } catch (IOException e) {
        if (state.get() == EXPIRED || isStall(e)) {
          logExpired(remote);
        } else if (!closed) {
          LOG.warn("gateway {}: refused TLS connection from {}: {}", selfName(), remote, inboundReason(e));
          if (Gateway.isCertificateFailure(e)) {
            refusedCertificate = "from " + remote + ": " + inboundReason(e);
          }
          Gateway.drain(raw);
        }
        return;
      }
      if (!state.compareAndSet(HANDSHAKING, HANDED_OVER)) {
        logExpired(remote); // the watchdog closed the socket just now
        return;
      }
      deadline.cancel(false);
      s.setSoTimeout(ioTimeoutMs);
      if (peer == CLIENT) {
        LOG.debug("gateway {}: client of this party connected from {}", selfName(), remote);
      } else {
        LOG.debug("gateway {}: party '{}' connected from {}", selfName(), directory.name(peer), remote);
      }
      handler.serve(s, in, out, peer, remote);
    } catch (IOException e) {
      if (!closed) {
        LOG.debug("gateway {}: connection from {} ended: {}", selfName(), remote, e.getMessage());
      }
    } finally {
      if (deadline != null) {
        deadline.cancel(false);
      }
      Gateway.closeQuietly(s);
      Gateway.closeQuietly(raw);
      inbound.remove(raw);
    }
  }

  /** Close {@code raw} at the handshake deadline unless it was handed over by then; null if closing. */
  private ScheduledFuture<?> scheduleDeadline(Socket raw, AtomicInteger state) {
    try {
      return deadlines.schedule(() -> {
        if (state.compareAndSet(HANDSHAKING, EXPIRED)) {
          Gateway.closeQuietly(raw);
        }
      }, handshakeTimeoutMs, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return null;
    }
  }

  /** A read timeout in the handshake: the peer stalled. */
  private static boolean isStall(IOException e) {
    return Gateway.findCause(e, SocketTimeoutException.class) != null;
  }

  private void logExpired(String remote) {
    if (!closed) {
      LOG.warn("gateway {}: closed connection from {}: it did not complete the TLS handshake within {} ({})",
          selfName(), remote, ConfigValues.human(handshakeTimeout), GatewayConfig.HANDSHAKE_TIMEOUT_SETTING);
    }
  }

  /**
   * The peer's party index, {@link #CLIENT} for this party's own certificate (a {@link
   * GatewayClient}), or -1 when the certificate is neither.
   */
  private int authenticatedPeer(SSLSocket s) throws IOException {
    Certificate[] chain = s.getSession().getPeerCertificates();
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate)) {
      return -1;
    }
    X509Certificate leaf = (X509Certificate) chain[0];
    if (credentials.isOwnCertificate(leaf)) {
      return CLIENT;
    }
    int idx = credentials.peerIndexOf(leaf);
    if (idx >= 0 && !directory.name(idx).equals(PartyCredentials.commonName(leaf))) {
      return -1;
    }
    return idx;
  }

  private static String inboundReason(IOException e) {
    if (Gateway.isCertificateFailure(e)) {
      PartyCredentials.UntrustedCertificateException ours =
          Gateway.findCause(e, PartyCredentials.UntrustedCertificateException.class);
      return "certificate not trusted (" + (ours != null ? ours.getMessage() : e.getMessage()) + ")";
    }
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  private String selfName() {
    return directory.self().name();
  }

  private static int toMillis(Duration d) {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, d.toMillis()));
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
