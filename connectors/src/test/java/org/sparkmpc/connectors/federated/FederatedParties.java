package org.sparkmpc.connectors.federated;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import javax.net.ssl.SSLSocket;
import org.sparkmpc.federated.SeedShares;
import org.sparkmpc.net.KeyGen;
import org.sparkmpc.net.PartyCredentials;

/** Test fixture: party keys, a clients' CA, one upload endpoint per party on loopback, clients, sums. */
final class FederatedParties implements AutoCloseable {
  final List<String> names;
  final Path keys;
  final Path trust;
  final Path caCert;
  final ClientCertificates.Authority ca;
  final Map<String, X509Certificate> partyCerts;
  final List<UploadEndpoint> endpoints = new ArrayList<>();
  final List<Path> roundDirs = new ArrayList<>();
  final UploadEndpoint.Settings settings;

  FederatedParties(Path dir, int parties, Duration readTimeout) throws IOException {
    names = List.of("alpha", "beta", "gamma").subList(0, parties);
    keys = dir.resolve("keys");
    trust = KeyGen.generateDemo(names, keys);
    ca = ClientCertificates.createAuthority("clients-ca", keys);
    caCert = keys.resolve("clients-ca.crt.pem");
    partyCerts = PartyCredentials.readTrustBundle(trust);
    settings = new UploadEndpoint.Settings(readTimeout, 8, 32);
    for (int i = 0; i < parties; i++) {
      roundDirs.add(dir.resolve("store-" + names.get(i)));
      endpoints.add(startEndpoint(i));
    }
  }

  UploadEndpoint startEndpoint(int i) throws IOException {
    UploadEndpoint e = new UploadEndpoint(KeyGen.keyFile(keys, names.get(i)), KeyGen.certFile(keys, names.get(i)),
        caCert, settings);
    e.start(0);
    return e;
  }

  void open(RoundSpec spec, int quorum, Instant deadline) throws IOException {
    for (int i = 0; i < endpoints.size(); i++) {
      endpoints.get(i).open(spec, i, roundDirs.get(i), quorum, deadline);
    }
  }

  Map<String, String> addresses() {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      m.put(names.get(i), "127.0.0.1:" + endpoints.get(i).port());
    }
    return m;
  }

  FederatedClient client(String id) {
    return FederatedClient.create(ClientCertificates.issue(ca, id), partyCerts, addresses());
  }

  FederatedClient client(ClientCertificates.ClientIdentity identity) {
    return FederatedClient.create(identity, partyCerts, addresses());
  }

  /** A random update; every third one well above the norm bound. */
  static float[] update(Random r, RoundSpec spec, int k) {
    float[] u = new float[spec.dims()];
    double scale = spec.clipNorm() / Math.sqrt(spec.dims()) * (k % 3 == 0 ? 5 : 0.5);
    for (int i = 0; i < u.length; i++) {
      u[i] = (float) (r.nextGaussian() * scale);
    }
    return u;
  }

  /** Party {@code i}'s sum of the given clients' stored uploads (not reduced). */
  long[] partySum(RoundSpec spec, int i, Set<String> clients) {
    long[] acc = new long[spec.dims()];
    for (UploadStore.Entry e : UploadStore.list(roundDirs.get(i))) {
      if (clients.contains(e.clientId())) {
        UploadStore.addInto(e.path(), spec, i, acc);
      }
    }
    return acc;
  }

  /** The clients stored at every party with the same nonce (what the summing job keeps). */
  Set<String> completeClients() {
    Map<String, String> nonce = new HashMap<>();
    Map<String, Integer> count = new HashMap<>();
    for (Path dir : roundDirs) {
      for (UploadStore.Entry e : UploadStore.list(dir)) {
        if (nonce.putIfAbsent(e.clientId(), e.nonce()) == null || nonce.get(e.clientId()).equals(e.nonce())) {
          count.merge(e.clientId(), 1, Integer::sum);
        }
      }
    }
    Set<String> out = new TreeSet<>();
    count.forEach((c, n) -> {
      if (n == roundDirs.size()) {
        out.add(c);
      }
    });
    return out;
  }

  /** Sum over parties of each party's sum, reduced: must equal {@code expected}. */
  void assertTotal(RoundSpec spec, Set<String> clients, long[] expected) {
    long[] total = new long[spec.dims()];
    for (int i = 0; i < names.size(); i++) {
      long[] s = partySum(spec, i, clients);
      for (int k = 0; k < total.length; k++) {
        total[k] += s[k];
      }
    }
    SeedShares.reduce(total, spec.width());
    assertArrayEquals(expected, total, "the parties' sums add up to the sum of the quantised updates");
  }

  /** Each client's upload bytes per party, built as FederatedClient does (for replays and tampering). */
  static byte[][] craft(RoundSpec spec, String clientId, float[] update) throws IOException {
    SecureRandom random = new SecureRandom();
    long[] full = Quantiser.quantise(spec, update);
    int fp = spec.fullParty(clientId);
    byte[] nonce = new byte[16];
    random.nextBytes(nonce);
    byte[][] seeds = new byte[spec.parties().size()][];
    for (int j = 0; j < seeds.length; j++) {
      if (j != fp) {
        seeds[j] = new byte[32];
        random.nextBytes(seeds[j]);
        SeedShares.subtractExpansion(seeds[j], spec.width(), full);
      }
    }
    byte[][] out = new byte[seeds.length][];
    for (int j = 0; j < seeds.length; j++) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      DataOutputStream d = new DataOutputStream(b);
      UploadWire.writeHeader(d, new UploadWire.Header(spec.digest(), spec.roundId(), j,
          j == fp ? ShareRole.FULL : ShareRole.SEED, nonce, spec.dims(), spec.width()));
      if (j == fp) {
        byte[] payload = new byte[spec.dims() * spec.width()];
        SeedShares.encodeFull(full, 0, full.length, spec.width(), payload, 0);
        d.write(payload);
      } else {
        d.write(seeds[j]);
      }
      d.flush();
      out[j] = b.toByteArray();
    }
    return out;
  }

  /** An open TLS connection to party {@code i} as {@code identity}. */
  SSLSocket connect(ClientCertificates.ClientIdentity identity, int i) throws IOException {
    Socket raw = new Socket();
    raw.connect(new InetSocketAddress("127.0.0.1", endpoints.get(i).port()), 5000);
    raw.setSoTimeout(15_000);
    SSLSocket s = (SSLSocket) TlsContexts.pinned(identity.key(), identity.certificate(), names.get(i),
        partyCerts.get(names.get(i))).getSocketFactory().createSocket(raw, "127.0.0.1", endpoints.get(i).port(), true);
    s.startHandshake();
    return s;
  }

  /** Send {@code bytes} to party {@code i}, half-close, and read the reply. */
  UploadWire.Reply send(ClientCertificates.ClientIdentity identity, int i, byte[] bytes) throws IOException {
    try (SSLSocket s = connect(identity, i)) {
      OutputStream out = s.getOutputStream();
      out.write(bytes);
      out.flush();
      s.shutdownOutput();
      InputStream in = s.getInputStream();
      return UploadWire.readReply(new DataInputStream(in));
    }
  }

  static void assertRefused(UploadWire.Reply reply, String reasonPart) {
    assertEquals(false, reply.accepted(), "refused: " + reply.reason());
    if (!reply.reason().contains(reasonPart)) {
      throw new AssertionError("reason '" + reply.reason() + "' does not mention '" + reasonPart + "'");
    }
  }

  @Override
  public void close() {
    for (UploadEndpoint e : endpoints) {
      e.close();
    }
  }
}
