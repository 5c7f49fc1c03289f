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

  /** The true model of {@link #patients}: coefficients of age, bmi, dose, then the intercept. */
  public static final double[] PATIENT_MODEL = {0.8, -0.5, 1.2, 2.0};

  /**
   * Patients split over two hospitals, for the same ids: hospital A's file has {@code id, age,
   * bmi}, hospital B's {@code id, dose, outcome}; features standardised (correlated a little),
   * {@code outcome = 0.8 age - 0.5 bmi + 1.2 dose + 2 + noise}. Returns the two files.
   */
  public static Path[] patients(Path dir, long rows) {
    SplittableRandom r = new SplittableRandom(0xC11_41CL);
    Path a = dir.resolve("hospitalA.csv");
    Path b = dir.resolve("hospitalB.csv");
    try {
      Files.createDirectories(dir);
      try (BufferedWriter wa = Files.newBufferedWriter(a);
          BufferedWriter wb = Files.newBufferedWriter(b)) {
        wa.write("id,age,bmi\n");
        wb.write("id,dose,outcome\n");
        double[] m = PATIENT_MODEL;
        for (long i = 0; i < rows; i++) {
          double age = r.nextGaussian();
          double bmi = 0.4 * age + 0.9 * r.nextGaussian();
          double dose = -0.3 * bmi + 0.95 * r.nextGaussian();
          double y = m[0] * age + m[1] * bmi + m[2] * dose + m[3] + 0.3 * r.nextGaussian();
          wa.write("p" + i + "," + round(age) + "," + round(bmi) + "\n");
          wb.write("p" + i + "," + round(dose) + "," + round(y) + "\n");
        }
      }
      return new Path[] {a, b};
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String round(double v) {
    return String.valueOf(Math.round(v * 1e5) / 1e5);
  }
}
