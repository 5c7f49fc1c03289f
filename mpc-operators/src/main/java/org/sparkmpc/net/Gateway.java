package org.sparkmpc.net;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A party's share-exchange gateway: a {@link Channel} between processes over mutual TLS 1.3.
 *
 * <h2>Connections and identity</h2>
 *
 * {@link #start} binds a server socket on this party's host and port from the {@link
 * PartyDirectory} (port 0: ephemeral, see {@link #port()}); every accepted connection runs TLS 1.3
 * as the server side with client authentication required. Every connection is mutually
 * authenticated with the certificates loaded by {@link PartyCredentials}; trust is pinning: a client
 * is accepted only if its certificate is byte-equal to the trust file's certificate of another party
 * in the directory, or of this party itself (a {@link GatewayClient}, see below) (that certificate's
 * CN is the party name, and fixes the party index of the
 * connection); when connecting to party {@code i}, only the certificate pinned for party {@code i}
 * is accepted. Anything else fails the handshake (the refused peer is sent the TLS alert and the
 * refusal is logged with the certificate's subject and fingerprint). Inbound connections get one daemon thread each (at
 * most {@value #MAX_INBOUND_CONNECTIONS} at a time), and must complete the TLS handshake within the short handshake
 * timeout ({@link GatewayConfig#handshakeTimeout()}, setting {@value GatewayConfig#HANDSHAKE_TIMEOUT_SETTING}) or be
 * closed, so that connections that never authenticate cannot hold the slots for the whole query timeout (see {@link
 * InboundAcceptor}). Outbound, the gateway opens one TLS connection
 * per peer lazily, on the first {@link #send} to it, and re-opens it after a failure; connecting is
 * retried with exponential backoff (25 ms doubling to 1 s) until the configured timeout, then {@link
 * #send} fails with a {@link PeerUnavailableException} naming the party, its address, the reason and
 * the message coordinates. A certificate that is not trusted (by either side) is not retried.
 *
 * <h2>Wire format (version 1)</h2>
 *
 * All integers are big-endian. Every frame starts with
 *
 * <pre>
 *   magic    4 bytes  0x53 0x4D 0x50 0x43 ("SMPC")
 *   version  1 byte   1
 *   type     1 byte   1 = HELLO, 2 = DATA, 3 = STATUS
 * </pre>
 *
 * followed by, for
 *
 * <pre>
 *   HELLO  (server to client, once, right after the TLS handshake)
 *     party      int32   the server's index in its party list
 *     parties    int32   the length of its party list
 *   DATA   (client to server: one message)
 *     sender     int32   index of the sending party; must be the authenticated peer's index
 *     sessionLen uint16  1..1024
 *     session    sessionLen bytes of UTF-8
 *     operator   int64
 *     partition  int32
 *     round      int32
 *     length     int64   0..2^30 (1 GiB); larger than the receive buffer bound: OVER_CAPACITY
 *     payload    length bytes
 *   STATUS (server to client: the answer to each DATA frame, in order)
 *     status     uint8   0 OK, 1 CONFLICT, 2 ENDED, 3 REFUSED, 4 MALFORMED, 5 OVER_CAPACITY,
 *                        6 RELEASED
 *     reasonLen  uint16  0..1024
 *     reason     reasonLen bytes of UTF-8 (coordinates and byte counts only)
 * </pre>
 *
 * <h2>Clients: this party's own executors and driver</h2>
 *
 * A connection whose TLS certificate is byte-equal to this party's OWN pinned certificate (CN = this
 * party's name) is a client of this gateway ({@link GatewayClient}), not a peer: an executor or the
 * driver of the same organisation on another host. It gets the same HELLO, then may send any number
 * of requests in sequence, each answered before the next is read (one thread per connection):
 *
 * <pre>
 *   CLIENT_SEND        (type 4, client to gateway)
 *     to         int32   the destination party's index
 *     ...        the DATA frame's fields: sender, session, operator, partition, round, length, payload
 *   CLIENT_RECEIVE     (type 5, client to gateway)
 *     ...        the DATA frame's key fields: sender, session, operator, partition, round
 *     timeout    int64   milliseconds to wait, &gt;= 0
 *   CLIENT_END_SESSION (type 6, client to gateway)
 *     sessionLen uint16  1..1024
 *     session    sessionLen bytes of UTF-8
 *   CLIENT_STATUS      (type 7, gateway to client)
 *     status     uint8   0 OK, 1 TIMEOUT, 2 UNAVAILABLE, 3 ABORTED, 4 PROTOCOL, 5 CHANNEL, 6 INVALID,
 *                        7 REFUSED, 8 ENDED, 9 RELEASED
 *     reasonLen  uint16  0..8192
 *     reason     reasonLen bytes of UTF-8: the message of the exception the gateway's call threw
 *   CLIENT_SESSION_STATE (type 8, client to gateway)
 *     sessionLen uint16  1..1024
 *     session    sessionLen bytes of UTF-8
 *   CLIENT_RELEASE_OPERATOR (type 9, client to gateway)
 *     sessionLen uint16  1..1024
 *     session    sessionLen bytes of UTF-8
 *     operator   int64
 * </pre>
 *
 * CLIENT_SEND runs {@link #send}, CLIENT_END_SESSION {@link #endSession} and CLIENT_RELEASE_OPERATOR
 * {@link #releaseOperator}; each is answered with a CLIENT_STATUS. CLIENT_SESSION_STATE asks {@link #isSessionEnded}: answered CLIENT_STATUS ENDED if the
 * session has ended here, OK otherwise (executors drop a session's keys once it ended). CLIENT_RECEIVE runs {@link #receive} and is answered with a DATA frame holding the
 * key and the payload, or a CLIENT_STATUS naming the error (timeout, peer aborted, conflict). A client
 * that sends a DATA frame (trying to inject a message as a peer) is answered REFUSED and closed; a peer
 * that sends a client request is answered with a STATUS {@code REFUSED} and closed, and nothing is
 * stored. The client carries this party's own messages over TLS to its own gateway: shares meant for
 * the peers and shares received from them, nothing another party could not already see.
 *
 * <h2>Handshake</h2>
 *
 * The client reads HELLO before its first DATA frame, which is where it learns that the server
 * refused its certificate, and checks that the server's index and party count match its own list.
 * {@link #send} writes one DATA frame and returns once the STATUS is {@code OK} (stored, or an
 * identical duplicate); any other status throws (see {@link Mailbox#put} for the meaning). A DATA
 * frame whose sender field is not the authenticated peer is answered {@code REFUSED} (an
 * impersonation attempt, logged) and the connection is closed; a frame that cannot be parsed (bad
 * magic, version, type, lengths, invalid UTF-8, truncated) is answered {@code MALFORMED} when
 * possible, logged, and the connection is closed. Other connections are not affected.
 *
 * <h2>Memory and timeouts</h2>
 *
 * Received messages are kept in a {@link Mailbox} bounded by {@link GatewayConfig#maxBufferedBytes()}:
 * space for a payload is reserved before it is read (a duplicate of a stored message is compared
 * while streaming, without a second buffer), so a full buffer blocks the sending connection
 * (back-pressure) for up to the timeout, then the message is answered {@code OVER_CAPACITY}.
 * Sessions end locally with {@link #endSession}; later messages for them are refused as replays. An
 * operator that has finished for good is released with {@link #releaseOperator}: its messages are
 * dropped, and later ones refused ({@code RELEASED}), naming the operator.
 *
 * <h2>What it reveals</h2>
 *
 * Logs and exception messages name parties, addresses, sessions, operators, partitions, rounds, byte
 * counts and certificate fingerprints; never payload bytes. Buffer ownership follows {@link Channel}:
 * {@link #send} does not keep the caller's array after returning; {@link #receive} returns a copy.
 *
 * <p>Thread-safe. Sends to one peer are serialized on its connection.
 */
public final class Gateway implements Channel {

  private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);

  /** Most inbound connections served at once (authenticated or still in the handshake). */
  public static final int MAX_INBOUND_CONNECTIONS = 64;

  static final String[] PROTOCOLS = {"TLSv1.3"};
  static final String[] CIPHER_SUITES = {
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"
  };

  private static final int BUFFER_BYTES = 64 * 1024;
  private static final long FIRST_BACKOFF_MS = 25;
  /**
   * How long an abort notice is retried against a peer that cannot be reached: the notice only
   * spares a live peer its wait, and a peer that is gone (its job already over) needs none, so
   * the aborting party must not wait the whole timeout for it.
   */
  static final long ABORT_SEND_MS = 5_000;
  private static final long MAX_BACKOFF_MS = 1000;
  /** How long a refused connection is drained before it is closed, so the peer can read the answer. */
  private static final int LINGER_MS = 250;
  private static final long LINGER_MAX_BYTES = 1 << 20;

  private final GatewayConfig config;
  private final PartyDirectory directory;
  private final PartyCredentials credentials;
  private final Mailbox mailbox;
  private final ChannelStats stats = new ChannelStats();
  private final ServerSocket server;
  private final InboundAcceptor acceptor;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final PeerLink[] links;
  private final ClientRequests clients = new ClientRequests(this);
  private final int timeoutMs;
  private volatile boolean closed;

  private Gateway(GatewayConfig config, PartyCredentials credentials, ServerSocket server, SSLContext serverContext) {
    this.config = config;
    this.directory = config.directory();
    this.credentials = credentials;
    this.server = server;
    this.mailbox = new Mailbox(directory, config.maxBufferedBytes(), config.timeout());
    this.timeoutMs = (int) Math.max(1, Math.min(Integer.MAX_VALUE, config.timeout().toMillis()));
    this.links = new PeerLink[directory.size()];
    for (int i = 0; i < links.length; i++) {
      if (i != directory.selfIndex()) {
        links[i] = new PeerLink(i, credentials.clientContext(i).getSocketFactory());
      }
    }
    this.acceptor = new InboundAcceptor(config, credentials, server, serverContext.getSocketFactory(),
        this::serveAuthenticated);
  }

  /**
   * Load the credentials, bind the server socket and start accepting connections.
   *
   * @throws IllegalArgumentException if a key, certificate or trust file is missing or wrong
   * @throws MpcChannelException if the address cannot be bound
   */
  public static Gateway start(GatewayConfig config) {
    Objects.requireNonNull(config, "config");
    PartyCredentials credentials = PartyCredentials.load(config);
    PartyDirectory.Party self = config.directory().self();
    SSLContext ctx = credentials.serverContext();
    ServerSocket server = null;
    try {
      // Plain TCP accept; TLS is layered per connection (see serve) so that a refused handshake can
      // be drained before the TCP socket closes and the peer reliably reads the alert.
      server = new ServerSocket();
      server.setReuseAddress(true);
      server.bind(new InetSocketAddress(self.host(), self.port()), 64);
    } catch (IOException e) {
      closeQuietly(server);
      throw new MpcChannelException("gateway of party '" + self.name() + "' cannot listen on " + self.address()
          + ": " + e.getMessage(), e);
    }
    Gateway g = new Gateway(config, credentials, server, ctx);
    g.acceptor.start();
    LOG.info("gateway of party '{}' listening on {}:{} (TLS 1.3, {} parties)", self.name(), self.host(),
        g.port(), config.directory().size());
    return g;
  }

  /** The port the server socket is bound to (the ephemeral one if the directory said 0). */
  public int port() {
    return server.getLocalPort();
  }

  /** The configuration this gateway was started with. */
  public GatewayConfig config() {
    return config;
  }

  @Override
  public PartyDirectory directory() {
    return directory;
  }

  @Override
  public ChannelStats stats() {
    return stats;
  }

  /** Inbound connections holding one of the {@value #MAX_INBOUND_CONNECTIONS} slots now (authenticated or not). */
  public int inboundConnections() {
    return acceptor.connections();
  }

  /** Payload bytes held in the receive buffer (stored messages and frames being read). */
  public long bufferedBytes() {
    return mailbox.bufferedBytes();
  }

  @Override
  public void send(int to, MessageKey key, byte[] payload) {
    checkWireSend(directory, to, key, payload);
    ensureOpen(key);
    PeerLink link = links[to];
    long budget = ConfigValues.saturatedNanos(config.timeout());
    if (key.partition() == ABORT_PARTITION) {
      budget = Math.min(budget, TimeUnit.MILLISECONDS.toNanos(ABORT_SEND_MS));
    }
    long deadline = System.nanoTime() + budget;
    long backoff = FIRST_BACKOFF_MS;
    link.lock.lock();
    try {
      while (true) {
        ensureOpen(key);
        boolean sent = false;
        try {
          if (link.socket == null) {
            connect(link);
          }
          Wire.writeData(link.out, key, payload);
          link.out.flush();
          sent = true;
          Wire.StatusReply reply = Wire.readStatus(link.in);
          handleReply(link, key, payload.length, reply);
          return;
        } catch (Wire.MalformedFrameException e) {
          link.close();
          throw new ProtocolException("party '" + peerName(to) + "' at " + address(to)
              + " answered with a malformed frame (" + e.getMessage() + "); message (" + key.describe() + ")");
        } catch (IOException e) {
          link.close();
          ensureOpen(key);
          if (sent && e instanceof SocketTimeoutException) {
            throw new PeerTimeoutException("party '" + peerName(to) + "' at " + address(to)
                + " did not acknowledge the message (" + key.describe() + ") within "
                + ConfigValues.human(ackTimeout()));
          }
          if (isCertificateFailure(e)) {
            throw unavailable(to, key, e);
          }
          long now = System.nanoTime();
          if (now + TimeUnit.MILLISECONDS.toNanos(backoff) >= deadline) {
            throw unavailable(to, key, e);
          }
          LOG.debug("gateway {}: sending to party '{}' at {} failed ({}); retrying in {} ms", selfName(),
              peerName(to), address(to), reason(e), backoff);
          sleep(backoff, key);
          backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
        }
      }
    } finally {
      link.lock.unlock();
    }
  }

  @Override
  public byte[] receive(MessageKey key, Duration timeout) {
    byte[] out = mailbox.take(key, timeout);
    stats.recordReceived(out.length);
    return out;
  }

  @Override
  public void endSession(String session) {
    mailbox.endSession(session);
  }

  /** Drop the messages of a finished operator held here; see {@link Mailbox#releaseOperator}. */
  @Override
  public void releaseOperator(String session, long operator) {
    long freed = mailbox.releaseOperator(session, operator);
    stats.recordReleased(freed);
    LOG.debug("gateway {}: released operator {} of session {} ({} bytes)", selfName(), operator,
        session, freed);
  }

  /**
   * Whether {@code session} has ended at this gateway ({@link #endSession}); the most recent {@value
   * Mailbox#MAX_ENDED_SESSIONS} ended sessions are remembered.
   */
  public boolean isSessionEnded(String session) {
    return mailbox.isEnded(session);
  }

  /** Stop accepting, close every connection, wake waiting receivers. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    acceptor.stopAccepting();
    // Let frames already being read get their status replies, so that a peer's last message
    // (the end of a session, say) is acknowledged rather than retried against a closed port.
    long graceEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (inFlight.get() > 0 && System.nanoTime() < graceEnd
        && !Thread.currentThread().isInterrupted()) {
      sleepQuietly(5);
    }
    acceptor.closeConnections();
    for (PeerLink l : links) {
      if (l != null) {
        l.close();
      }
    }
    mailbox.close();
    LOG.info("gateway of party '{}' closed", selfName());
  }

  @Override
  public String toString() {
    return "Gateway[" + selfName() + " on " + directory.self().host() + ":" + port() + "]";
  }

  // ---- outbound ----

  /** One peer's outbound connection; fields are guarded by {@code lock}, except for close(). */
  private static final class PeerLink {
    final int peer;
    final SSLSocketFactory factory;
    final ReentrantLock lock = new ReentrantLock();
    volatile SSLSocket socket;
    DataInputStream in;
    DataOutputStream out;

    PeerLink(int peer, SSLSocketFactory factory) {
      this.peer = peer;
      this.factory = factory;
    }

    void close() {
      SSLSocket s = socket;
      socket = null;
      closeQuietly(s);
    }
  }

  private void connect(PeerLink link) throws IOException {
    PartyDirectory.Party p = directory.party(link.peer);
    SSLSocket s = (SSLSocket) link.factory.createSocket();
    try {
      s.setTcpNoDelay(true);
      s.setKeepAlive(true);
      s.setSSLParameters(tlsParameters());
      s.connect(new InetSocketAddress(p.host(), p.port()), timeoutMs);
      s.setSoTimeout(timeoutMs);
      s.startHandshake();
      DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), BUFFER_BYTES));
      DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), BUFFER_BYTES));
      Wire.Hello hello;
      try {
        hello = Wire.readHello(in);
      } catch (Wire.MalformedFrameException e) {
        throw new ProtocolException("party '" + p.name() + "' at " + p.address()
            + " does not speak the share-exchange protocol: " + e.getMessage());
      }
      if (hello.party() != link.peer || hello.parties() != directory.size()) {
        throw new ProtocolException("party '" + p.name() + "' at " + p.address() + " says it is party #"
            + hello.party() + " of " + hello.parties() + ", but this party's list has it as #" + link.peer + " of "
            + directory.size() + "; the parties' lists (spark.mpc.parties) differ");
      }
      s.setSoTimeout(ackTimeoutMs());
      link.in = in;
      link.out = out;
      link.socket = s;
      LOG.debug("gateway {}: connected to party '{}' at {}", selfName(), p.name(), p.address());
    } catch (IOException | RuntimeException e) {
      closeQuietly(s);
      throw e;
    }
  }

  private void handleReply(PeerLink link, MessageKey key, int length, Wire.StatusReply reply) {
    if (reply.status() == DeliveryStatus.OK) {
      stats.recordSent(length);
      return;
    }
    if (reply.status() == DeliveryStatus.REFUSED || reply.status() == DeliveryStatus.MALFORMED) {
      link.close();
    }
    throw Mailbox.refusal(peerName(link.peer), key, new Mailbox.PutResult(reply.status(), reply.reason()));
  }

  /**
   * How long a sender waits for the STATUS of a written frame: the receiver may hold it for up to its
   * timeout waiting for buffer space, and then reads the payload.
   */
  private Duration ackTimeout() {
    return config.timeout().multipliedBy(2).plusSeconds(5);
  }

  private int ackTimeoutMs() {
    return (int) Math.min(Integer.MAX_VALUE, ackTimeout().toMillis());
  }

  private PeerUnavailableException unavailable(int to, MessageKey key, IOException e) {
    String when = isCertificateFailure(e) ? " (not retried)" : " (gave up after " + ConfigValues.human(config.timeout()) + ")";
    String refused = acceptor.refusedCertificate();
    if (refused != null && !isCertificateFailure(e)) {
      when += "; earlier this gateway refused a TLS connection " + refused;
    }
    return new PeerUnavailableException("party '" + peerName(to) + "' at " + address(to) + " is unavailable: "
        + reason(e) + when + "; could not send message (" + key.describe() + ")", e);
  }

  /** A short reason for a failed connection attempt. JSSE and socket messages carry no payload. */
  static String reason(IOException e) {
    if (isCertificateFailure(e)) {
      PartyCredentials.UntrustedCertificateException ours = findCause(e, PartyCredentials.UntrustedCertificateException.class);
      String detail = ours != null ? ours.getMessage() : "the peer did not accept this party's certificate: "
          + e.getMessage();
      return "TLS handshake failed: certificate not trusted (" + detail + ")";
    }
    if (e instanceof ConnectException) {
      String m = String.valueOf(e.getMessage());
      return m.toLowerCase(java.util.Locale.ROOT).contains("refused") ? "connection refused"
          : "cannot connect (" + m + ")";
    }
    if (e instanceof UnknownHostException) {
      return "unknown host " + e.getMessage();
    }
    if (e instanceof SocketTimeoutException) {
      return "connection timed out";
    }
    if (e instanceof SSLException) {
      return "TLS handshake failed (" + e.getMessage() + ")";
    }
    return "connection failed (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")";
  }

  static boolean isCertificateFailure(IOException e) {
    if (findCause(e, PartyCredentials.UntrustedCertificateException.class) != null) {
      return true;
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SSLException && t.getMessage() != null) {
        String m = t.getMessage();
        if (m.contains("bad_certificate") || m.contains("certificate_unknown") || m.contains("unknown_ca")
            || m.contains("certificate_required") || m.contains("unsupported_certificate")
            || m.contains("certificate_expired") || m.contains("access_denied")) {
          return true;
        }
      }
    }
    return false;
  }

  static <T extends Throwable> T findCause(Throwable e, Class<T> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  private void sleep(long ms, MessageKey key) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new MpcChannelException("interrupted while sending (" + key.describe() + ")");
    }
  }

  private void ensureOpen(MessageKey key) {
    if (closed) {
      throw new MpcChannelException("the gateway of party '" + selfName() + "' is closed; cannot send ("
          + key.describe() + ")");
    }
  }

  // ---- inbound: authenticated connections (see InboundAcceptor for the accept and handshake) ----

  /** Serve a connection that {@link InboundAcceptor} authenticated and sent the HELLO on. */
  private void serveAuthenticated(SSLSocket s, DataInputStream in, DataOutputStream out, int peer,
      String remote) throws IOException {
    if (peer == InboundAcceptor.CLIENT) {
      serveClient(s, in, out, remote);
    } else {
      serveFrames(s, in, out, peer, remote);
    }
  }

  /**
   * Read and discard what the peer still sends, for a short while: closing a TCP socket with unread
   * input makes it send a reset, which can destroy the alert or status the peer has yet to read.
   */
  static void drain(Socket raw) {
    try {
      drainForLinger(raw, raw.getInputStream());
    } catch (IOException e) {
      // Closing anyway.
    }
  }

  /**
   * Wait as long as it takes for the next frame's first byte (-1 at the end of the connection),
   * then allow the rest of the frame the configured timeout.
   */
  private int nextFrame(SSLSocket s, DataInputStream in) throws IOException {
    s.setSoTimeout(0);
    int first = in.read();
    s.setSoTimeout(timeoutMs);
    return first;
  }

  private void serveFrames(SSLSocket s, DataInputStream in, DataOutputStream out, int peer, String remote)
      throws IOException {
    while (!closed) {
      int first = nextFrame(s, in);
      if (first < 0) {
        return;
      }
      Wire.DataHeader header;
      try {
        int type = Wire.readFrameType(in, first);
        if (ClientRequests.isClientRequest(type)) {
          LOG.warn("gateway {}: party '{}' ({}) sent a client request (frame type {}); refused, closing the"
              + " connection", selfName(), peerName(peer), remote, type);
          refuseAndClose(s, in, out, DeliveryStatus.REFUSED, "client requests are accepted only from party '"
              + selfName() + "' itself, but the connection is authenticated as party '" + peerName(peer) + "'");
          return;
        }
        if (type != Wire.TYPE_DATA) {
          throw new Wire.MalformedFrameException("unexpected frame type " + type + " (expected "
              + Wire.TYPE_DATA + ")");
        }
        header = Wire.readDataBody(in);
      } catch (Wire.MalformedFrameException e) {
        LOG.warn("gateway {}: malformed frame from party '{}' ({}): {}; closing the connection", selfName(),
            peerName(peer), remote, e.getMessage());
        refuseAndClose(s, in, out, DeliveryStatus.MALFORMED, "malformed frame: " + e.getMessage());
        return;
      }
      inFlight.incrementAndGet();
      try {
        if (!serveFrame(s, in, out, peer, remote, header)) {
          return;
        }
      } finally {
        inFlight.decrementAndGet();
      }
    }
  }

  /** Deliver one frame and write its status reply; false when the connection was closed. */
  private boolean serveFrame(SSLSocket s, DataInputStream in, DataOutputStream out, int peer,
      String remote, Wire.DataHeader header) throws IOException {
    {
      MessageKey key = header.key();
      if (key.sender() != peer) {
        String claimed = key.sender() < directory.size() ? "party '" + directory.name(key.sender()) + "'"
            : "party #" + key.sender();
        LOG.warn("gateway {}: party '{}' ({}) sent a frame claiming to be {} ({}); refused, closing the connection",
            selfName(), peerName(peer), remote, claimed, key.describe());
        in.skipNBytes(header.length());
        refuseAndClose(s, in, out, DeliveryStatus.REFUSED, "the sender field names " + claimed
            + " but the connection is authenticated as party '" + peerName(peer) + "'");
        return false;
      }
      Mailbox.PutResult result = deliver(in, key, header.length());
      if (!result.accepted()) {
        LOG.debug("gateway {}: message from party '{}' ({}) answered {}", selfName(), peerName(peer),
            key.describe(), result.status());
      }
      Wire.writeStatus(out, result.status(), result.reason());
      out.flush();
    }
    return true;
  }

  /** Read the payload of {@code key} into the mailbox, within its memory bound. */
  private Mailbox.PutResult deliver(DataInputStream in, MessageKey key, long length) throws IOException {
    Mailbox.Admission a = mailbox.admit(key, length);
    switch (a.kind()) {
      case REFUSED:
        in.skipNBytes(length);
        return a.refusal();
      case EXISTING:
        return mailbox.resolveExisting(key, a.existing(), streamEquals(in, a.existing(), length));
      case RESERVED:
      default:
        byte[] payload;
        try {
          payload = new byte[(int) length];
          in.readFully(payload);
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
          mailbox.release(length);
          throw e;
        }
        return mailbox.commit(key, payload);
    }
  }

  /** Consume {@code length} bytes and say whether they equal {@code stored}, without buffering them all. */
  private static boolean streamEquals(DataInputStream in, byte[] stored, long length) throws IOException {
    if (length != stored.length) {
      in.skipNBytes(length);
      return false;
    }
    byte[] chunk = new byte[(int) Math.min(BUFFER_BYTES, Math.max(1, length))];
    boolean equal = true;
    int pos = 0;
    while (pos < length) {
      int n = (int) Math.min(chunk.length, length - pos);
      in.readFully(chunk, 0, n);
      if (equal && !Arrays.equals(chunk, 0, n, stored, pos, pos + n)) {
        equal = false;
      }
      pos += n;
    }
    return equal;
  }

  /** Answer, drain what the peer still sends for a short while (so it can read the answer), close. */
  private void refuseAndClose(SSLSocket s, DataInputStream in, DataOutputStream out, DeliveryStatus status,
      String reason) {
    answerAndDrain(s, in, out, () -> Wire.writeStatus(out, status, reason));
  }

  /** Write an answer (a status frame), flush, and drain what the peer still sends for a while. */
  private static void answerAndDrain(SSLSocket s, DataInputStream in, DataOutputStream out,
      StatusWriter answer) {
    try {
      answer.write();
      out.flush();
      drainForLinger(s, in);
    } catch (IOException e) {
      // The connection is being closed anyway.
    }
  }

  /** Writes one status frame. */
  private interface StatusWriter {
    void write() throws IOException;
  }

  // ---- clients: this party's own executors and driver ----

  /**
   * Serve the requests of a client connection (authenticated with this party's own certificate) in
   * sequence: each runs the gateway's own call ({@link ClientRequests}) and is answered with a
   * CLIENT_STATUS frame (or, for a received message, a DATA frame). A frame of another type (a
   * peer's DATA frame, say) is answered REFUSED or MALFORMED and the connection is closed: a client
   * cannot inject messages as a peer.
   */
  private void serveClient(SSLSocket s, DataInputStream in, DataOutputStream out, String remote)
      throws IOException {
    while (!closed) {
      int first = nextFrame(s, in);
      if (first < 0) {
        return;
      }
      inFlight.incrementAndGet();
      try {
        int type;
        try {
          type = Wire.readFrameType(in, first);
          if (!ClientRequests.isClientRequest(type)) {
            LOG.warn("gateway {}: client ({}) sent frame type {}, which is not a client request; closing the"
                + " connection", selfName(), remote, type);
            refuseAndCloseClient(s, in, out, Wire.ClientStatus.REFUSED, "frame type " + type
                + " is not a client request; a client of party '" + selfName() + "' cannot send as a peer");
            return;
          }
          clients.serve(s, in, out, type);
        } catch (Wire.MalformedFrameException e) {
          LOG.warn("gateway {}: malformed frame from client ({}): {}; closing the connection", selfName(), remote,
              e.getMessage());
          refuseAndCloseClient(s, in, out, Wire.ClientStatus.PROTOCOL, "the gateway of party '" + selfName()
              + "' could not parse a client request: " + e.getMessage());
          return;
        }
      } finally {
        inFlight.decrementAndGet();
      }
    }
  }

  /** Read (and drop) what the peer still sends for a short while, so it can read our answer. */
  private static void drainForLinger(Socket s, java.io.InputStream in) throws IOException {
    s.setSoTimeout(LINGER_MS);
    byte[] sink = new byte[8192];
    long drained = 0;
    int n;
    while (drained < LINGER_MAX_BYTES && (n = in.read(sink)) > 0) {
      drained += n;
    }
  }

  private void refuseAndCloseClient(SSLSocket s, DataInputStream in, DataOutputStream out,
      Wire.ClientStatus status, String reason) {
    answerAndDrain(s, in, out, () -> Wire.writeClientStatus(out, status, reason));
  }

  // ---- helpers ----

  /**
   * The checks of a send that goes over the wire, at the gateway and at its clients alike: the
   * destination and the sender (as for every channel), and the frame's payload limit.
   */
  static void checkWireSend(PartyDirectory directory, int to, MessageKey key, byte[] payload) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(payload, "payload");
    LocalChannelHub.checkSend(directory, to, key);
    if (payload.length > Wire.MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException("a message of " + payload.length + " bytes exceeds the frame limit of "
          + Wire.MAX_PAYLOAD_BYTES + " bytes (" + key.describe() + ")");
    }
  }

  /** TLS 1.3 with the project's cipher suites; the gateway's and its clients' sockets use it. */
  static SSLParameters tlsParameters() {
    SSLParameters p = new SSLParameters();
    p.setProtocols(PROTOCOLS.clone());
    p.setCipherSuites(CIPHER_SUITES.clone());
    return p;
  }

  private String selfName() {
    return directory.self().name();
  }

  private String peerName(int i) {
    return directory.name(i);
  }

  private String address(int i) {
    return directory.party(i).address();
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void closeQuietly(Closeable c) {
    if (c != null) {
      try {
        c.close();
      } catch (IOException e) {
        // Nothing useful to do.
      }
    }
  }
}
