package org.sparkmpc.spark.runner;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.dp.Noise;

/**
 * The runner's differential privacy keys: {@code input.<table>.clip=column:lo:hi[,...]} (applied
 * with {@link SparkMpc#clip} before the table is shared) and {@code noisy.query}, {@code
 * noisy.epsilon}, {@code noisy.dataset}, {@code noisy.output} (a query whose aggregates are
 * opened with {@link Noise} after the job's exact query, at every party).
 */
final class NoisyQuery {
  private NoisyQuery() {}

  /** Run {@code noisy.query} with its noise and write it at a recipient, if the config has one. */
  static void runIfAsked(SparkSession spark, SparkMpc mpc, Properties conf) {
    Noise noise = noise(conf);
    if (noise == null) {
      return;
    }
    Dataset<Row> noisy = mpc.reveal(spark.sql(PartyRunner.require(conf, "noisy.query")), noise);
    List<Row> rows = noisy.collectAsList();
    if (!mpc.isRecipient(noisy)) {
      return;
    }
    Path out = Path.of(PartyRunner.require(conf, "noisy.output"));
    PartyRunner.writeCsv(spark, rows, noisy, out);
    System.out.println("spark-mpc: party " + mpc.party() + " wrote " + rows.size()
        + " noisy result rows (" + noise + ") to " + out);
  }

  /** The clipping bounds {@code input.<table>.clip} declares: {column, lo, hi} each, checked. */
  static List<String[]> clips(Properties conf, String table) {
    String key = "input." + table + ".clip";
    String v = conf.getProperty(key, "").trim();
    List<String[]> out = new ArrayList<>();
    if (v.isEmpty()) {
      return out;
    }
    for (String one : v.split("\\s*,\\s*")) {
      String[] c = one.split("\\s*:\\s*");
      try {
        if (c.length != 3 || !(Double.parseDouble(c[1]) < Double.parseDouble(c[2]))) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException e) {
        throw new MpcInputException(key + " must be column:lo:hi with lo < hi (several "
            + "separated by commas), was '" + one + "'");
      }
      out.add(c);
    }
    return out;
  }

  /** The noise of {@code noisy.query}, checked; null when the config names no noisy query. */
  static Noise noise(Properties conf) {
    if (conf.getProperty("noisy.query", "").isBlank()) {
      return null;
    }
    PartyRunner.require(conf, "noisy.output");
    try {
      return Noise.laplace(Double.parseDouble(PartyRunner.require(conf, "noisy.epsilon")))
          .dataset(PartyRunner.require(conf, "noisy.dataset"));
    } catch (NumberFormatException e) {
      throw new MpcInputException("noisy.epsilon must be a number, was '"
          + conf.getProperty("noisy.epsilon") + "'");
    }
  }

}
