package org.sparkmpc.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.crypto.PairwiseKeys;
import org.sparkmpc.net.KeyGen;
import org.sparkmpc.net.PartyDirectory;

/** Bad input: executor tickets that were altered, or presented for another session, party or gateway. */
class SessionTicketTest {

  private static final String SESSION = "spark-mpc-0123abcd";

  @TempDir
  static Path keys;

  @BeforeAll
  static void keygen() {
    KeyGen.generateDemo(List.of("a", "b"), keys);
  }

  static PairwiseKeys fixedKeys() {
    byte[][] k = new byte[2][];
    k[1] = new byte[32];
    for (int i = 0; i < 32; i++) {
      k[1][i] = (byte) (0x61 + i);
    }
    return PairwiseKeys.of(0, k);
  }

  /** A ticket of party {@code self} (its own key files) for {@link #SESSION}. */
  static String ticket(Path keyDir, String self, String gatewayHost, int gatewayPort, PairwiseKeys k) {
    PartyDirectory dir = PartyDirectory.parse("a=127.0.0.1:7001,b=127.0.0.1:7002", self);
    return SessionTicket.write(dir, 2, SESSION, k, KeyGen.keyFile(keyDir, self), KeyGen.certFile(keyDir, self),
        KeyGen.trustFile(keyDir), gatewayHost, gatewayPort, Duration.ofSeconds(7), "dealer");
  }

  private static String ticket() {
    return ticket(keys, "a", "127.0.0.1", 7001, fixedKeys());
  }

  @Test
  void aTicketOpensForItsSession() {
    SessionTicket t = SessionTicket.read(ticket(), SESSION);
    assertEquals("a", t.directory.self().name());
    assertEquals(2, t.computing);
    assertEquals("127.0.0.1:7001", t.gatewayAddress());
    assertEquals(Duration.ofSeconds(7), t.timeout);
    assertEquals("dealer", t.correlations);
    assertEquals(KeyGen.keyFile(keys, "a").toAbsolutePath(), t.key);
    assertArrayEquals(fixedKeys().seedWith(1, "x"), t.keys.seedWith(1, "x"));
    assertFalse(t.toString().contains(ticket().substring(ticket().indexOf("sealed=") + 7, ticket().length() - 1)));
  }

  @Test
  void everyAlteredByteIsRefused() {
    String ticket = ticket();
    int sealedAt = ticket.indexOf("sealed=") + "sealed=".length();
    String sealed = ticket.substring(sealedAt, ticket.length() - 1);
    int refused = 0;
    // Each byte of the header, the field names and values, the sealed keys and the line breaks.
    for (int i = 0; i < ticket.length(); i++) {
      char c = ticket.charAt(i);
      char other = c == 'A' ? 'B' : c == '\n' ? ' ' : (char) (c == '/' ? '+' : c ^ 0x01);
      String bad = ticket.substring(0, i) + other + ticket.substring(i + 1);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> SessionTicket.read(bad, SESSION), "byte " + i + " ('" + c + "') altered");
      String m = e.getMessage();
      assertTrue(m.contains(SESSION) || m.contains("key file"), m);
      assertFalse(m.contains(sealed.substring(0, 16)) || m.contains(sealed.substring(sealed.length() - 16)), m);
      refused++;
    }
    assertEquals(ticket.length(), refused);
    // Appended or removed lines too.
    assertThrows(IllegalArgumentException.class, () -> SessionTicket.read(ticket + "x=1\n", SESSION));
    assertThrows(IllegalArgumentException.class,
        () -> SessionTicket.read(ticket.replace("correlations=dealer\n", ""), SESSION));
    assertThrows(IllegalArgumentException.class,
        () -> SessionTicket.read(ticket.replace("correlations=dealer\n", "\ncorrelations=dealer\n"), SESSION));
  }

  @Test
  void aTicketPresentedForAnotherSessionIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SessionTicket.read(ticket(), "spark-mpc-ffff0000"));
    assertTrue(e.getMessage().contains("spark-mpc-ffff0000") && e.getMessage().contains(SESSION), e.getMessage());
    // Rewriting its session field to the one asked for does not help: the seal binds the session.
    String forged = ticket().replace("session=" + SESSION, "session=spark-mpc-ffff0000");
    IllegalArgumentException f = assertThrows(IllegalArgumentException.class,
        () -> SessionTicket.read(forged, "spark-mpc-ffff0000"));
    assertTrue(f.getMessage().contains("does not open"), f.getMessage());
  }

  @Test
  void aTicketPresentedForAnotherPartyOrGatewayIsRefused() {
    String ticket = ticket();
    String otherGateway = ticket.replace("gatewayPort=7001", "gatewayPort=7009");
    String otherHost = ticket.replace("gatewayHost=127.0.0.1", "gatewayHost=10.0.0.9");
    String otherParty = ticket.replace("party=a\n", "party=b\n");
    // As party b: b's own key file (as b's executors have), keys sealed by a.
    String asB = otherParty.replace(KeyGen.keyFile(keys, "a").toAbsolutePath().toString(),
        KeyGen.keyFile(keys, "b").toAbsolutePath().toString());
    for (String bad : List.of(otherGateway, otherHost, otherParty, asB)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> SessionTicket.read(bad, SESSION));
      assertTrue(e.getMessage().contains("does not open"), e.getMessage());
    }
    // b's own ticket opens only with b's key file.
    String bTicket = ticket(keys, "b", "127.0.0.1", 7002, fixedKeys());
    assertEquals("b", SessionTicket.read(bTicket, SESSION).directory.self().name());
    String bWithAKey = bTicket.replace(KeyGen.keyFile(keys, "b").toAbsolutePath().toString(),
        KeyGen.keyFile(keys, "a").toAbsolutePath().toString());
    assertThrows(IllegalArgumentException.class, () -> SessionTicket.read(bWithAKey, SESSION));
  }
}
