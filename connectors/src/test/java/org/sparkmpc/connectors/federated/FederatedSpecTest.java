package org.sparkmpc.connectors.federated;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.net.PartyCredentials;

/** RoundSpec, Quantiser and ClientCertificates without the network. */
class FederatedSpecTest {

  private static final List<String> TWO = List.of("alpha", "beta");

  @Test
  void widthIsTheSmallestThatCannotWrapAndTooLargeIsRefused() {
    assertEquals(4, RoundSpec.of("r", 3, 1.0, 16, 32767, TWO).width()); // 32767 * 2^16 < 2^31
    assertEquals(8, RoundSpec.of("r", 3, 1.0, 16, 32768, TWO).width());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RoundSpec.of("r", 3, 1e12, 30, 1_000_000, TWO));
    assertTrue(e.getMessage().contains("maxClients 1000000") && e.getMessage().contains("clipNorm")
        && e.getMessage().contains("scaleBits 30"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new RoundSpec("r", 3, 1.0, 16, 10, TWO, 8));
  }

  @Test
  void invalidParametersAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> RoundSpec.of("bad id", 3, 1.0, 16, 10, TWO));
    assertThrows(IllegalArgumentException.class, () -> RoundSpec.of("x".repeat(65), 3, 1.0, 16, 10, TWO));
    assertThrows(IllegalArgumentException.class, () -> RoundSpec.of("r", 0, 1.0, 16, 10, TWO));
    assertThrows(IllegalArgumentException.class, () -> RoundSpec.of("r", 50_000_001, 1.0, 16, 10, TWO));
    assertThrows(IllegalArgumentException.class, () -> RoundSpec.of("r", 3, Double.NaN, 16, 10, TWO));
    assertThrows(IllegalArgumentException.class, () -> RoundSpec.of("r", 3, 0, 16, 10, TWO));
    assertThrows(IllegalArgumentException.class, () -> RoundSpec.of("r", 3, 1.0, 31, 10, TWO));
    assertThrows(IllegalArgumentException.class, () -> RoundSpec.of("r", 3, 1.0, 16, 1, TWO));
    assertThrows(IllegalArgumentException.class, () -> RoundSpec.of("r", 3, 1.0, 16, 10, List.of("a")));
    assertThrows(IllegalArgumentException.class, () -> RoundSpec.of("r", 3, 1.0, 16, 10, List.of("a", "a")));
    assertThrows(IllegalArgumentException.class,
        () -> RoundSpec.of("r", 3, 1.0, 16, 10, List.of("a", "b", "c", "d")));
  }

  @Test
  void theDigestCoversEveryFieldAndFullPartySpreads() {
    RoundSpec base = RoundSpec.of("r", 3, 1.0, 16, 10, TWO);
    assertArrayEquals(base.digest(), RoundSpec.of("r", 3, 1.0, 16, 10, TWO).digest());
    for (RoundSpec other : List.of(RoundSpec.of("s", 3, 1.0, 16, 10, TWO), RoundSpec.of("r", 4, 1.0, 16, 10, TWO),
        RoundSpec.of("r", 3, 1.5, 16, 10, TWO), RoundSpec.of("r", 3, 1.0, 15, 10, TWO),
        RoundSpec.of("r", 3, 1.0, 16, 11, TWO), RoundSpec.of("r", 3, 1.0, 16, 10, List.of("beta", "alpha")),
        RoundSpec.of("r", 3, 1.0, 16, 100_000, TWO))) {
      assertFalse(Arrays.equals(base.digest(), other.digest()), other.toString());
    }
    RoundSpec three = RoundSpec.of("r", 3, 1.0, 16, 10, List.of("a", "b", "c"));
    int[] counts = new int[3];
    for (int c = 0; c < 3000; c++) {
      counts[three.fullParty("c" + c)]++;
    }
    for (int n : counts) {
      assertTrue(n > 850 && n < 1150, Arrays.toString(counts));
    }
    assertEquals(three.fullParty("c7"), three.fullParty("c7"));
  }

  @Test
  void quantiseClipsRoundsAndRefusesBadInput() {
    RoundSpec spec = RoundSpec.of("q", 2, 5.0, 4, 10, TWO);
    assertArrayEquals(new long[] {16, -24}, Quantiser.quantise(spec, new float[] {1f, -1.5f}));
    assertArrayEquals(new long[] {48, 64}, Quantiser.quantise(spec, new float[] {30f, 40f})); // norm 50 -> 5
    IllegalArgumentException len = assertThrows(IllegalArgumentException.class,
        () -> Quantiser.quantise(spec, new float[3]));
    assertTrue(len.getMessage().contains("3") && len.getMessage().contains("expects 2"), len.getMessage());
    IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
        () -> Quantiser.quantise(spec, new float[] {0.123f, Float.NaN}));
    assertTrue(nan.getMessage().contains("coordinate 1"), nan.getMessage());
    assertFalse(nan.getMessage().contains("0.123"), nan.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> Quantiser.quantise(spec, new float[] {Float.POSITIVE_INFINITY, 0}));
  }

  @Test
  void clientCertificatesRoundTripThroughPemFiles(@TempDir Path dir) throws Exception {
    ClientCertificates.Authority ca = ClientCertificates.createAuthority("ca", dir);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ca.key.pem"))));
    ClientCertificates.Authority read = ClientCertificates.readAuthority(dir.resolve("ca.key.pem"),
        dir.resolve("ca.crt.pem"));
    assertEquals(ca.certificate(), read.certificate());
    ClientCertificates.PemFiles files = ClientCertificates.issueToFiles(read, "phone-17@clinic.example", dir);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(files.keyFile())));
    ClientCertificates.ClientIdentity id = ClientCertificates.readClient(files.keyFile(), files.certFile());
    assertEquals("phone-17@clinic.example", id.clientId());
    assertEquals("phone-17@clinic.example", PartyCredentials.commonName(id.certificate()));
    id.certificate().verify(ca.certificate().getPublicKey());
    // Neither identity prints its private key (a record's toString would).
    String secret = java.util.HexFormat.of().formatHex(id.key().getEncoded());
    assertEquals("ClientIdentity[phone-17@clinic.example]", id.toString());
    assertEquals(-1, (id + " " + ca).indexOf(secret));
    assertEquals(-1, ca.toString().indexOf(java.util.HexFormat.of().formatHex(ca.key().getEncoded())));
    assertThrows(IllegalArgumentException.class, () -> ClientCertificates.issue(ca, "no spaces"));
    assertThrows(IllegalArgumentException.class, () -> ClientCertificates.issue(ca, "x".repeat(129)));
    assertThrows(IllegalArgumentException.class, () -> ClientCertificates.createAuthority("ca", dir));
  }
}
