package org.sparkmpc.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.spark.SparkMpc;

/**
 * Private set intersection steps of a {@link ScenarioParty} ({@code step.N.kind=psi}): the step's
 * input ({@code .input}, {@code .schema}) intersected on {@code .id} with {@code .mode}:
 * <ul>
 *   <li>{@code members}: {@code members.csv}, this party's member rows (id, psi_key) sorted by id;
 *   <li>{@code to:<party>}: the same, learnt by that party only;
 *   <li>{@code size}: {@code size.txt};
 *   <li>{@code align}: {@code shareIntersected} of the {@code .share} columns, then {@code .query}
 *       over it as table {@code tx}: {@code result.csv}.
 * </ul>
 * Settings for the step only go in {@code .conf.*}, as for every step.
 */
final class PsiSteps {
  private PsiSteps() {}

  static void run(SparkSession spark, SparkMpc mpc, Properties conf, String step, Path dir)
      throws Exception {
    String p = "step." + step + ".";
    Dataset<Row> own = ScenarioParty.input(spark, conf, p);
    String id = conf.getProperty(p + "id");
    String mode = conf.getProperty(p + "mode");
    if (mode.equals("size")) {
      Files.writeString(dir.resolve("size.txt"), Long.toString(mpc.intersectionSize(own, id)));
    } else if (mode.equals("align")) {
      mpc.shareIntersected(own, id, conf.getProperty(p + "share").split(","))
          .createOrReplaceTempView("tx");
      ScenarioParty.write(mpc, spark.sql(conf.getProperty(p + "query")), dir);
    } else {
      Dataset<Row> members = mode.startsWith("to:")
          ? mpc.intersectTo(own, id, mode.substring(3)) : mpc.intersect(own, id);
      List<Row> rows = members.select(id, "psi_key").collectAsList();
      StringBuilder csv = new StringBuilder(id + ",psi_key\n");
      rows.stream().map(r -> r.getString(0) + "," + r.getString(1)).sorted()
          .forEach(l -> csv.append(l).append('\n'));
      Files.writeString(dir.resolve("members.csv"), csv.toString());
      Files.writeString(dir.resolve("columns.txt"), String.join(",",
          Arrays.asList(members.columns())));
    }
  }
}
