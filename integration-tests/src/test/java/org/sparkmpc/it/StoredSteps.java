package org.sparkmpc.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.spark.SparkMpc;

/**
 * {@link ScenarioParty}'s steps on stored share tables ({@code step.N.kind=stored}): the table is
 * loaded from {@code .stored}, or shared from {@code .input} ({@code .schema}, {@code .share}, and
 * {@code .id} for vertically split rows); then saved to each folder of {@code .saveTo} (comma
 * separated; each save a new version, named {@code .name}), whose identities go to
 * {@code saved.txt}; then {@code .query} runs over it as view {@code tx}, {@code .dataframe=g,c}
 * reveals {@code SUM(c)} and {@code COUNT(*)} by {@code g} through the DataFrame API (in
 * {@code dataframe/}), and {@code .features}/{@code .label} fit a linear regression on it, opened
 * to every party ({@code model.txt}: the coefficients, then the intercept).
 */
final class StoredSteps {
  private StoredSteps() {}

  static void run(SparkSession spark, SparkMpc mpc, Properties conf, String step, Path dir)
      throws Exception {
    String p = "step." + step + ".";
    String stored = conf.getProperty(p + "stored");
    Dataset<Row> t;
    if (stored != null) {
      t = mpc.load(stored);
    } else if (conf.getProperty(p + "id") != null) {
      t = mpc.shareAligned(ScenarioParty.input(spark, conf, p), conf.getProperty(p + "id"),
          conf.getProperty(p + "share").split(","));
    } else {
      t = mpc.share(ScenarioParty.input(spark, conf, p), conf.getProperty(p + "share").split(","));
    }
    String saveTo = conf.getProperty(p + "saveTo");
    if (saveTo != null) {
      StringBuilder ids = new StringBuilder();
      for (String to : saveTo.split(",")) {
        ids.append(mpc.save(t, to, conf.getProperty(p + "name", ""))).append('\n');
      }
      Files.writeString(dir.resolve("saved.txt"), ids.toString());
    }
    String query = conf.getProperty(p + "query");
    if (query != null) {
      t.createOrReplaceTempView("tx");
      ScenarioParty.write(mpc, spark.sql(query), dir);
    }
    String groupBy = conf.getProperty(p + "dataframe");
    if (groupBy != null) {
      String[] by = groupBy.split(",");
      ScenarioParty.write(mpc, mpc.reveal(t.groupBy(by[0]).agg(
          org.apache.spark.sql.functions.sum(by[1]).as("total"),
          org.apache.spark.sql.functions.count("*").as("n"))), dir.resolve("dataframe"));
    }
    String features = conf.getProperty(p + "features");
    if (features != null) {
      org.sparkmpc.spark.ml.SecureLinearRegressionModel model =
          new org.sparkmpc.spark.ml.SecureLinearRegression(mpc)
              .setFeatureCols(features.split(","))
              .setLabelCol(conf.getProperty(p + "label"))
              .setRecipients(mpc.parties().toArray(new String[0]))
              .fit(t);
      StringBuilder sb = new StringBuilder();
      for (double c : model.coefficients()) {
        sb.append(c).append(',');
      }
      Files.writeString(dir.resolve("model.txt"), sb.append(model.intercept()).toString());
    }
  }
}
