package org.sparkmpc.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkmpc.net.NetTestSupport.assertNoMarker;
import static org.sparkmpc.net.NetTestSupport.markerPayload;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Who may talk to a gateway, and what a gateway does with frames that break the protocol. */
class GatewaySecurityTest {

  private static final List<String> PARTIES = List.of("a", "b", "c");
  private static final Duration TIMEOUT = Duration.ofSeconds(2);

  @TempDir
  static Path keys;

  @TempDir
  static Path rogueKeys;

  @BeforeAll
  static void keygen() {
    KeyGen.generateDemo(PARTIES, keys);
    // Rogue identities: same names as real parties (b, c) and an unknown name, none in the real trust file.
    for (String n : List.of("b", "c", "mallory")) {
      KeyGen.generateParty(n, rogueKeys);
    }
  }

  /** A gateway with a rogue identity {@code name}, trusting the real party a (and c) plus itself. */
  private static Gateway rogue(String name, List<String> names, int[] ports, String trustName) {
    Path trust = rogueKeys.resolve(trustName);
    List<Path> certs = new java.util.ArrayList<>();
    for (String n : names) {
      certs.add(n.equals(name) ? KeyGen.certFile(rogueKeys, n) : KeyGen.certFile(keys, n));
    }
    KeyGen.writeTrust(trust, certs);
    GatewayConfig cfg = new GatewayConfig(NetTestSupport.directory(names, ports, name),
        KeyGen.keyFile(rogueKeys, name), KeyGen.certFile(rogueKeys, name), trust, TIMEOUT,
        GatewayConfig.DEFAULT_MAX_BUFFERED_BYTES);
    return Gateway.start(cfg);
  }

