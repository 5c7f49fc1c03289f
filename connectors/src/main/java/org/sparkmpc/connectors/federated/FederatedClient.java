package org.sparkmpc.connectors.federated;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.sparkmpc.federated.SeedShares;
import org.sparkmpc.net.PartyCredentials;

/**
 * A client of federated secure aggregation: quantises its update ({@link Quantiser}), splits it into
 * one full vector for {@link RoundSpec#fullParty} and a fresh 32-byte seed for each other party
 * ({@link SeedShares}), and uploads each share to its party's {@link UploadEndpoint} over TLS 1.3
 * ({@link UploadWire}), all parties in parallel.
 *
 * <p>The client authenticates with its certificate from the clients' CA; it accepts an endpoint only if
 * it presents exactly the certificate pinned for the expected party in the parties' trust file
 * ({@link org.sparkmpc.net.KeyGen#writeTrust}). No party sees more than one share of the update: the
 * seeds are independent of it and the full vector is masked by the expansions of seeds its holder never
 * receives. Cost for {@code d} dimensions: {@code d * width} bytes to one party, 32 bytes to the
 * others, plus headers and TLS (a few KiB per party).
 */
public final class FederatedClient {

  /** Default connect timeout. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  /** Default read timeout (each read of the endpoint's handshake and reply). */
  public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(60);

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int CHUNK = 64 * 1024;

  /**
   * One party's outcome.
   *
   * @param party        the party's name
   * @param role         what it was sent
   * @param accepted     whether it stored the share
   * @param answered     whether it replied (accepted or refused); false: the connection failed
   * @param reason       its reply, or the connection error
   * @param bytesWritten bytes the client wrote to this party's socket (TLS included)
   * @param bytesRead    bytes the client read from it
   */
  public record PartyStatus(String party, ShareRole role, boolean accepted, boolean answered, String reason, long bytesWritten,
                            long bytesRead) {}

  /**
   * A submission's outcome.
   *
   * @param clientId     this client
   * @param roundId      the round
   * @param nonce        the submission nonce, hex
   * @param parties      each party's outcome, in party-index order
   * @param bytesWritten bytes written on the wire to all parties, TLS records and handshakes included
   * @param bytesRead    bytes read from all parties
   */
  public record Receipt(String clientId, String roundId, String nonce, List<PartyStatus> parties,
                        long bytesWritten, long bytesRead) {
    /** Whether every party stored its share. */
    public boolean accepted() {
      return parties.stream().allMatch(PartyStatus::accepted);
    }
  }

  private final ClientCertificates.ClientIdentity identity;
  private final Map<String, X509Certificate> partyCerts;
  private final Map<String, InetSocketAddress> endpoints;
  private final Duration connectTimeout;
  private final Duration readTimeout;

  private FederatedClient(ClientCertificates.ClientIdentity identity, Map<String, X509Certificate> partyCerts,
      Map<String, InetSocketAddress> endpoints, Duration connectTimeout, Duration readTimeout) {
    this.identity = Objects.requireNonNull(identity, "identity");
    this.partyCerts = Map.copyOf(partyCerts);
    this.endpoints = Map.copyOf(endpoints);
    if (connectTimeout.isNegative() || connectTimeout.isZero() || readTimeout.isNegative() || readTimeout.isZero()) {
      throw new IllegalArgumentException("timeouts must be positive");
    }
    this.connectTimeout = connectTimeout;
    this.readTimeout = readTimeout;
  }

  /**
   * A client from its key and certificate files, the parties' trust file and their endpoints.
   *
   * @param endpoints party name to {@code host:port}
   */
  public static FederatedClient fromFiles(Path keyFile, Path certFile, Path trustFile, Map<String, String> endpoints) {
    return create(ClientCertificates.readClient(keyFile, certFile), trustFile, endpoints);
  }

  /** A client from an in-memory identity, the parties' trust file and their endpoints (party name to {@code host:port}). */
  public static FederatedClient create(ClientCertificates.ClientIdentity identity, Path trustFile,
      Map<String, String> endpoints) {
    return create(identity, PartyCredentials.readTrustBundle(trustFile), endpoints);
  }

  /**
   * A client from an in-memory identity and the parties' certificates (party name to certificate, as
   * {@link PartyCredentials#readTrustBundle} reads them; read once for many clients).
   */
  public static FederatedClient create(ClientCertificates.ClientIdentity identity,
      Map<String, X509Certificate> partyCerts, Map<String, String> endpoints) {
    Map<String, InetSocketAddress> addresses = new LinkedHashMap<>();
    endpoints.forEach((party, hostPort) -> addresses.put(party, parse(party, hostPort)));
    return new FederatedClient(identity, partyCerts, addresses, DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT);
  }

  /** This client with other connect and read timeouts. */
  public FederatedClient withTimeouts(Duration connect, Duration read) {
    return new FederatedClient(identity, partyCerts, endpoints, connect, read);
  }

  /** This client's id (its certificate's CN). */
  public String clientId() {
    return identity.clientId();
  }

