package org.sparkmpc.net;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Channel} for the executors and the driver of a party on other hosts than its {@link
 * Gateway}: every call is forwarded to this party's own gateway (a standalone process, see {@link
 * GatewayMain}), which runs it with its own {@link Gateway#send}, {@link Gateway#receive}, {@link
 * Gateway#endSession} or {@link Gateway#releaseOperator}. Callers cannot tell it from the gateway:
 * failures are rethrown as the same exception types ({@link PeerTimeoutException}, {@link
 * PeerUnavailableException}, {@link OperatorReleasedException}, {@link ProtocolException}, {@link
 * PeerAbortedException}, {@link MpcChannelException}, {@link IllegalArgumentException}) with the
 * gateway's messages.
 *
 * <h2>Connections</h2>
 *
 * The client connects over mutual TLS 1.3 with this party's OWN key and certificate (from the {@link
 * GatewayConfig}: the same key, certificate and trust files as the gateway) and accepts only this
 * party's pinned certificate from the server; the gateway recognizes its own certificate and serves
 * the connection as a client, not as a peer. Connections are opened lazily and pooled: a calling
 * thread takes an idle connection or opens a new one (at most {@value #MAX_CONNECTIONS}; beyond that
 * a call waits up to the configured timeout for one to be free), and returns it after the reply. A
 * connection that failed (I/O error, timeout, unexpected frame) is closed, not reused.
 *
 * <h2>What crosses the wire, what it reveals</h2>
 *
 * The client carries this party's own messages, over TLS, to its own gateway: CLIENT_SEND frames
 * (destination, message key, payload: a share or masked value meant for that peer), CLIENT_RECEIVE
 * frames (a message key and a timeout) answered with a DATA frame holding the payload the peer sent,
 * CLIENT_END_SESSION and CLIENT_SESSION_STATE frames (a session id), CLIENT_RELEASE_OPERATOR frames
 * (a session id and an operator id); failures come back as CLIENT_STATUS frames (a kind
 * and a reason naming parties and coordinates). The frame layout is documented on {@link Gateway}.
 * Nothing crosses a party boundary here: the peer link is the gateway's. Logs and exception messages
 * name parties, addresses and message coordinates, never payload bytes.
 *
 * <p>Buffer ownership follows {@link Channel}. Thread-safe; {@link #stats()} counts the bytes of
 * this client only.
 */
public final class GatewayClient implements Channel {

  private static final Logger LOG = LoggerFactory.getLogger(GatewayClient.class);

  /** Most connections one client keeps open to its gateway. */
  public static final int MAX_CONNECTIONS = 16;

  private static final int BUFFER_BYTES = 64 * 1024;

  private final GatewayConfig config;
  private final PartyDirectory directory;
  private final String host;
  private final int port;
  private final int gatewayParty;
  private final SSLSocketFactory factory;
  private final ChannelStats stats = new ChannelStats();
  private final BlockingQueue<Connection> idle = new ArrayBlockingQueue<>(MAX_CONNECTIONS);
  private final Semaphore permits = new Semaphore(MAX_CONNECTIONS);
  private final Set<Connection> open = ConcurrentHashMap.newKeySet();
  private final int timeoutMs;
  private volatile boolean closed;

  /**
   * A client of this party's gateway at this party's own address in the directory ({@code
   * config.directory().self()}).
   *
   * @throws IllegalArgumentException if a key, certificate or trust file is missing or wrong
   */
  public GatewayClient(GatewayConfig config) {
    this(config, config.directory().self().host(), config.directory().self().port());
  }

  /**
   * A client of this party's gateway at {@code host:port} (where the gateway process listens, if not
   * the address in the directory). Loads the credentials now; connects on the first call.
   *
   * @throws IllegalArgumentException if a key, certificate or trust file is missing or wrong, or the
   *     port is out of range
   */
  public GatewayClient(GatewayConfig config, String host, int port) {
    this(config, host, port, -1);
  }

  /**
   * As above, but expecting the server to be the gateway of party {@code gatewayParty} (its pinned
   * certificate and its HELLO); -1 for this party's own. For tests of refused identities only.
   */
  GatewayClient(GatewayConfig config, String host, int port, int gatewayParty) {
    this.config = Objects.requireNonNull(config, "config");
    this.directory = config.directory();
    this.host = Objects.requireNonNull(host, "host");
    if (port <= 0 || port > 65535) {
      throw new IllegalArgumentException("gateway port " + port + " is out of range 1..65535");
    }
    this.port = port;
    PartyCredentials credentials = PartyCredentials.load(config);
    this.gatewayParty = gatewayParty < 0 ? directory.selfIndex() : gatewayParty;
    this.factory = (this.gatewayParty == directory.selfIndex() ? credentials.ownGatewayClientContext()
        : credentials.clientContext(this.gatewayParty)).getSocketFactory();
    this.timeoutMs = (int) Math.max(1, Math.min(Integer.MAX_VALUE, config.timeout().toMillis()));
  }

  @Override
  public PartyDirectory directory() {
    return directory;
  }

  @Override
  public ChannelStats stats() {
    return stats;
  }

  /** The address of the gateway this client talks to, {@code host:port}. */
  public String gatewayAddress() {
    return host + ":" + port;
  }

  /**
   * Forward {@code payload} to party {@code to} through this party's gateway; returns once the peer's
   * gateway accepted it. Crosses the wire to the own gateway: destination, key and payload.
   */
  @Override
  public void send(int to, MessageKey key, byte[] payload) {
    Gateway.checkWireSend(directory, to, key, payload);
    // The gateway may retry connecting for its timeout, then wait for the peer's acknowledgement.
    Duration wait = config.timeout().multipliedBy(3).plusSeconds(10);
    call(key.describe(), wait, c -> {
      Wire.writeClientSend(c.out, to, key, payload);
      c.out.flush();
      expectOk(c, c.readReply(), key.describe());
      return null;
    });
    stats.recordSent(payload.length);
  }

  /**
   * Wait up to {@code timeout} (at the gateway) for the payload party {@code key.sender()} sent to
   * this party under {@code key}. Crosses the wire: the key and timeout to the gateway, the payload
   * back.
   */
  @Override
  public byte[] receive(MessageKey key, Duration timeout) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(timeout, "timeout");
    // An invalid sender is answered by the gateway (INVALID), with the gateway's own message.
    long millis = timeout.isNegative() ? 0 : saturatedMillis(timeout);
    Duration wait = Duration.ofMillis(millis).plus(config.timeout()).plusSeconds(5);
    byte[] payload = call(key.describe(), wait, c -> {
      Wire.writeClientReceive(c.out, key, millis);
      c.out.flush();
      Reply r = c.readReply();
      if (r.data != null) {
        if (!r.dataKey.equals(key)) {
          c.broken = true;
          throw new ProtocolException("the gateway of party '" + directory.self().name() + "' at "
              + gatewayAddress() + " answered with a message for another key (" + r.dataKey.describe()
              + ") than requested (" + key.describe() + ")");
        }
        return r.data;
      }
      expectOk(c, r, key.describe());
      c.broken = true;
      throw new ProtocolException("the gateway of party '" + directory.self().name() + "' at " + gatewayAddress()
          + " answered a receive without a message (" + key.describe() + ")");
    });
    stats.recordReceived(payload.length);
    return payload;
  }

  /** Ask the gateway to forget every message of {@code session}. Crosses the wire: the session id. */
  @Override
  public void endSession(String session) {
    Objects.requireNonNull(session, "session");
    call("session " + session, config.timeout().plusSeconds(5), c -> {
      Wire.writeClientEndSession(c.out, session);
      c.out.flush();
      expectOk(c, c.readReply(), "session " + session);
      return null;
    });
  }

  /**
   * Ask the gateway to forget the messages of a finished operator ({@link Gateway#releaseOperator}).
   * Crosses the wire: the session id and the operator id.
   */
  @Override
  public void releaseOperator(String session, long operator) {
    Objects.requireNonNull(session, "session");
    String what = "session " + session + ", operator " + operator;
    call(what, config.timeout().plusSeconds(5), c -> {
      Wire.writeClientReleaseOperator(c.out, session, operator);
      c.out.flush();
      expectOk(c, c.readReply(), what);
      return null;
    });
  }

  /**
   * Whether {@code session} has ended at this party's gateway (see {@link Gateway#isSessionEnded}),
   * so that an executor can drop what it keeps for it. Crosses the wire: the session id.
   *
   * @throws MpcChannelException (or a subtype) if the gateway cannot be asked, or does not know the
   *     request (a gateway of an older version)
   */
  public boolean sessionEnded(String session) {
    Objects.requireNonNull(session, "session");
    return call("session " + session, config.timeout().plusSeconds(5), c -> {
      Wire.writeClientSessionState(c.out, session);
      c.out.flush();
      Reply r = c.readReply();
      if (r.status != null && r.status.status() == Wire.ClientStatus.ENDED) {
        return true;
      }
      expectOk(c, r, "session " + session);
      return false;
    });
  }

  /** Close every pooled connection; later calls fail. The gateway is not affected. Idempotent. */
  @Override
  public void close() {
    closed = true;
    for (Connection c : open) {
      c.close();
    }
    idle.clear();
  }

  // ---- internals ----

  private interface Request<T> {
    T run(Connection c) throws IOException, Wire.MalformedFrameException;
  }

  private <T> T call(String what, Duration wait, Request<T> request) {
    ensureOpen(what);
    Connection c = borrow(what);
    boolean ok = false;
    try {
      c.socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, saturatedMillis(wait))));
      T result = request.run(c);
      ok = c.replied && !c.broken;
      return result;
    } catch (Wire.MalformedFrameException e) {
      throw new ProtocolException("the gateway of party '" + directory.self().name() + "' at " + gatewayAddress()
          + " answered with a malformed frame (" + e.getMessage() + "); (" + what + ")");
    } catch (SocketTimeoutException e) {
      throw new PeerTimeoutException("the gateway of party '" + directory.self().name() + "' at "
          + gatewayAddress() + " did not answer within " + ConfigValues.human(wait) + " (" + what + ")");
    } catch (IOException e) {
      ensureOpen(what);
      throw new PeerUnavailableException("the gateway of party '" + directory.self().name() + "' at "
          + gatewayAddress() + " is unavailable: " + Gateway.reason(e) + " (" + what + ")", e);
    } catch (RuntimeException e) {
      // An error the gateway reported leaves the connection in step; anything else may not.
      ok = c.replied && !c.broken;
      throw e;
    } finally {
      giveBack(c, ok);
    }
  }

  /** The reply's status must be OK; otherwise throw what the gateway threw. */
  private void expectOk(Connection c, Reply r, String what) {
    if (r.data != null) {
      c.broken = true;
      throw new ProtocolException("the gateway of party '" + directory.self().name() + "' at " + gatewayAddress()
          + " answered with an unexpected message (" + what + ")");
    }
    if (r.peerStatus != null) {
      // A STATUS frame: the server treated this connection as a peer's (another party's certificate).
      c.broken = true;
      throw new ProtocolException("the gateway of party '" + directory.name(gatewayParty) + "' at "
          + gatewayAddress() + " refused the client request: " + r.peerStatus.status() + ": "
          + r.peerStatus.reason() + " (" + what + ")");
    }
    Wire.ClientStatusReply s = r.status;
    switch (s.status()) {
      case OK:
        return;
      case TIMEOUT:
        throw new PeerTimeoutException(s.reason());
      case UNAVAILABLE:
        throw new PeerUnavailableException(s.reason(), null);
      case ABORTED:
        throw new PeerAbortedException(s.reason());
      case PROTOCOL:
        throw new ProtocolException(s.reason());
      case RELEASED:
        throw new OperatorReleasedException(s.reason());
      case INVALID:
        throw new IllegalArgumentException(s.reason());
      case REFUSED:
        c.broken = true;
        throw new ProtocolException(s.reason());
      case CHANNEL:
      default:
        throw new MpcChannelException(s.reason());
    }
  }

  private Connection borrow(String what) {
    Connection c = idle.poll();
    if (c != null) {
      return c;
    }
    try {
      if (!permits.tryAcquire(timeoutMs, TimeUnit.MILLISECONDS)) {
        // All connections are busy; one may have been returned meanwhile.
        c = idle.poll(timeoutMs, TimeUnit.MILLISECONDS);
        if (c != null) {
          return c;
        }
        throw new MpcChannelException("all " + MAX_CONNECTIONS + " connections to the gateway of party '"
            + directory.self().name() + "' at " + gatewayAddress() + " stayed busy for "
            + ConfigValues.human(config.timeout()) + " (" + what + ")");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new MpcChannelException("interrupted while waiting for a connection to the gateway (" + what + ")");
    }
    // Another thread may have returned a connection while this one waited for a permit.
    c = idle.poll();
    if (c != null) {
      permits.release();
      return c;
    }
    try {
      c = connect();
    } catch (IOException e) {
      permits.release();
      throw new PeerUnavailableException("the gateway of party '" + directory.name(gatewayParty) + "' at "
          + gatewayAddress() + " is unavailable: " + Gateway.reason(e) + " (" + what + ")", e);
    } catch (RuntimeException e) {
      permits.release();
      throw e;
    }
    return c;
  }

  private void giveBack(Connection c, boolean reusable) {
    if (reusable && !closed && idle.offer(c)) {
      return;
    }
    c.close();
    permits.release();
  }

  private Connection connect() throws IOException {
    SSLSocket s = (SSLSocket) factory.createSocket();
    try {
      s.setTcpNoDelay(true);
      s.setKeepAlive(true);
      s.setSSLParameters(Gateway.tlsParameters());
      s.connect(new InetSocketAddress(host, port), timeoutMs);
      s.setSoTimeout(timeoutMs);
      s.startHandshake();
      DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), BUFFER_BYTES));
      DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), BUFFER_BYTES));
      Wire.Hello hello;
      try {
        hello = Wire.readHello(in);
      } catch (Wire.MalformedFrameException e) {
        throw new ProtocolException("the server at " + gatewayAddress()
            + " does not speak the share-exchange protocol: " + e.getMessage());
      }
      if (hello.party() != gatewayParty || hello.parties() != directory.size()) {
        throw new ProtocolException("the gateway at " + gatewayAddress() + " says it is party #" + hello.party()
            + " of " + hello.parties() + ", but this client expects party '" + directory.name(gatewayParty)
            + "' (#" + gatewayParty + " of " + directory.size() + "); the parties' lists (spark.mpc.parties) differ");
      }
      Connection c = new Connection(s, in, out);
      open.add(c);
      if (closed) {
        c.close();
        throw new MpcChannelException("the gateway client of party '" + directory.self().name() + "' is closed");
      }
      LOG.debug("gateway client of party '{}': connected to {}", directory.self().name(), gatewayAddress());
      return c;
    } catch (IOException | RuntimeException e) {
      Gateway.closeQuietly(s);
      throw e;
    }
  }

  private void ensureOpen(String what) {
    if (closed) {
      throw new MpcChannelException("the gateway client of party '" + directory.self().name()
          + "' is closed (" + what + ")");
    }
  }

  private static long saturatedMillis(Duration d) {
    try {
      return d.toMillis();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE / 4;
    }
  }



  /** One reply frame: a CLIENT_STATUS, a DATA frame (key and payload), or a peer's STATUS. */
  private static final class Reply {
    Wire.ClientStatusReply status;
    Wire.StatusReply peerStatus;
    MessageKey dataKey;
    byte[] data;
  }

  /** One pooled TLS connection; used by one thread at a time. */
  private final class Connection {
    final SSLSocket socket;
    final DataInputStream in;
    final DataOutputStream out;
    boolean broken;
    boolean replied;

    Connection(SSLSocket socket, DataInputStream in, DataOutputStream out) {
      this.socket = socket;
      this.in = in;
      this.out = out;
    }

    Reply readReply() throws IOException, Wire.MalformedFrameException {
      int type = Wire.readFrameType(in, in.readUnsignedByte());
      Reply r = new Reply();
      replied = true;
      switch (type) {
        case Wire.TYPE_CLIENT_STATUS:
          r.status = Wire.readClientStatusBody(in);
          return r;
        case Wire.TYPE_STATUS:
          r.peerStatus = Wire.readStatusBody(in);
          return r;
        case Wire.TYPE_DATA: {
          Wire.DataHeader h = Wire.readDataBody(in);
          byte[] payload = new byte[(int) h.length()];
          in.readFully(payload);
          r.dataKey = h.key();
          r.data = payload;
          return r;
        }
        default:
          broken = true;
          throw new Wire.MalformedFrameException("unexpected frame type " + type);
      }
    }

    void close() {
      open.remove(this);
      Gateway.closeQuietly(socket);
    }
  }

  @Override
  public String toString() {
    return "GatewayClient[party " + directory.self().name() + ", gateway " + gatewayAddress() + "]";
  }
}
