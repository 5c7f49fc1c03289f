package org.sparkmpc.psi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.share.PartyThreads;

/** The ECDH PSI arithmetic: commutative encryption, tags, the normalisation rules, bad points. */
class EcdhPsiTest {

  @Test
  void doublyEncryptedTagsMatchExactlyForCommonIdentifiers() throws Exception {
    // Two parties' own session secrets, from a real session hello.
    List<byte[]> keys = PartyThreads.run(2, (MpcContext ctx) -> EcdhPsi.key(ctx.keys(), 7));
    assertFalse(java.util.Arrays.equals(keys.get(0), keys.get(1)));
    String[] a = {"alice", "bob", "carol", "dave"};
    String[] b = {"erin", "carol", "alice", "frank", "grace"};
    byte[] ha = hash(a);
    byte[] hb = hash(b);
    byte[] ea = new byte[ha.length];
    byte[] eb = new byte[hb.length];
    EcdhPsi.exponentiate(keys.get(0), ha, a.length, ea, "a");
    EcdhPsi.exponentiate(keys.get(1), hb, b.length, eb, "b");
    long[] tagsOfA = EcdhPsi.tags(keys.get(1), ea, a.length, "a"); // b raises a's points
    long[] tagsOfB = EcdhPsi.tags(keys.get(0), eb, b.length, "b"); // a raises b's points
    Set<String> fromB = new HashSet<>();
    for (int j = 0; j < b.length; j++) {
      fromB.add(tagsOfB[2 * j] + ":" + tagsOfB[2 * j + 1]);
    }
    Set<String> common = new HashSet<>();
    for (int i = 0; i < a.length; i++) {
      if (fromB.contains(tagsOfA[2 * i] + ":" + tagsOfA[2 * i + 1])) {
        common.add(a[i]);
      }
    }
    assertEquals(Set.of("alice", "carol"), common);
    // Singly-encrypted points of the same identifier differ between the parties.
    assertFalse(java.util.Arrays.equals(java.util.Arrays.copyOfRange(ea, 0, 32),
        java.util.Arrays.copyOfRange(eb, 64, 96)));
  }

  @Test
  void aPointOfLowOrderIsAMalformedMessage() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    byte[] points = new byte[64];
    new SecureRandom().nextBytes(points);
    points[31] &= 0x7f;
    java.util.Arrays.fill(points, 32, 64, (byte) 0); // u = 0: of order 1 on the curve
    ProtocolException e = assertThrows(ProtocolException.class,
        () -> EcdhPsi.tags(key, points, 2, "party 'b'"));
    assertTrue(e.getMessage().contains("party 'b'"), e.getMessage());
    assertThrows(ProtocolException.class,
        () -> EcdhPsi.exponentiate(key, points, 2, new byte[64], "party 'b'"));
  }

  @Test
  void normalisationRules() {
    assertEquals("ab-12", IdNormalization.TRIM_LOWER.apply("  AB-12\t"));
    assertEquals("ab 12", IdNormalization.TRIM_LOWER.apply("\u00a0Ab 12 "));
    assertEquals("ab12", IdNormalization.TRIM_LOWER.apply("\uff21\uff22\uff11\uff12")); // NFKC
    assertEquals("AB-12", IdNormalization.TRIM.apply("  AB-12 "));
    assertEquals("  AB-12 ", IdNormalization.EXACT.apply("  AB-12 "));
    assertNull(IdNormalization.TRIM_LOWER.apply("   "));
    assertNull(IdNormalization.TRIM.apply(null));
    assertNull(IdNormalization.EXACT.apply(""));
    assertEquals(IdNormalization.TRIM, IdNormalization.parse(" Trim ", "k"));
    MpcInputException e = assertThrows(MpcInputException.class,
        () -> IdNormalization.parse("lower", "spark.mpc.psi.normalize"));
    assertTrue(e.getMessage().contains("spark.mpc.psi.normalize"), e.getMessage());
  }

  @Test
  void hashesAreDomainSeparatedAndDistinct() {
    MessageDigest sha = EcdhPsi.sha256();
    byte[] one = new byte[32];
    byte[] two = new byte[32];
    EcdhPsi.hashToCurve(sha, "x".getBytes(StandardCharsets.UTF_8), one, 0);
    EcdhPsi.hashToCurve(sha, "x".getBytes(StandardCharsets.UTF_8), two, 0);
    assertArrayEquals(one, two);
    EcdhPsi.hashToCurve(sha, "y".getBytes(StandardCharsets.UTF_8), two, 0);
    assertFalse(java.util.Arrays.equals(one, two));
    // Not the plain SHA-256 of the identifier.
    assertFalse(java.util.Arrays.equals(one, EcdhPsi.sha256().digest(
        "x".getBytes(StandardCharsets.UTF_8))));
  }

  private static byte[] hash(String[] ids) {
    MessageDigest sha = EcdhPsi.sha256();
    byte[] out = new byte[ids.length * EcdhPsi.POINT_BYTES];
    for (int i = 0; i < ids.length; i++) {
      EcdhPsi.hashToCurve(sha, ids[i].getBytes(StandardCharsets.UTF_8), out, i * 32);
    }
    return out;
  }
}
