package org.sparkmpc.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyGenTest {

  private static final List<String> PARTIES = List.of("a", "b", "c");

  @TempDir
  Path dir;

  private record Result(int code, String out, String err) {}

  private static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
         PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = KeyGen.run(args, o, e);
    }
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private PartyDirectory directory(String self) {
    return NetTestSupport.directory(PARTIES, new int[] {0, 0, 0}, self);
  }

  @Test
  void demoCommandWritesFilesThatLoadAndServe() throws Exception {
    Path out = dir.resolve("keys");
    Result r = run("demo", "--parties", "a,b,c", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    for (String n : PARTIES) {
      assertTrue(r.out().contains(KeyGen.keyFile(out, n).toString()), r.out());
      assertTrue(r.out().contains(KeyGen.certFile(out, n).toString()), r.out());
    }
    assertTrue(r.out().contains(KeyGen.trustFile(out).toString()), r.out());
    assertFalse(r.out().contains("PRIVATE") || r.out().contains("BEGIN"), "prints paths, not key material");

    Path key = KeyGen.keyFile(out, "a");
    assertTrue(Files.readString(key).startsWith("-----BEGIN PRIVATE KEY-----"), "PKCS#8 PEM");
    if (Files.getFileStore(key).supportsFileAttributeView(PosixFileAttributeView.class)) {
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
    }
    for (String n : PARTIES) {
      PartyCredentials c = PartyCredentials.load(GatewayConfig.defaults(directory(n), out));
      assertEquals(n, PartyCredentials.commonName(c.certificate()));
      assertNotNull(c.serverContext());
      assertNotNull(c.clientContext((directory(n).selfIndex() + 1) % 3));
    }
    // The files carry a real exchange.
    try (NetTestSupport.Cluster cluster = new NetTestSupport.Cluster(out, PARTIES, Duration.ofSeconds(2), 1 << 20)) {
      cluster.get(2).send(1, new MessageKey("k", 1, 0, 0, 2), new byte[] {42});
      assertArrayEquals(new byte[] {42}, cluster.get(1).receive(new MessageKey("k", 1, 0, 0, 2), Duration.ofSeconds(2)));
    }
  }

  @Test
  void certificateHasTheExpectedProfile() throws Exception {
    KeyGen.PartyFiles f = KeyGen.generateParty("bank-1", dir, 30, false);
    X509Certificate c = PartyCredentials.readCertificates(f.certFile()).get(0);
    assertEquals("bank-1", PartyCredentials.commonName(c));
    assertEquals("SHA256withECDSA", c.getSigAlgName());
    assertEquals("EC", c.getPublicKey().getAlgorithm());
    assertTrue(c.getKeyUsage()[0], "digitalSignature");
    assertTrue(c.getExtendedKeyUsage().containsAll(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2")));
    List<String> sans = new ArrayList<>();
    for (List<?> san : c.getSubjectAlternativeNames()) {
      sans.add(String.valueOf(san.get(1)));
    }
    assertTrue(sans.containsAll(List.of("bank-1", "localhost", "127.0.0.1")), sans.toString());
    assertEquals(-1, c.getBasicConstraints());
    long days = Duration.between(c.getNotBefore().toInstant(), c.getNotAfter().toInstant()).toDays();
    assertTrue(days >= 30 && days <= 31, "lifetime " + days);
    PrivateKey k = PartyCredentials.readPrivateKey(f.keyFile());
    assertEquals("EC", k.getAlgorithm());
  }

  @Test
  void partyAndTrustCommands() throws Exception {
    assertEquals(0, run("party", "--name", "x", "--out", dir.toString()).code());
    assertEquals(0, run("party", "--name=y", "--out=" + dir, "--days", "10").code());
    Path trust = dir.resolve("t.pem");
    Result ok = run("trust", "--out", trust.toString(), KeyGen.certFile(dir, "x").toString(),
        KeyGen.certFile(dir, "y").toString());
    assertEquals(0, ok.code(), ok.err());
    assertEquals(List.of("x", "y"), new ArrayList<>(PartyCredentials.readTrustBundle(trust).keySet()));

    Result dup = run("trust", "--out", dir.resolve("t2.pem").toString(), KeyGen.certFile(dir, "x").toString(),
        KeyGen.certFile(dir, "x").toString());
    assertEquals(1, dup.code());
    assertTrue(dup.err().contains("party 'x' appears twice"), dup.err());

    Result exists = run("party", "--name", "x", "--out", dir.toString());
    assertEquals(1, exists.code());
    assertTrue(exists.err().contains("already exists") && exists.err().contains("--force"), exists.err());
    String before = Files.readString(KeyGen.certFile(dir, "x"));
    assertEquals(0, run("party", "--name", "x", "--out", dir.toString(), "--force").code());
    assertFalse(before.equals(Files.readString(KeyGen.certFile(dir, "x"))), "--force replaced the certificate");
  }

  @Test
  void usageErrors() {
    assertEquals(2, run().code());
    assertEquals(0, run("--help").code());
    assertEquals(2, run("frobnicate").code());
    Result noName = run("party", "--out", dir.toString());
    assertEquals(2, noName.code());
    assertTrue(noName.err().contains("keygen party: Missing required option: '--name"), noName.err());
    Result colour = run("party", "--name", "x", "--out", dir.toString(), "--colour", "red");
    assertEquals(2, colour.code());
    assertTrue(colour.err().contains("keygen party: Unknown options: '--colour'"), colour.err());
    assertTrue(colour.err().contains("Try 'keygen party --help'"), colour.err());
    assertEquals(2, run("frobnicate").code());
    assertTrue(run("frobnicate").err().contains("'frobnicate'"));
    assertEquals(2, run("trust", "--out", dir.resolve("t.pem").toString()).code());
    assertEquals(1, run("party", "--name", "bad name!", "--out", dir.toString()).code());
    assertEquals(2, run("demo", "--parties", "a,b", "--out", dir.toString(), "--days", "soon").code());
  }

  @Test
  void helpDescribesEachCommand() {
    Result top = run("--help");
    assertEquals(0, top.code(), top.err());
    for (String s : List.of("Usage: keygen", "party", "trust", "demo", "--version", "spark.mpc.keyDir")) {
      assertTrue(top.out().contains(s), s + " in " + top.out());
    }
    Result party = run("party", "--help");
    assertEquals(0, party.code(), party.err());
    for (String s : List.of("Usage: keygen party", "--name", "--out", "--days", "--force")) {
      assertTrue(party.out().contains(s), s + " in " + party.out());
    }
    assertEquals(party.out(), run("help", "party").out(), "keygen help party is keygen party --help");
    Result none = run();
    assertEquals(2, none.code());
    assertTrue(none.err().contains("Usage: keygen"), none.err());
    assertTrue(run("--version").out().startsWith("keygen (Spark MPC) "));
  }

  @Test
  void credentialErrorsNameTheFile() throws Exception {
    Path k = dir.resolve("k");
    KeyGen.generateDemo(PARTIES, k);
    KeyGen.generateParty("a", dir.resolve("other"));
    Path keyA = KeyGen.keyFile(k, "a");
    Path certA = KeyGen.certFile(k, "a");
    Path trust = KeyGen.trustFile(k);

    Path missing = k.resolve("nope.pem");
    assertMessage(() -> PartyCredentials.load(directory("a"), missing, certA, trust), missing + " does not exist");
    assertMessage(() -> PartyCredentials.load(directory("a"), certA, certA, trust),
        "key file " + certA + " does not hold a private key");
    assertMessage(() -> PartyCredentials.load(directory("a"), keyA, keyA, trust),
        "certificate file " + keyA + ": entry 1 is a private key");
    assertMessage(() -> PartyCredentials.load(directory("b"), keyA, certA, trust),
        "certificate file " + certA + " is for CN=a, but this party is 'b'");
    Path otherKey = KeyGen.keyFile(dir.resolve("other"), "a");
    assertMessage(() -> PartyCredentials.load(directory("a"), otherKey, certA, trust),
        "private key " + otherKey + " does not belong to the certificate " + certA);

    Path partial = dir.resolve("partial.pem");
    KeyGen.writeTrust(partial, List.of(KeyGen.certFile(k, "b"), KeyGen.certFile(k, "c")));
    assertMessage(() -> PartyCredentials.load(directory("a"), keyA, certA, partial),
        "trust file " + partial + " has no certificate for party 'a'");
    Path stale = dir.resolve("stale.pem");
    KeyGen.writeTrust(stale, List.of(KeyGen.certFile(dir.resolve("other"), "a"), KeyGen.certFile(k, "b"),
        KeyGen.certFile(k, "c")));
    assertMessage(() -> PartyCredentials.load(directory("a"), keyA, certA, stale),
        "trust file " + stale + " holds a different certificate for this party 'a'");

    Path garbage = dir.resolve("garbage.pem");
    Files.writeString(garbage, "hello\n");
    assertMessage(() -> PartyCredentials.load(directory("a"), garbage, certA, trust),
        "key file " + garbage + " holds no PEM object");
    assertMessage(() -> PartyCredentials.load(directory("a"), keyA, certA, garbage),
        "certificate file " + garbage + " holds no PEM certificate");
    String keyText = Files.readString(keyA);
    for (Throwable t : collectErrors(k, keyA, certA, garbage)) {
      assertFalse(t.getMessage().contains(keyText.substring(30, 60)), "no key material in errors");
    }
  }

  private Collection<Throwable> collectErrors(Path k, Path keyA, Path certA, Path garbage) {
    List<Throwable> out = new ArrayList<>();
    out.add(assertThrows(IllegalArgumentException.class,
        () -> PartyCredentials.load(directory("a"), keyA, keyA, KeyGen.trustFile(k))));
    out.add(assertThrows(IllegalArgumentException.class,
        () -> PartyCredentials.load(directory("a"), keyA, certA, keyA)));
    return out;
  }

  private static void assertMessage(org.junit.jupiter.api.function.Executable e, String expected) {
    IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
    assertTrue(x.getMessage().contains(expected), () -> "expected '" + expected + "' in: " + x.getMessage());
  }
}
