package org.sparkmpc.connectors.federated;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkmpc.net.PartyCredentials;

/**
 * One aggregation party's upload endpoint for federated secure aggregation: a TLS 1.3 server that
 * stores each client's share of the open round in the round's directory ({@link UploadStore} reads
 * them). Message format: {@link UploadWire}.
 *
 * <p>Who may upload: the server presents the party's own certificate (as {@link
 * org.sparkmpc.net.KeyGen} wrote it) and requires a client certificate issued by the clients' CA
 * ({@link ClientCertificates}); the client id is the CN of that verified certificate, never a field of
 * the message. What is stored: an upload for the open round whose every field agrees with the round
 * (digest, round id, this party's index, the role {@link RoundSpec#roleOf} gives this client, dims,
 * width), with exactly the declared payload and nothing after it, from a client not already accepted
 * or being received, before the round closes. Anything else is refused with a reason, and nothing of it
 * is kept. Payloads are streamed to a temporary file, forced to disk, and renamed into place; the
 * reply "accepted" is sent after the rename.
 *
 * <p>Threads: one acceptor and a bounded pool of connection threads ({@link Settings#threads()}, with
 * {@link Settings#queue()} connections waiting; beyond that a connection is closed at once). A slow or
 * silent client holds one thread for at most {@link Settings#readTimeout()} per read.
 *
 * <p>Restart: {@link #open} on a directory that already holds complete uploads of the same round
 * counts them as accepted (a client among them is still refused as a duplicate) and deletes
 * temporary files. Log lines name clients, rounds and reasons; never a value, seed or share.
 */