  @Test
  void clientWithImpostorCertificateForARealNameIsRefused() {
    try (NetTestSupport.Cluster cluster = new NetTestSupport.Cluster(keys, PARTIES, TIMEOUT,
        GatewayConfig.DEFAULT_MAX_BUFFERED_BYTES)) {
      int[] ports = {cluster.ports[0], NetTestSupport.freePort(), cluster.ports[2]};
      try (Gateway fakeB = rogue("b", PARTIES, ports, "trust-fake-b.pem")) {
        MessageKey k = new MessageKey("s", 1, 0, 0, 1);
        long t0 = System.nanoTime();
        PeerUnavailableException e = assertThrows(PeerUnavailableException.class, () -> fakeB.send(0, k, markerPayload(4, 0)));
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < TIMEOUT.toMillis() + 1000);
        assertTrue(e.getMessage().contains("certificate not trusted") && e.getMessage().contains("party 'a'"),
            e.getMessage());
        assertNoMarker(e);
        assertThrows(PeerTimeoutException.class, () -> cluster.get(0).receive(k, Duration.ofMillis(100)));
      }
      // The real b still gets through.
      cluster.get(1).send(0, new MessageKey("s", 1, 0, 1, 1), new byte[] {1});
      assertArrayEquals(new byte[] {1}, cluster.get(0).receive(new MessageKey("s", 1, 0, 1, 1), TIMEOUT));
    }
  }

  @Test
  void clientWithUnknownNameIsRefused() {
    try (NetTestSupport.Cluster cluster = new NetTestSupport.Cluster(keys, PARTIES, TIMEOUT,
        GatewayConfig.DEFAULT_MAX_BUFFERED_BYTES)) {
      int[] ports = {cluster.ports[0], NetTestSupport.freePort()};
      try (Gateway mallory = rogue("mallory", List.of("a", "mallory"), ports, "trust-mallory.pem")) {
        PeerUnavailableException e = assertThrows(PeerUnavailableException.class,
            () -> mallory.send(0, new MessageKey("s", 1, 0, 0, 1), markerPayload(4, 0)));
        assertTrue(e.getMessage().contains("certificate not trusted"), e.getMessage());
        assertNoMarker(e);
      }
    }
  }

  @Test
  void serverWithImpostorCertificateIsRefused() {
    int[] ports = {NetTestSupport.freePort(), NetTestSupport.freePort(), NetTestSupport.freePort()};
    GatewayConfig cfgA = GatewayConfig.defaults(NetTestSupport.directory(PARTIES, ports, "a"), keys).withTimeout(TIMEOUT);
    try (Gateway a = Gateway.start(cfgA);
         Gateway fakeC = rogue("c", PARTIES, ports, "trust-fake-c.pem")) {
      MessageKey k = new MessageKey("s", 1, 0, 0, 0);
      long t0 = System.nanoTime();
      PeerUnavailableException e = assertThrows(PeerUnavailableException.class, () -> a.send(2, k, markerPayload(4, 0)));
      assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < TIMEOUT.toMillis(),
          "an untrusted certificate is not retried");
      String m = e.getMessage();
      assertTrue(m.contains("party 'c'") && m.contains("certificate not trusted")
          && m.contains("not the pinned certificate of party 'c'") && m.contains(k.describe()), m);
      assertNoMarker(e);
      assertThrows(PeerTimeoutException.class, () -> fakeC.receive(k, Duration.ofMillis(100)));
    }
  }

  /** A raw TLS connection to party {@code to} with the real credentials of party {@code as}. */
  private static final class RawClient implements AutoCloseable {
    final SSLSocket socket;
    final DataInputStream in;
    final DataOutputStream out;

    RawClient(String as, int to, int[] ports) throws IOException {
      PartyDirectory dir = NetTestSupport.directory(PARTIES, ports, as);
      SSLContext ctx = PartyCredentials.load(GatewayConfig.defaults(dir, keys)).clientContext(to);
      socket = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", ports[to]);
      SSLParameters p = new SSLParameters();
      p.setProtocols(new String[] {"TLSv1.3"});
      socket.setSSLParameters(p);
      socket.setSoTimeout(5000);
      socket.startHandshake();
      in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
      out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
    }

    Wire.Hello hello() throws Exception {
      return Wire.readHello(in);
    }

    /** The STATUS answer, or {@code null} if the gateway closed the connection without one. */
    Wire.StatusReply status() throws Exception {
      try {
        return Wire.readStatus(in);
      } catch (IOException e) {
        return null;
      }
    }

    boolean closedByPeer() {
      try {
        return in.read() < 0;
      } catch (IOException e) {
        return true;
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  @Test
  void garbageAndTruncatedFramesAreRefusedAndTheGatewayKeepsServing() throws Exception {
    try (NetTestSupport.Cluster cluster = new NetTestSupport.Cluster(keys, PARTIES, TIMEOUT,
        GatewayConfig.DEFAULT_MAX_BUFFERED_BYTES)) {
      try (RawClient raw = new RawClient("b", 0, cluster.ports)) {
        assertEquals(new Wire.Hello(0, 3), raw.hello());
        raw.out.write(markerPayload(16, 0));
        raw.out.flush();
        Wire.StatusReply reply = raw.status();
        assertEquals(DeliveryStatus.MALFORMED, reply.status());
        assertTrue(reply.reason().contains("magic"), reply.reason());
        assertTrue(raw.closedByPeer());
      }
      try (RawClient raw = new RawClient("b", 0, cluster.ports)) {
        raw.hello();
        raw.out.writeInt(Wire.MAGIC);
        raw.out.writeByte(99);
        raw.out.writeByte(Wire.TYPE_DATA);
        raw.out.flush();
        Wire.StatusReply reply = raw.status();
        assertEquals(DeliveryStatus.MALFORMED, reply.status());
        assertTrue(reply.reason().contains("version 99"), reply.reason());
      }
      try (RawClient raw = new RawClient("b", 0, cluster.ports)) {
        raw.hello();
        raw.out.writeInt(Wire.MAGIC);
        raw.out.writeByte(Wire.VERSION);
        raw.out.writeByte(Wire.TYPE_DATA);
        raw.out.writeInt(1);
        raw.out.writeShort(1);
        raw.out.writeByte('s');
        raw.out.writeLong(1);
        raw.out.writeInt(0);
        raw.out.writeInt(0);
        raw.out.writeLong(Long.MAX_VALUE);
        raw.out.flush();
        Wire.StatusReply reply = raw.status();
        assertEquals(DeliveryStatus.MALFORMED, reply.status());
        assertTrue(reply.reason().contains("payload length"), reply.reason());
      }
      try (RawClient raw = new RawClient("b", 0, cluster.ports)) {
        // Truncated: announces 1000 payload bytes, sends 10, hangs up.
        raw.hello();
        raw.out.writeInt(Wire.MAGIC);
        raw.out.writeByte(Wire.VERSION);
        raw.out.writeByte(Wire.TYPE_DATA);
        raw.out.writeInt(1);
        raw.out.writeShort(1);
        raw.out.writeByte('t');
        raw.out.writeLong(1);
        raw.out.writeInt(0);
        raw.out.writeInt(0);
        raw.out.writeLong(1000);
        raw.out.write(new byte[10]);
        raw.out.flush();
      }
      MessageKey k = new MessageKey("t", 1, 0, 0, 1);
      assertThrows(PeerTimeoutException.class, () -> cluster.get(0).receive(k, Duration.ofMillis(200)));
      assertEquals(0, cluster.get(0).bufferedBytes(), "the reservation of the truncated frame was released");
      cluster.get(1).send(0, k, new byte[] {5});
      assertArrayEquals(new byte[] {5}, cluster.get(0).receive(k, TIMEOUT));
    }
  }

  @Test
  void frameClaimingAnotherSenderIsRefused() throws Exception {
    try (NetTestSupport.Cluster cluster = new NetTestSupport.Cluster(keys, PARTIES, TIMEOUT,
        GatewayConfig.DEFAULT_MAX_BUFFERED_BYTES)) {
      MessageKey asC = new MessageKey("s", 1, 0, 0, 2);
      try (RawClient raw = new RawClient("b", 0, cluster.ports)) {
        raw.hello();
        Wire.writeData(raw.out, asC, markerPayload(32, 0));
        raw.out.flush();
        Wire.StatusReply reply = raw.status();
        assertEquals(DeliveryStatus.REFUSED, reply.status());
        assertTrue(reply.reason().contains("party 'c'") && reply.reason().contains("party 'b'"), reply.reason());
        assertTrue(raw.closedByPeer(), "the impostor's connection is closed");
      }
      assertThrows(PeerTimeoutException.class, () -> cluster.get(0).receive(asC, Duration.ofMillis(200)));
      // Well-formed frames from the real b are still served on a new connection.
      try (RawClient raw = new RawClient("b", 0, cluster.ports)) {
        raw.hello();
        MessageKey asB = asC.withSender(1);
        Wire.writeData(raw.out, asB, new byte[] {1, 2});
        raw.out.flush();
        assertEquals(DeliveryStatus.OK, raw.status().status());
        assertArrayEquals(new byte[] {1, 2}, cluster.get(0).receive(asB, TIMEOUT));
      }
      cluster.get(2).send(0, asC, new byte[] {3});
      assertArrayEquals(new byte[] {3}, cluster.get(0).receive(asC, TIMEOUT));
    }
  }
}
