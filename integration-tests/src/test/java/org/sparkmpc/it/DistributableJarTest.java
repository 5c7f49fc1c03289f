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

  /** Run {@code main} from the jar (and slf4j's API) with {@code args}: exit status and output. */
  private static String[] runFromJar(Path dir, String main, String... args) throws Exception {
    String slf4j = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(p -> p.contains("slf4j-api")).findFirst().orElseThrow();
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        distJar() + File.pathSeparator + slf4j, main));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(dir, "out", ".txt");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
        .start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    return new String[] {Integer.toString(p.exitValue()), Files.readString(out)};
  }

  @Test
  void keygenRunsFromTheJarWithTheRelocatedBouncyCastle(@TempDir Path dir) throws Exception {
    String[] r = runFromJar(dir, "org.sparkmpc.net.KeyGen", "demo", "--parties", "a,b", "--out",
        dir.toString());
    assertEquals("0", r[0], r[1]);
    for (String f : List.of("a.key.pem", "a.crt.pem", "b.key.pem", "b.crt.pem", "trust.pem")) {
      assertTrue(Files.size(dir.resolve(f)) > 0, f);
    }
  }

  /**
   * The tools' command lines work with the relocated picocli, and the gateway and the dealer know
   * the Spark side's settings from the jar's service file: a misspelt one is refused.
   */
  @Test
  void theToolsParseTheirArgumentsAndKnowTheSparkSidesSettings(@TempDir Path dir)
      throws Exception {
    for (String[] tool : new String[][] {{"org.sparkmpc.net.GatewayMain", "Usage: gateway"},
        {"org.sparkmpc.correlation.DealerMain", "Usage: dealer"},
        {"org.sparkmpc.net.KeyGen", "Usage: keygen"}}) {
      String[] help = runFromJar(dir, tool[0], "--help");
      assertEquals("0", help[0], help[1]);
      assertTrue(help[1].contains(tool[1]), help[1]);
    }
    Path config = Files.write(dir.resolve("party.properties"), List.of("spark.mpc.party=a",
        "spark.mpc.parties=a=127.0.0.1:1,b=127.0.0.1:2", "spark.mpc.keyDir=" + dir,
        "spark.mpc.share.partitions=4", "spark.mpc.trustfile=" + dir.resolve("t.pem")));
    for (String main : List.of("org.sparkmpc.net.GatewayMain",
        "org.sparkmpc.correlation.DealerMain")) {
      String[] r = runFromJar(dir, main, config.toString());
      assertEquals("2", r[0], r[1]);
      assertTrue(r[1].contains("unknown setting spark.mpc.trustfile (did you mean "
          + "spark.mpc.trustFile?)"), r[1]);
    }
  }
}
