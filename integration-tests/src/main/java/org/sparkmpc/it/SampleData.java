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

  /** The features of {@link #fraudTransactions}, in the order of its columns. */
  public static final String[] FRAUD_FEATURES = {"income", "age", "amount", "foreign"};

  /**
   * The true model of {@link #fraudTransactions}: the log-odds of fraud are {@code income·β_1 +
   * age·β_2 + amount·β_3 + foreign·β_4 + β_0}, coefficients in the order of {@link
   * #FRAUD_FEATURES}, then the intercept.
   */
  public static final double[] FRAUD_MODEL = {-1.5e-5, 0.02, 0.004, 1.2, -3.4};

  /**
   * Card transactions of bank number {@code bank} (0, 1, 2, ...), each labelled fraud (1) or not
   * (0) by {@link #FRAUD_MODEL}: {@code id} (public, {@code b<bank>-t<i>}), the customer's yearly
   * {@code income} (log-normal, tens of thousands to millions, two decimals), {@code age} (18 to
   * 87), the {@code amount} (exponential, mean 300, two decimals), {@code foreign} (1 for a
   * payment abroad) and {@code fraud}. Banks differ in their customers (income level, share of
   * payments abroad), so the split is not a random one. Deterministic per (bank, rows). Header
   * {@code id,income,age,amount,foreign,fraud}.
   */
  public static Path fraudTransactions(Path file, int bank, long rows) {
    SplittableRandom r = new SplittableRandom(0xF4A0_0000L + bank);
    double incomeLevel = 10.3 + 0.2 * bank;
    int abroad = 3 + bank;      // one payment in 3, 4, 5, ... is foreign
    double[] m = FRAUD_MODEL;
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      try (BufferedWriter w = Files.newBufferedWriter(file)) {
        w.write("id,income,age,amount,foreign,fraud\n");
        for (long i = 0; i < rows; i++) {
          double income = Math.round(Math.exp(incomeLevel + r.nextGaussian()) * 100) / 100.0;
          int age = 18 + r.nextInt(70);
          double amount = Math.round(-300 * Math.log(1 - r.nextDouble()) * 100) / 100.0;
          int foreign = r.nextInt(abroad) == 0 ? 1 : 0;
          double z = m[0] * income + m[1] * age + m[2] * amount + m[3] * foreign + m[4];
          int fraud = r.nextDouble() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
          w.write("b" + (bank + 1) + "-t" + i + "," + income + "," + age + "," + amount + ","
              + foreign + "," + fraud + "\n");
        }
      }
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The features of {@link #studyPatients}: hospital A's three, then hospital B's dose. */
  public static final String[] STUDY_FEATURES = {"age", "bmi", "smoker", "dose"};

  /**
   * The true model of {@link #studyPatients}: the log-odds of readmission, coefficients in the
   * order of {@link #STUDY_FEATURES}, then the intercept.
   */
  public static final double[] STUDY_MODEL = {0.03, 0.06, 0.9, -0.012, -3.2};

  /**
   * Two hospitals' patients for the private-alignment study: hospital A has {@code rows} patients
   * {@code P0000000, P0000001, ...} with {@code age} (20 to 89), {@code bmi} (two decimals) and
   * {@code smoker} (0 or 1); hospital B has {@code rows} patients starting at a quarter of the way,
   * so three quarters are at both, with the {@code dose} given (mg, two decimals) and
   * {@code readmitted} (0 or 1, drawn from {@link #STUDY_MODEL} on all four columns). B writes its
   * ids in lower case ({@code p0000123}): the same patients, spelt otherwise. Deterministic per
   * {@code rows}. Files {@code hospitalA.csv} ({@code id,age,bmi,smoker}) and
   * {@code hospitalB.csv} ({@code id,dose,readmitted}).
   */
  public static Path[] studyPatients(Path dir, long rows) {
    SplittableRandom r = new SplittableRandom(0x57D7L);
    Path a = dir.resolve("hospitalA.csv");
    Path b = dir.resolve("hospitalB.csv");
    long firstAtB = rows / 4;
    double[] m = STUDY_MODEL;
    try {
      Files.createDirectories(dir);
      try (BufferedWriter wa = Files.newBufferedWriter(a);
          BufferedWriter wb = Files.newBufferedWriter(b)) {
        wa.write("id,age,bmi,smoker\n");
        wb.write("id,dose,readmitted\n");
        for (long i = 0; i < firstAtB + rows; i++) {
          int age = 20 + r.nextInt(70);
          double bmi = Math.round((26 + 4.5 * r.nextGaussian() + 0.04 * (age - 50)) * 100) / 100.0;
          int smoker = r.nextInt(4) == 0 ? 1 : 0;
          double dose = Math.round((40 + r.nextDouble() * 160) * 100) / 100.0;
          double z = m[0] * age + m[1] * bmi + m[2] * smoker + m[3] * dose + m[4];
          int readmitted = r.nextDouble() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
          String id = String.format(java.util.Locale.ROOT, "%07d", i);
          if (i < rows) {
            wa.write("P" + id + "," + age + "," + bmi + "," + smoker + "\n");
          }
          if (i >= firstAtB) {
            wb.write("p" + id + "," + dose + "," + readmitted + "\n");
          }
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
