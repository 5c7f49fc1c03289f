package org.sparkmpc.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/gateway}'s command line, and its config read as the Spark side reads it: the key
 * files by {@code spark.mpc.keyFile}, {@code certFile} and {@code trustFile} as well as by {@code
 * keyDir}, with the same precedence and errors.
 */
class GatewayMainTest {
  @TempDir
  Path dir;

  private Path keys;
  private int[] ports;

  @BeforeEach
  void keys() {
    keys = dir.resolve("keys");
    KeyGen.generateDemo(List.of("a", "b"), keys);
    ports = new int[] {NetTestSupport.freePort(), NetTestSupport.freePort()};
  }

  private static ToolOutput gateway(String... args) {
    return ToolOutput.of((out, err) -> GatewayMain.run(out, err, args));
  }

  private Properties config(String self) {
    Properties p = new Properties();
    p.setProperty("spark.mpc.party", self);
    p.setProperty("spark.mpc.parties", "a=127.0.0.1:" + ports[0] + ",b=127.0.0.1:" + ports[1]);
    p.setProperty("spark.mpc.timeout", "10s");
    return p;
  }

  /** b's files moved out of the key folder under names keygen would not give them. */
  private Properties explicitFiles() throws IOException {
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
    Path key = Files.move(KeyGen.keyFile(keys, "b"), elsewhere.resolve("private.pem"));
    Path cert = Files.move(KeyGen.certFile(keys, "b"), elsewhere.resolve("identity.pem"));
    Path trust = Files.copy(KeyGen.trustFile(keys), elsewhere.resolve("peers.pem"));
    Properties p = config("b");
    p.setProperty("spark.mpc.keyFile", key.toString());
    p.setProperty("spark.mpc.certFile", cert.toString());
    p.setProperty("spark.mpc.trustFile", trust.toString());
    return p;
  }

  private Path write(Properties p) throws IOException {
    Path f = dir.resolve("gateway.properties");
    try (OutputStream o = Files.newOutputStream(f)) {
      p.store(o, null);
    }
    return f;
  }

  @Test
  void helpDescribesTheCommandAndTheSettingsItReads() {
    ToolOutput r = gateway("--help");
    assertEquals(0, r.code(), r.toString());
    for (String s : List.of("Usage: gateway", "CONFIG", "spark.mpc.parties", "spark.mpc.keyDir",
        "spark.mpc.keyFile", "spark.mpc.certFile", "spark.mpc.trustFile", "--version")) {
      assertTrue(r.out().contains(s), s + " in\n" + r);
    }
    ToolOutput v = gateway("--version");
    assertEquals(0, v.code(), v.toString());
    assertTrue(v.out().startsWith("gateway (Spark MPC) "), v.toString());
  }

  @Test
  void usageErrorsNameTheArgument() throws IOException {
    ToolOutput unknown = gateway("--colour", "red");
    assertEquals(2, unknown.code(), unknown.toString());
    assertTrue(unknown.err().contains("'--colour'"), unknown.toString());
    assertTrue(unknown.err().contains("gateway --help"), unknown.toString());
    ToolOutput none = gateway();
    assertEquals(2, none.code(), none.toString());
    assertTrue(none.err().contains("CONFIG"), none.toString());
    Path f = write(config("b"));
    ToolOutput two = gateway(f.toString(), f.toString());
    assertEquals(2, two.code(), two.toString());
    ToolOutput missing = gateway(dir.resolve("nope.properties").toString());
    assertEquals(2, missing.code(), missing.toString());
    assertTrue(missing.err().contains("nope.properties"), missing.toString());
  }

  @Test
  void aConfigWithoutKeyFilesIsRefusedNamingTheSetting() throws IOException {
    ToolOutput r = gateway(write(config("b")).toString());
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("gateway: bad configuration in ")
        && r.err().contains("setting spark.mpc.keyFile is required (or set spark.mpc.keyDir"),
        r.toString());
  }

  @Test
  void keyFileSettingsComeBeforeTheKeyFolder() {
    Properties p = config("b");
    p.setProperty("spark.mpc.keyDir", keys.toString());
    GatewayConfig byDir = GatewayMain.config(p);
    assertEquals(KeyGen.keyFile(keys, "b"), byDir.keyFile());
    assertEquals(KeyGen.trustFile(keys), byDir.trustFile());
    p.setProperty("spark.mpc.certFile", "/elsewhere/b.pem");
    GatewayConfig mixed = GatewayMain.config(p);
    assertEquals(Path.of("/elsewhere/b.pem"), mixed.certFile());
    assertEquals(KeyGen.keyFile(keys, "b"), mixed.keyFile());
    p.remove("spark.mpc.keyDir");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GatewayMain.config(p));
    assertEquals("setting spark.mpc.keyFile is required (or set spark.mpc.keyDir to the folder "
        + "keygen wrote)", e.getMessage());
  }

  @Test
  void aGatewayConfiguredByKeyFileCertFileAndTrustFileStartsAndConnects() throws Exception {
    GatewayConfig b = GatewayMain.config(explicitFiles());
    assertEquals(Duration.ofSeconds(10), b.timeout());
    assertTrue(!b.keyFile().startsWith(keys), "b's key is not in the key folder");
    Properties pa = config("a");
    pa.setProperty("spark.mpc.keyDir", keys.toString());
    try (Gateway ga = Gateway.start(GatewayMain.config(pa)); Gateway gb = Gateway.start(b)) {
      MessageKey k = new MessageKey("cli", 1, 0, 0, 0);
      ga.send(1, k, new byte[] {7, 8});
      assertArrayEquals(new byte[] {7, 8}, gb.receive(k, Duration.ofSeconds(10)));
      MessageKey back = new MessageKey("cli", 1, 0, 0, 1);
      gb.send(0, back, new byte[] {9});
      assertArrayEquals(new byte[] {9}, ga.receive(back, Duration.ofSeconds(10)));
    }
  }
}
