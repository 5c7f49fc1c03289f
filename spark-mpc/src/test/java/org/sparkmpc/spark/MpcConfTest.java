package org.sparkmpc.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MpcConfTest {

  @Test
  void readmeSettingsTableIsGeneratedFromTheSettings() throws Exception {
    Path readme = Path.of("..", "README.md");
    String text = Files.readString(readme);
    assertTrue(text.contains(MpcConf.markdownTable()),
        "README.md's settings table is stale; regenerate it with MpcConf.main");
  }

  @Test
  void parsesDurationsAndSizesAndNamesTheKeyOnError() {
    assertEquals(Duration.ofSeconds(30), MpcConf.TIMEOUT.parse("30s"));
    assertEquals(Duration.ofMillis(500), MpcConf.TIMEOUT.parse("500ms"));
    assertEquals(Duration.ofMinutes(2), MpcConf.TIMEOUT.parse("2m"));
    assertEquals(512L << 20, MpcConf.MAX_BUFFERED.parse("512m"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> MpcConf.SCALE_BITS.parse("sixteen"));
    assertTrue(e.getMessage().contains("spark.mpc.fixedPoint.scaleBits"), e.getMessage());
    IllegalArgumentException req = assertThrows(IllegalArgumentException.class,
        () -> MpcConf.PARTY.parse(null));
    assertTrue(req.getMessage().contains("spark.mpc.party"), req.getMessage());
  }
}