public final class UploadEndpoint implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(UploadEndpoint.class);
  private static final int CHUNK = 64 * 1024;

  /**
   * @param readTimeout how long one read may wait for a client (default 30 s)
   * @param threads     connection threads (default 16)
   * @param queue       connections accepted and waiting for a thread (default 64)
   */
  public record Settings(Duration readTimeout, int threads, int queue) {
    public Settings {
      if (readTimeout.isNegative() || readTimeout.isZero() || threads < 1 || queue < 1) {
        throw new IllegalArgumentException("upload endpoint settings must be positive");
      }
    }

    /** 30 s, 16 threads, 64 waiting. */
    public static Settings defaults() {
      return new Settings(Duration.ofSeconds(30), 16, 64);
    }
  }

  /**
   * A closed round.
   *
   * @param roundId       the round
   * @param accepted      the stored uploads, sorted by client id
   * @param quorumReached whether the quorum closed it (else the deadline or {@link #close()} did)
   */
  public record Closed(String roundId, List<UploadStore.Entry> accepted, boolean quorumReached) {}

  /** The open (or last) round and who is in it; guarded by {@link #lock}. */
  private static final class Round {
    final RoundSpec spec;
    final byte[] digest;
    final int selfIndex;
    final Path dir;
    final int quorum;
    final Instant deadline;
    final Map<String, UploadStore.Entry> accepted = new LinkedHashMap<>();
    final Set<String> receiving = new HashSet<>();
    boolean closed;
    boolean quorumReached;

    Round(RoundSpec spec, int selfIndex, Path dir, int quorum, Instant deadline) {
      this.spec = spec;
      this.digest = spec.digest();
      this.selfIndex = selfIndex;
      this.dir = dir;
      this.quorum = quorum;
      this.deadline = deadline;
    }
  }

  private final SSLContext context;
  private final String partyName;
  private final Settings settings;
  private final Object lock = new Object();
  private Round round;
  private SSLServerSocket server;
  private ThreadPoolExecutor pool;
  private Thread acceptor;

  /** An endpoint with {@link Settings#defaults()}. */
  public UploadEndpoint(Path partyKeyFile, Path partyCertFile, Path clientCaFile) {
    this(partyKeyFile, partyCertFile, clientCaFile, Settings.defaults());
  }

  /**
   * @param partyKeyFile  this party's private key (PEM)
   * @param partyCertFile this party's certificate (PEM, CN = party name)
   * @param clientCaFile  the clients' CA certificate(s) (PEM)
   */
  public UploadEndpoint(Path partyKeyFile, Path partyCertFile, Path clientCaFile, Settings settings) {
    List<X509Certificate> own = PartyCredentials.readCertificates(partyCertFile);
    if (own.size() != 1) {
      throw new IllegalArgumentException("certificate file " + partyCertFile + " must hold exactly one certificate");
    }
    this.partyName = PartyCredentials.commonName(own.get(0));
    this.context = TlsContexts.endpoint(PartyCredentials.readPrivateKey(partyKeyFile), own.get(0),
        PartyCredentials.readCertificates(clientCaFile));
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /** Listen on {@code port} of the loopback and all other interfaces (0: any free port, see {@link #port()}). */
  public synchronized void start(int port) throws IOException {
    if (server != null) {
      throw new IllegalStateException("upload endpoint of party '" + partyName + "' is already started");
    }
    SSLServerSocket s = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(port, 128,
        (InetAddress) null);
    s.setEnabledProtocols(new String[] {"TLSv1.3"});
    s.setNeedClientAuth(true);
    server = s;
    AtomicInteger n = new AtomicInteger();
    pool = new ThreadPoolExecutor(settings.threads(), settings.threads(), 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(settings.queue()), r -> {
          Thread t = new Thread(r, "upload-" + partyName + "-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    acceptor = new Thread(this::acceptLoop, "upload-accept-" + partyName);
    acceptor.setDaemon(true);
    acceptor.start();
    LOG.info("party '{}' accepts federated uploads on port {}", partyName, s.getLocalPort());
  }

  /** The port listened on. */
  public synchronized int port() {
    if (server == null) {
      throw new IllegalStateException("upload endpoint is not started");
    }
    return server.getLocalPort();
  }

  /**
   * Open a round: accept uploads of {@code spec} for this party until {@code quorum} are stored or
   * {@code deadline} passes. Complete uploads already in {@code roundDir} (an endpoint restarted) count
   * as accepted; temporary files there are deleted.
   *
   * @throws IllegalArgumentException if this party is not {@code spec}'s party {@code selfIndex}, the
   *     quorum is not 1..maxClients, or a file in {@code roundDir} belongs to another round
   * @throws IllegalStateException if a round is open
   */
  public void open(RoundSpec spec, int selfIndex, Path roundDir, int quorum, Instant deadline) throws IOException {
    Objects.requireNonNull(deadline, "deadline");
    if (selfIndex < 0 || selfIndex >= spec.parties().size() || !spec.parties().get(selfIndex).equals(partyName)) {
      throw new IllegalArgumentException("this endpoint is party '" + partyName + "', not party " + selfIndex
          + " of round '" + spec.roundId() + "' " + spec.parties());
    }
    if (quorum < 1 || quorum > spec.maxClients()) {
      throw new IllegalArgumentException("quorum must be 1 to maxClients " + spec.maxClients() + ", was " + quorum);
    }
    synchronized (lock) {
      if (round != null && !round.closed) {
        throw new IllegalStateException("round '" + round.spec.roundId() + "' is still open");
      }
    }
    Files.createDirectories(roundDir);
    Round r = new Round(spec, selfIndex, roundDir, quorum, deadline);
    try (DirectoryStream<Path> files = Files.newDirectoryStream(roundDir, "*" + UploadStore.TEMP_SUFFIX)) {
      for (Path f : files) {
        Files.deleteIfExists(f);
      }
    }
    for (UploadStore.Entry e : UploadStore.list(roundDir)) {
      UploadStore.checkAgainst(UploadStore.readHeader(e.path()), spec, selfIndex, e.path());
      r.accepted.put(e.clientId(), e);
    }
    synchronized (lock) {
      if (round != null && !round.closed) {
        throw new IllegalStateException("round '" + round.spec.roundId() + "' is still open");
      }
      round = r;
      closeIfDone(r);
    }
    LOG.info("party '{}' opened round '{}' ({} uploads already stored, quorum {}, deadline {})", partyName,
        spec.roundId(), r.accepted.size(), quorum, deadline);
  }

  /**
   * Wait until the open round's deadline passes or its quorum is stored, close it (later uploads are
   * refused with "round closed") and return what was stored.
   */
  public Closed awaitClose() throws InterruptedException {
    synchronized (lock) {
      Round r = round;
      if (r == null) {
        throw new IllegalStateException("no round was opened");
      }
      while (!r.closed) {
        long waitMs = Duration.between(Instant.now(), r.deadline).toMillis();
        if (waitMs <= 0) {
          r.closed = true;
          break;
        }
        lock.wait(waitMs);
      }
      List<UploadStore.Entry> entries = new ArrayList<>(r.accepted.values());
      entries.sort(Comparator.comparing(UploadStore.Entry::clientId));
      LOG.info("party '{}' closed round '{}' with {} uploads{}", partyName, r.spec.roundId(), entries.size(),
          r.quorumReached ? " (quorum)" : "");
      return new Closed(r.spec.roundId(), List.copyOf(entries), r.quorumReached);
    }
  }

  /** Stop listening and end every connection; an open round is closed. */
  @Override
  public void close() {
    synchronized (lock) {
      if (round != null) {
        round.closed = true;
        lock.notifyAll();
      }
    }
    synchronized (this) {
      try {
        if (server != null) {
          server.close();
        }
      } catch (IOException e) {
        LOG.debug("closing the upload server socket: {}", e.getMessage());
      }
      if (pool != null) {
        pool.shutdownNow();
      }
      if (acceptor != null) {
        try {
          acceptor.join(5000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private void acceptLoop() {
    SSLServerSocket s;
    synchronized (this) {
      s = server;
    }
    while (!s.isClosed()) {
      SSLSocket socket;
      try {
        socket = (SSLSocket) s.accept();
      } catch (IOException e) {
        if (!s.isClosed()) {
          LOG.warn("party '{}': accepting an upload connection failed: {}", partyName, e.getMessage());
        }
        continue;
      }
      try {
        pool.execute(() -> handle(socket));
      } catch (RejectedExecutionException e) {
        LOG.warn("party '{}': too many upload connections; closing one from {}", partyName,
            socket.getRemoteSocketAddress());
        closeQuietly(socket);
      }
    }
  }

  /** One connection: handshake, header, checks, payload to disk, reply. Never throws. */
  private void handle(SSLSocket socket) {
    String clientId = null;
    try (socket) {
      socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, settings.readTimeout().toMillis()));
      socket.startHandshake();
      X509Certificate peer = (X509Certificate) socket.getSession().getPeerCertificates()[0];
      String cn = PartyCredentials.commonName(peer);
      DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), CHUNK));
      DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1024));
      try {
        if (!ClientCertificates.isValidClientId(cn)) {
          throw new UploadWire.Refusal("the client certificate's CN is not a valid client id");
        }
        clientId = cn;
        receive(clientId, in);
        UploadWire.writeReply(out, true, "accepted");
      } catch (UploadWire.Refusal refusal) {
        LOG.info("party '{}' refused an upload of client '{}': {}", partyName, clientId, refusal.getMessage());
        UploadWire.writeReply(out, false, refusal.getMessage());
      } catch (SocketTimeoutException e) {
        LOG.info("party '{}': client '{}' timed out", partyName, clientId);
        UploadWire.writeReply(out, false, "read timed out");
      }
    } catch (EOFException e) {
      LOG.info("party '{}': client '{}' disconnected before the upload was complete", partyName, clientId);
    } catch (SSLException e) {
      LOG.info("party '{}': TLS with {} failed: {}", partyName, clientId != null ? "client '" + clientId + "'"
          : socket.getRemoteSocketAddress(), e.getMessage());
    } catch (IOException | RuntimeException e) {
      LOG.warn("party '{}': upload connection of client '{}' failed: {}", partyName, clientId, e.toString());
    }
  }

  /** Read and check one upload, store it and count it; a {@link UploadWire.Refusal} says why not. */
  private void receive(String clientId, DataInputStream in) throws IOException, UploadWire.Refusal {
    UploadWire.Header h = UploadWire.readHeader(in);
    Round r;
    synchronized (lock) {
      r = round;
      if (r == null || !r.spec.roundId().equals(h.roundId())) {
        throw new UploadWire.Refusal("round '" + h.roundId() + "' is not open at party '" + partyName + "'");
      }
      closeIfDone(r);
      if (r.closed) {
        throw new UploadWire.Refusal("round closed");
      }
    }
    check(r, clientId, h);
    claim(r, clientId);
    Path tmp = r.dir.resolve(UploadStore.fileName(clientId) + UploadStore.TEMP_SUFFIX);
    boolean stored = false;
    try {
      write(r, clientId, h, in, tmp);
      commit(r, clientId, h, tmp);
      stored = true;
    } finally {
      synchronized (lock) {
        r.receiving.remove(clientId);
      }
      if (!stored) {
        Files.deleteIfExists(tmp);
      }
    }
    LOG.info("party '{}' stored the {} share of client '{}' for round '{}'", partyName, h.role(), clientId,
        r.spec.roundId());
  }

  private void check(Round r, String clientId, UploadWire.Header h) throws UploadWire.Refusal {
    String id = r.spec.roundId();
    if (!MessageDigest.isEqual(h.digest(), r.digest)) {
      throw new UploadWire.Refusal("the upload's parameters (spec digest) differ from round '" + id + "'");
    }
    if (h.party() != r.selfIndex) {
      throw new UploadWire.Refusal("upload for party " + h.party() + " reached party " + r.selfIndex
          + " ('" + partyName + "')");
    }
    ShareRole expected = r.spec.roleOf(clientId, r.selfIndex);
    if (h.role() != expected) {
      throw new UploadWire.Refusal("role " + h.role() + ", but this client's role at party '" + partyName
          + "' is " + expected);
    }
    if (h.dims() != r.spec.dims()) {
      throw new UploadWire.Refusal("dims " + h.dims() + ", round '" + id + "' has " + r.spec.dims());
    }
    if (h.width() != r.spec.width()) {
      throw new UploadWire.Refusal("width " + h.width() + ", round '" + id + "' has " + r.spec.width());
    }
  }

  private void claim(Round r, String clientId) throws UploadWire.Refusal {
    synchronized (lock) {
      if (r.accepted.containsKey(clientId)) {
        throw new UploadWire.Refusal("client '" + clientId + "' already submitted to round '" + r.spec.roundId() + "'");
      }
      if (!r.receiving.add(clientId)) {
        throw new UploadWire.Refusal("an upload of client '" + clientId + "' is already being received");
      }
    }
  }

  /** Stream the payload into {@code tmp} behind the file header, check nothing follows, force to disk. */
  private static void write(Round r, String clientId, UploadWire.Header h, DataInputStream in, Path tmp)
      throws IOException, UploadWire.Refusal {
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE)) {
      OutputStream os = Channels.newOutputStream(ch);
      DataOutputStream file = new DataOutputStream(new BufferedOutputStream(os, CHUNK));
      UploadStore.writeHeader(file, new UploadStore.FileHeader(r.digest, r.selfIndex, clientId, h.nonce(),
          h.role(), h.dims(), h.width()));
      long left = r.spec.payloadBytes(h.role());
      byte[] buf = new byte[CHUNK];
      while (left > 0) {
        int n = (int) Math.min(buf.length, left);
        in.readFully(buf, 0, n);
        file.write(buf, 0, n);
        left -= n;
      }
      if (in.read() != -1) {
        throw new UploadWire.Refusal("bytes after the declared payload");
      }
      file.flush();
      ch.force(true);
    }
  }

  /** Rename into place and count, unless the round closed meanwhile. */
  private void commit(Round r, String clientId, UploadWire.Header h, Path tmp) throws IOException, UploadWire.Refusal {
    Path target = r.dir.resolve(UploadStore.fileName(clientId));
    synchronized (lock) {
      closeIfDone(r);
      if (r.closed) {
        throw new UploadWire.Refusal("round closed");
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      r.accepted.put(clientId, new UploadStore.Entry(clientId, HexFormat.of().formatHex(h.nonce()), h.role(),
          target.toString()));
      closeIfDone(r);
    }
  }

  /** Close {@code r} if its deadline passed or its quorum is stored; caller holds {@link #lock}. */
  private void closeIfDone(Round r) {
    if (r.closed) {
      return;
    }
    if (r.accepted.size() >= r.quorum) {
      r.closed = true;
      r.quorumReached = true;
      lock.notifyAll();
    } else if (!Instant.now().isBefore(r.deadline)) {
      r.closed = true;
      lock.notifyAll();
    }
  }

  private static void closeQuietly(SSLSocket s) {
    try {
      s.close();
    } catch (IOException e) {
      // nothing to do
    }
  }
}