  /**
   * Quantise {@code update}, split it and upload one share to every party of {@code spec}.
   *
   * @return every party's status and the bytes on the wire
   * @throws IllegalArgumentException for an update {@link Quantiser} refuses, or a party without a
   *     trusted certificate or endpoint
   * @throws FederatedUploadException naming the party, if a party refused (with its reason) or could
   *     not be reached
   */
  public Receipt submit(RoundSpec spec, float[] update) throws IOException {
    for (String p : spec.parties()) {
      if (!partyCerts.containsKey(p)) {
        throw new IllegalArgumentException("no trusted certificate for party '" + p + "'");
      }
      if (!endpoints.containsKey(p)) {
        throw new IllegalArgumentException("no endpoint for party '" + p + "'");
      }
    }
    long[] full = Quantiser.quantise(spec, update);
    int parties = spec.parties().size();
    int fullParty = spec.fullParty(identity.clientId());
    byte[][] seeds = new byte[parties][];
    for (int j = 0; j < parties; j++) {
      if (j != fullParty) {
        seeds[j] = new byte[SeedShares.SEED_BYTES];
        RANDOM.nextBytes(seeds[j]);
        SeedShares.subtractExpansion(seeds[j], spec.width(), full);
      }
    }
    byte[] nonce = new byte[UploadWire.NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    byte[] digest = spec.digest();
    ExecutorService pool = Executors.newFixedThreadPool(parties, r -> {
      Thread t = new Thread(r, "federated-upload-" + identity.clientId());
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<PartyStatus>> futures = new ArrayList<>();
      for (int j = 0; j < parties; j++) {
        int party = j;
        UploadWire.Header h = new UploadWire.Header(digest, spec.roundId(), party,
            party == fullParty ? ShareRole.FULL : ShareRole.SEED, nonce, spec.dims(), spec.width());
        futures.add(pool.submit(() -> upload(spec.parties().get(party), h, seeds[party], full)));
      }
      List<PartyStatus> statuses = new ArrayList<>();
      for (Future<PartyStatus> f : futures) {
        statuses.add(f.get());
      }
      long written = statuses.stream().mapToLong(PartyStatus::bytesWritten).sum();
      long read = statuses.stream().mapToLong(PartyStatus::bytesRead).sum();
      Receipt receipt = new Receipt(identity.clientId(), spec.roundId(), HexFormat.of().formatHex(nonce),
          List.copyOf(statuses), written, read);
      for (PartyStatus s : statuses) {
        if (!s.accepted()) {
          throw new FederatedUploadException(s.party(), s.answered(),
              "party '" + s.party() + "' " + (s.answered() ? "refused" : "did not store")
                  + " the " + s.role() + " share of client '"
                  + identity.clientId() + "' for round '" + spec.roundId() + "': " + s.reason(), receipt, null);
        }
      }
      return receipt;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while uploading", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("upload task failed", e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  /** One party's upload; connection errors become a status, never an exception. */
  private PartyStatus upload(String party, UploadWire.Header h, byte[] seed, long[] full) {
    CountingSocket raw = new CountingSocket();
    String reason;
    boolean accepted = false;
    boolean answered = false;
    InetSocketAddress address = endpoints.get(party);
    try {
      raw.connect(address, (int) connectTimeout.toMillis());
      raw.setSoTimeout((int) readTimeout.toMillis());
      SSLContext ctx = TlsContexts.pinned(identity.key(), identity.certificate(), party, partyCerts.get(party));
      try (SSLSocket tls = (SSLSocket) ctx.getSocketFactory().createSocket(raw, address.getHostString(),
          address.getPort(), true)) {
        tls.setEnabledProtocols(new String[] {"TLSv1.3"});
        IOException sendFailure = null;
        try {
          DataOutputStream out = new DataOutputStream(new BufferedOutputStream(tls.getOutputStream(), CHUNK));
          UploadWire.writeHeader(out, h);
          if (h.role() == ShareRole.SEED) {
            out.write(seed);
          } else {
            writeFull(out, full, h.width());
          }
          out.flush();
          tls.shutdownOutput();
        } catch (IOException e) {
          sendFailure = e; // the party may have refused early: its reply says why
        }
        try {
          UploadWire.Reply reply = UploadWire.readReply(new DataInputStream(tls.getInputStream()));
          accepted = reply.accepted();
          answered = true;
          reason = reply.reason();
        } catch (IOException e) {
          throw sendFailure != null ? sendFailure : e;
        }
      }
    } catch (IOException e) {
      reason = "upload to " + address + " failed: " + e.getMessage();
      closeQuietly(raw);
    }
    return new PartyStatus(party, h.role(), accepted, answered, reason, raw.written(), raw.read());
  }

  private static void writeFull(DataOutputStream out, long[] full, int width) throws IOException {
    byte[] buf = new byte[CHUNK];
    int per = CHUNK / width;
    for (int i = 0; i < full.length; i += per) {
      int n = Math.min(per, full.length - i);
      SeedShares.encodeFull(full, i, n, width, buf, 0);
      out.write(buf, 0, n * width);
    }
  }

  private static InetSocketAddress parse(String party, String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new IllegalArgumentException("endpoint of party '" + party + "' must be host:port, was '" + hostPort + "'");
    }
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("endpoint of party '" + party + "' has a bad port: '" + hostPort + "'");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("endpoint of party '" + party + "' has a bad port: '" + hostPort + "'");
    }
    return new InetSocketAddress(host, port);
  }

  private static void closeQuietly(java.net.Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // nothing to do
    }
  }
}
