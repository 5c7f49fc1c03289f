package org.sparkmpc.spark.dp;

import java.io.Serializable;
import java.util.regex.Pattern;
import org.sparkmpc.MpcInputException;

/**
 * Differentially private noise for a reveal ({@link org.sparkmpc.spark.SparkMpc#reveal(
 * org.apache.spark.sql.Dataset, Noise)}): each opened SUM, COUNT and AVG of a group gets noise
 * drawn inside MPC, so that no party knows it and none can take it off.
 *
 * <pre>{@code
 * Dataset<Row> totals = wages.groupBy("gender", "role").agg(sum("salary"), count("salary"));
 * mpc.reveal(totals, Noise.laplace(0.5).dataset("wages")).show();
 * }</pre>
 *
 * <p>Mechanism: discrete Laplace ({@code P(x) ~ exp(-|x| / b)}) on the fixed-point integers of
 * each output, with {@code b = sensitivity / (epsilon / k)} for the {@code k} distinct noisy
 * quantities of the query (each SUM column and the counts), so the whole query is
 * {@code epsilon}-differentially private (pure, {@code delta = 0}) against anyone who reads its
 * output, for neighbouring tables that differ in one row. The sensitivity of a SUM is the larger
 * magnitude of the column's clipping bounds ({@link org.sparkmpc.spark.SparkMpc#clip}), that of a
 * COUNT is 1; an AVG is the noisy SUM over the noisy COUNT (post-processing). Groups are public
 * and disjoint, so every group gets the whole budget (parallel composition).
 *
 * <p>Every party charges {@code epsilon} to {@link #dataset()} in its own privacy ledger
 * ({@code spark.mpc.dp.ledger}) before anything is opened, and refuses a query that would spend
 * more than {@code spark.mpc.dp.budget} on it.
 *
 * @param mechanism {@code "none"} or {@code "laplace"}
 * @param epsilon the privacy loss the whole query may spend
 * @param dataset the name under which the parties' ledgers count it
 */
public record Noise(String mechanism, double epsilon, String dataset) implements Serializable {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  /** No noise: the exact reveal. */
  public static final Noise NONE = new Noise("none", 0, "");

  /** Check the fields; errors name the one at fault. */
  public Noise {
    if (!mechanism.equals("none") && !mechanism.equals("laplace")) {
      throw new MpcInputException("noise mechanism must be laplace, was '" + mechanism + "'");
    }
    if (mechanism.equals("laplace") && !(epsilon > 0 && epsilon <= 100)) {
      throw new MpcInputException("noise epsilon must be in (0, 100], was " + epsilon);
    }
    if (!dataset.isEmpty() && !NAME.matcher(dataset).matches()) {
      throw new MpcInputException("noise dataset name must be 1-64 characters of "
          + "[A-Za-z0-9._-], was '" + dataset + "'");
    }
  }

  /**
   * Discrete Laplace noise for a query that spends {@code epsilon}; name the dataset it is
   * charged to with {@link #dataset(String)}.
   */
  public static Noise laplace(double epsilon) {
    return new Noise("laplace", epsilon, "");
  }

  /** The same noise, charged to dataset {@code name} in every party's privacy ledger. */
  public Noise dataset(String name) {
    if (name == null || name.isEmpty()) {
      throw new MpcInputException("noise dataset name must not be empty");
    }
    return new Noise(mechanism, epsilon, name);
  }

  /** Whether this is {@link #NONE}. */
  public boolean none() {
    return mechanism.equals("none");
  }

  @Override
  public String toString() {
    return none() ? "none" : mechanism + "(epsilon=" + epsilon + ", dataset=" + dataset + ")";
  }
}
