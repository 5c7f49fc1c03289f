package org.sparkmpc.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Charts} draws headless, with the colours it promises, leaves NaN groups empty, and
 * writes PNG files that read back. (How a chart looks is for a person: the images are kept in
 * {@code target/charts-test/}.)
 */
class ChartsTest {
  private static final int FIRST = 0xFF466EAA;   // the palette's first colour, (70, 110, 170)
  private static final int SECOND = 0xFFDC7832;  // the second, (220, 120, 50)
  private static final Path KEEP = Path.of("target", "charts-test");

  @Test
  void groupedBarsDrawEveryBarButTheNaNOnes() {
    List<String> roles = List.of("engineer (gap 9.8 %)", "analyst (gap 4.1 %)",
        "director (women not opened)");
    Map<String, double[]> full = new LinkedHashMap<>();
    full.put("men", new double[] {64_000, 53_000, 121_000});
    full.put("women", new double[] {58_000, 51_000, 105_000});
    Map<String, double[]> gap = new LinkedHashMap<>(full);
    gap.put("women", new double[] {58_000, 51_000, Double.NaN});

    BufferedImage all = Charts.groupedBars("Average salary by role\nthree employers together",
        "average salary", roles, full);
    BufferedImage some = Charts.groupedBars("Average salary by role\nno bar: not opened",
        "average salary", roles, gap);
    Charts.savePng(all, KEEP.resolve("bars-all.png"));
    Charts.savePng(some, KEEP.resolve("bars-nan.png"));
    assertEquals(Charts.BARS_WIDTH, all.getWidth());
    assertEquals(Charts.BARS_HEIGHT, all.getHeight());
    assertTrue(count(all, FIRST) > 5_000, "men's bars");
    long women = count(all, SECOND);
    assertTrue(women > 5_000, "women's bars");
    // The director bar of women is the tallest of theirs: without it, well under two thirds.
    assertTrue(count(some, SECOND) < women * 2 / 3, count(some, SECOND) + " of " + women);
    assertTrue(count(some, FIRST) > 5_000, "men's bars");
  }

  @Test
  void rocDrawsEachCurveAndTheDiagonal(@TempDir Path dir) throws Exception {
    Map<String, double[][]> curves = new LinkedHashMap<>();
    curves.put("secure", new double[][] {{0, 0, 0.1, 0.3, 1}, {0, 0.6, 0.8, 1, 1}});
    curves.put("Spark ML", new double[][] {{0, 0.2, 1}, {0, 0.7, 1}});
    BufferedImage img = Charts.roc("Breast cancer: ROC", curves, Map.of("secure", 0.93));
    Charts.savePng(img, KEEP.resolve("roc.png"));
    assertEquals(Charts.ROC_WIDTH, img.getWidth());
    assertTrue(count(img, FIRST) > 300, "first curve");
    assertTrue(count(img, SECOND) > 300, "second curve");

    Path file = dir.resolve("sub/roc.png");
    Charts.savePng(img, file);
    BufferedImage back = ImageIO.read(file.toFile());
    assertEquals(img.getWidth(), back.getWidth());
    assertEquals(img.getHeight(), back.getHeight());
    assertTrue(Files.size(file) > 1000);
  }

  @Test
  void badInputIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Charts.groupedBars("t", "y", List.of("a", "b"), Map.of("s", new double[] {1})));
    assertTrue(e.getMessage().contains("series s has 1 values for 2 categories"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Charts.roc("t",
        Map.of("c", new double[][] {{0, 1}, {0}}), Map.of()));
    assertTrue(e.getMessage().contains("curve c"), e.getMessage());
  }

  private static long count(BufferedImage img, int argb) {
    long n = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        n += img.getRGB(x, y) == argb ? 1 : 0;
      }
    }
    return n;
  }
}
