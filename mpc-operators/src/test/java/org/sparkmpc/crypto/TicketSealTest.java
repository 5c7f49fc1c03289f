package org.sparkmpc.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad input: a tampered executor ticket, or one presented for another party, session or gateway. */
class TicketSealTest {

  private static final TicketSeal.Binding BINDING =
      new TicketSeal.Binding("a", "sess-1", "127.0.0.1:7001", "parties=a=127.0.0.1:7001,b=127.0.0.1:7002\n");

  private static PrivateKey partyKey;
  private static PrivateKey otherPartyKey;

  @BeforeAll
  static void partyKeys() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    partyKey = g.generateKeyPair().getPrivate();
    otherPartyKey = g.generateKeyPair().getPrivate();
  }

  private static PairwiseKeys keys() {
    byte[][] k = new byte[3][];
    k[1] = new byte[32];
    k[2] = new byte[32];
    for (int i = 0; i < 32; i++) {
      k[1][i] = (byte) (0x40 + i);
      k[2][i] = (byte) (0x80 + i);
    }
    return PairwiseKeys.of(0, k);
  }

  @Test
  void opensWithTheSameKeyAndBinding() {
    PairwiseKeys keys = keys();
    byte[] sealed = TicketSeal.seal(keys, TicketSeal.sealKey(partyKey), BINDING);
    assertEquals(TicketSeal.VERSION, sealed[0]);
    PairwiseKeys opened = TicketSeal.open(TicketSeal.sealKey(partyKey), sealed, BINDING);
    assertEquals(0, opened.self());
    assertEquals(3, opened.parties());
    assertArrayEquals(keys.seedWith(1, "x"), opened.seedWith(1, "x"));
    assertArrayEquals(keys.seedWith(2, "x"), opened.seedWith(2, "x"));
  }

  @Test
  void theSealKeyIsForThisPurposeOnly() {
    byte[] sealKey = TicketSeal.sealKey(partyKey);
    assertArrayEquals(Hkdf.derive(partyKey.getEncoded(), null, "sparkmpc/ticket-seal/v1", 32), sealKey);
    // The key the ticket used before (another label) does not open it.
    byte[] sealed = TicketSeal.seal(keys(), sealKey, BINDING);
    byte[] otherLabel = Hkdf.derive(partyKey.getEncoded(), null, "sparkmpc/executor-ticket", 32);
    assertThrows(IllegalArgumentException.class, () -> TicketSeal.open(otherLabel, sealed, BINDING));
  }

  @Test
  void everyAlteredByteIsRefused() {
    byte[] sealKey = TicketSeal.sealKey(partyKey);
    byte[] sealed = TicketSeal.seal(keys(), sealKey, BINDING);
    // Version (0), nonce (1..12), ciphertext, tag (last 16): every single byte.
    for (int i = 0; i < sealed.length; i++) {
      byte[] bad = sealed.clone();
      bad[i] ^= 0x01;
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> TicketSeal.open(sealKey, bad, BINDING), "byte " + i + " altered");
      assertClean(e, sealed, bad);
    }
    byte[] truncated = java.util.Arrays.copyOf(sealed, sealed.length - 1);
    assertThrows(IllegalArgumentException.class, () -> TicketSeal.open(sealKey, truncated, BINDING));
    assertThrows(IllegalArgumentException.class, () -> TicketSeal.open(sealKey, new byte[0], BINDING));
  }

  @Test
  void aTicketPresentedForAnotherPartySessionOrGatewayIsRefused() {
    byte[] sealKey = TicketSeal.sealKey(partyKey);
    byte[] sealed = TicketSeal.seal(keys(), sealKey, BINDING);
    TicketSeal.Binding[] others = {
      new TicketSeal.Binding("b", BINDING.session(), BINDING.gateway(), BINDING.fields()),
      new TicketSeal.Binding(BINDING.party(), "sess-2", BINDING.gateway(), BINDING.fields()),
      new TicketSeal.Binding(BINDING.party(), BINDING.session(), "127.0.0.1:7003", BINDING.fields()),
      new TicketSeal.Binding(BINDING.party(), BINDING.session(), BINDING.gateway(),
          BINDING.fields().replace("7002", "7004")),
      // Length prefixes: moving a character from one value to the next changes the binding.
      new TicketSeal.Binding(BINDING.party() + "s", "ess-1", BINDING.gateway(), BINDING.fields()),
    };
    for (TicketSeal.Binding other : others) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> TicketSeal.open(sealKey, sealed, other), other.toString());
      assertTrue(e.getMessage().contains("does not open") && e.getMessage().contains(other.session()),
          e.getMessage());
      assertClean(e, sealed, sealed);
    }
    // Sealed by another party (another private key): refused too.
    byte[] foreign = TicketSeal.seal(keys(), TicketSeal.sealKey(otherPartyKey), BINDING);
    assertThrows(IllegalArgumentException.class, () -> TicketSeal.open(sealKey, foreign, BINDING));
  }

  /** The message shows neither ticket bytes nor key bytes, in any usual notation. */
  private static void assertClean(Exception e, byte[] sealed, byte[] presented) {
    String m = e.getMessage();
    for (byte[] b : new byte[][] {sealed, presented, keys().seedWith(1, "x")}) {
      assertFalse(m.contains(Base64.getEncoder().encodeToString(b).substring(0, 12)), m);
      assertFalse(m.toLowerCase().contains(HexFormat.of().formatHex(b, 1, 7)), m);
    }
    String key1 = HexFormat.of().formatHex(new byte[] {0x40, 0x41, 0x42, 0x43});
    assertFalse(m.toLowerCase().contains(key1), m);
  }
}
