package org.sparkmpc.it;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.sum;

import java.nio.file.Path;
import java.util.Properties;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.dp.Noise;

/**
 * Differentially private reveals in a {@link ScenarioParty} ({@code step.N.kind=noisy}): the
 * step's input ({@code .input}, {@code .schema}), clipped ({@code .clip=column:lo:hi}, optional)
 * and shared ({@code .share}), then SUM, COUNT and AVG of {@code .column} by {@code .group}
 * ({@code .aggs}: a list of sum, count, avg, max) opened with {@code Noise.laplace(.epsilon)
 * .dataset(.dataset)}: {@code result.csv}; with {@code .exact=true} also the exact reveal in
 * {@code exact/result.csv}.
 */
final class DpSteps {
  private DpSteps() {}

  static void run(SparkSession spark, SparkMpc mpc, Properties conf, String step, Path dir)
      throws Exception {
    String p = "step." + step + ".";
    Dataset<Row> own = ScenarioParty.input(spark, conf, p);
    String clip = conf.getProperty(p + "clip", "");
    if (!clip.isEmpty()) {
      String[] c = clip.split(":");
      own = mpc.clip(own, c[0], Double.parseDouble(c[1]), Double.parseDouble(c[2]));
    }
    Dataset<Row> tx = mpc.share(own, conf.getProperty(p + "share").split(","));
    String column = conf.getProperty(p + "column");
    String[] aggs = conf.getProperty(p + "aggs", "sum,count,avg").split(",");
    Column[] cols = new Column[aggs.length];
    for (int i = 0; i < aggs.length; i++) {
      cols[i] = switch (aggs[i]) {
        case "sum" -> sum(column).as("total");
        case "count" -> count(column).as("n");
        case "avg" -> avg(column).as("mean");
        case "max" -> max(column).as("hi");
        default -> throw new IllegalArgumentException(aggs[i]);
      };
    }
    Dataset<Row> agg = tx.groupBy(conf.getProperty(p + "group"))
        .agg(cols[0], java.util.Arrays.copyOfRange(cols, 1, cols.length));
    if (Boolean.parseBoolean(conf.getProperty(p + "exact"))) {
      ScenarioParty.write(mpc, mpc.reveal(agg), dir.resolve("exact"));
    }
    Noise noise = Noise.laplace(Double.parseDouble(conf.getProperty(p + "epsilon")))
        .dataset(conf.getProperty(p + "dataset"));
    ScenarioParty.write(mpc, mpc.reveal(agg, noise), dir);
  }
}
