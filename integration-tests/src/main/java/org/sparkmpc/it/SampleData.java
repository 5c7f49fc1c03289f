package org.sparkmpc.it;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Sample bank transactions: {@code region} (public segment), {@code amount} (secret, two decimals)
 * and {@code items} (secret integer). Deterministic per (party, rows), so every run and every test
 * sees the same data.
 */
public final class SampleData {
  private SampleData() {}

  public static final String[] REGIONS = {"north", "south", "east", "west", "centre", "islands",
      "coast", "mountains"};

  /** Write {@code rows} transactions of party number {@code party} as CSV with a header. */
  public static Path transactions(Path file, int party, long rows) {
    SplittableRandom r = new SplittableRandom(0x5EED_0000L + party);
    try {
      Files.createDirectories(file.getParent());
      try (BufferedWriter w = Files.newBufferedWriter(file)) {
        w.write("region,amount,items\n");
        StringBuilder sb = new StringBuilder(64);
        for (long i = 0; i < rows; i++) {
          // Regions are skewed differently per bank; amounts are cents, up to 10,000.00.
          int region = (int) Math.min(REGIONS.length - 1,
              Math.abs(r.nextGaussian() * (2 + party)) );
          long cents = r.nextLong(1, 1_000_000);
          sb.setLength(0);
          sb.append(REGIONS[region]).append(',').append(cents / 100).append('.');
          long c = cents % 100;
          if (c < 10) {
            sb.append('0');
          }
          sb.append(c).append(',').append(r.nextInt(1, 20)).append('\n');
          w.write(sb.toString());
        }
      }
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
