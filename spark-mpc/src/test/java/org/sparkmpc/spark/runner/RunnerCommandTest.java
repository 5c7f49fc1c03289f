package org.sparkmpc.spark.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.net.GatewayMain;
import org.sparkmpc.net.PartySettings;
import org.sparkmpc.spark.MpcConf;

/**
 * The runner's command line ({@code PartyRunner CONFIG}, {@code --help}), and the one list of
 * {@code spark.mpc.*} keys that the runner, the gateway and the dealer check a party config
 * against: a misspelt key is refused before any session starts, a key only the Spark side reads
 * is not. None of these starts Spark.
 */
class RunnerCommandTest {
  @TempDir
  Path dir;

  private record Result(int code, String out, String err) {}

  private static Result runner(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
         PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = RunnerCommand.run(o, e, args);
    }
    return new Result(code, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  private Path config(String... lines) throws IOException {
    return Files.write(dir.resolve("party.properties"), List.of(lines));
  }

  @Test
  void helpPrintsTheUsageAndTheConfigKeys() {
    Result r = runner("--help");
    assertEquals(0, r.code(), r.err());
    for (String s : List.of("Usage: PartyRunner", "CONFIG", "spark-submit", "spark.mpc.",
        "keyFile/certFile/trustFile", "input.<table>.path", "query", "regression.*")) {
      assertTrue(r.out().contains(s), s + " in\n" + r.out());
    }
    assertTrue(runner("--version").out().startsWith("PartyRunner (Spark MPC) "));
  }

  @Test
  void usageErrorsExitWithTwoNamingTheArgument() throws IOException {
    Result none = runner();
    assertEquals(2, none.code());
    assertTrue(none.err().contains("Missing required parameter: 'CONFIG'"), none.err());
    Result colour = runner("--colour", "red");
    assertEquals(2, colour.code());
    assertTrue(colour.err().contains("'--colour'"), colour.err());
    Path c = config("spark.mpc.party=bank1");
    Result two = runner(c.toString(), c.toString());
    assertEquals(2, two.code());
    assertTrue(two.err().contains("Unmatched argument"), two.err());
  }

  @Test
  void aFailureIsOneLineNamingTheParty() throws IOException {
    Result misspelt = runner(config("spark.mpc.party=bank1", "spark.mpc.keydir=/keys",
        "query=SELECT 1").toString());
    assertEquals(1, misspelt.code());
    assertEquals("spark-mpc: party bank1 failed: unknown setting spark.mpc.keydir (did you mean "
        + "spark.mpc.keyDir?): not a Spark MPC setting (see the README's settings table)",
        misspelt.err().strip());
    Result missing = runner(dir.resolve("nope.properties").toString());
    assertEquals(1, missing.code());
    assertTrue(missing.err().startsWith("spark-mpc: party ? failed: cannot read the party config ")
        && missing.err().contains("nope.properties"), missing.err());
  }

  @Test
  void theToolsKnowTheSparkSidesSettingsAndRefuseOthers() {
    assertEquals(MpcConf.ALL.stream().map(MpcConf.Setting::key).sorted().toList(),
        List.copyOf(PartySettings.knownKeys()));
    Properties p = new Properties();
    p.setProperty("spark.mpc.party", "b");
    p.setProperty("spark.mpc.parties", "a=127.0.0.1:7001,b=127.0.0.1:7002");
    p.setProperty("spark.mpc.keyDir", "/keys");
    // Read by the Spark side only: the gateway ignores them, as it ignores the job's keys.
    p.setProperty(MpcConf.SHARE_PARTITIONS.key(), "8");
    p.setProperty(MpcConf.MIN_GROUP_SIZE.key(), "10");
    p.setProperty("query", "SELECT 1");
    assertEquals(Path.of("/keys/b.key.pem"), GatewayMain.config(p).keyFile());
    p.setProperty("spark.mpc.timout", "30s");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GatewayMain.config(p));
    assertTrue(e.getMessage().startsWith("unknown setting spark.mpc.timout: "), e.getMessage());
    assertFalse(e.getMessage().contains("30s"), "names the key, not its value");
  }
}
