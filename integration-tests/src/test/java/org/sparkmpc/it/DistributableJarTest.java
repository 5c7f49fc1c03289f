package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar users hand to spark-submit: the project and a relocated Bouncy Castle, without Spark,
 * Scala or Arrow (the cluster's own), and its tools run from it.
 */
class DistributableJarTest {

  static Path distJar() throws Exception {
    Path target = Path.of("..", "spark-mpc", "target").toAbsolutePath().normalize();
    try (var files = Files.list(target)) {
      return files.filter(f -> f.getFileName().toString().endsWith("-dist.jar")).findFirst()
          .orElseThrow(() -> new AssertionError("no *-dist.jar in " + target
              + " (built by the spark-mpc module's package phase)"));
    }
  }

  @Test
  void holdsTheProjectAndARelocatedBouncyCastleButNotSpark() throws Exception {
    try (JarFile jar = new JarFile(distJar().toFile())) {
      List<String> names = jar.stream().map(e -> e.getName()).toList();
      assertTrue(names.contains("org/sparkmpc/spark/runner/PartyRunner.class"));
      assertTrue(names.contains("org/sparkmpc/net/GatewayMain.class"));
      assertTrue(names.contains("org/sparkmpc/correlation/DealerMain.class"));
      assertTrue(names.stream().anyMatch(n -> n.startsWith("org/sparkmpc/shaded/bouncycastle/")));
      assertFalse(names.stream().anyMatch(n -> n.startsWith("org/bouncycastle/")));
      assertFalse(names.stream().anyMatch(n -> n.startsWith("org/apache/spark/")
          || n.startsWith("scala/") || n.startsWith("org/apache/arrow/")));
      assertEquals("org.sparkmpc.spark.runner.PartyRunner",
          jar.getManifest().getMainAttributes().getValue("Main-Class"));
    }
  }

  @Test
  void keygenRunsFromTheJarWithTheRelocatedBouncyCastle(@TempDir Path dir) throws Exception {
    String slf4j = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(p -> p.contains("slf4j-api")).findFirst().orElseThrow();
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        distJar() + File.pathSeparator + slf4j, "org.sparkmpc.net.KeyGen", "demo", "--parties",
        "a,b", "--out", dir.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(dir.resolve("out.txt").toFile()).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), Files.readString(dir.resolve("out.txt")));
    for (String f : List.of("a.key.pem", "a.crt.pem", "b.key.pem", "b.crt.pem", "trust.pem")) {
      assertTrue(Files.size(dir.resolve(f)) > 0, f);
    }
  }
}
