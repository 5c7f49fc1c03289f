package org.sparkmpc.it;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.to_json;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructType;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.types.Share;
import org.sparkmpc.spark.types.ShareType;

/**
 * Steps of kind {@code probe} of {@link ScenarioParty}: what a party can try on a secure table with
 * the public DataFrame and SQL API. Step {@code setup} shares the party's rows ({@code probe.input},
 * columns region, amount, items; amount secret) as the secure table {@code tx}; every other step runs
 * the attempt named by {@code step.N.probe} (default: the step's name) on it.
 *
 * <p>An attempt that would send shares to the peers as public values ({@link #publish}) goes on, if
 * nothing stops it, to do what an attacker would: it collects the public column every party sent and
 * adds up the values the parties sent for the same row, which are then the secret values of every
 * party, and writes them to {@code recovered.txt}. The tests fail on the step's success already; the
 * file shows what the attempt would have learnt. Every step writes {@code ms.txt}, its duration.
 */
final class ShareProbes {
  private ShareProbes() {}

  /** The secure table of step {@code setup}. */
  private static Dataset<Row> secure;

  static final String SCHEMA = "region STRING, amount DOUBLE, items INT";
  static final StructType LONG_AMOUNT = StructType.fromDDL("region STRING, amount BIGINT, items INT");

  static void run(SparkSession spark, SparkMpc mpc, Properties conf, String step, Path dir)
      throws Exception {
    long t0 = System.nanoTime();
    try {
      attempt(spark, mpc, conf, step, dir);
    } finally {
      Files.writeString(dir.resolve("ms.txt"),
          Long.toString((System.nanoTime() - t0) / 1_000_000));
    }
  }

  private static void attempt(SparkSession spark, SparkMpc mpc, Properties conf, String step,
      Path dir) throws Exception {
    String p = "step." + step + ".";
    String probe = conf.getProperty(p + "probe", step);
    switch (probe) {
      case "setup" -> {
        secure = mpc.share(own(spark, conf), "amount");
        secure.createOrReplaceTempView("tx");
      }
      // The same rows shared again: a legitimate step, the lockstep partner of one-sided attempts.
      case "shareOwn" -> mpc.share(own(spark, conf), "amount").count();
      // Sharing the secure table again, its shares left public (sent to every peer as they are).
      case "reshare" -> publish(mpc, secure, dir);
      case "reshareAlias" -> publish(mpc, secure.select(col("region"),
          col("amount").as("a", Metadata.empty()), col("items")), dir);
      case "reshareMetadata" -> publish(mpc, secure.withMetadata("amount", Metadata.empty()), dir);
      case "reshareRenamed" -> publish(mpc, spark.sql("SELECT region, amount AS amt, items FROM tx"),
          dir);
      // Sharing the shares as secret again (a party's shares of shares).
      case "reshareSecret" -> done(mpc.share(secure, "amount").count(), dir);
      // A column computed from shares: a secret-shared SUM, shared again with its total public.
      case "reshareSum" -> publish(mpc, spark.sql(
          "SELECT region, SUM(amount) AS t, COUNT(*) AS items FROM tx GROUP BY region"), dir);
      // A share as the public id of aligned sharing (the id is sent to every peer).
      case "alignedById" -> done(mpc.shareAligned(secure, "amount", "items").count(), dir);
      // Turning the share into a number by the type system's back doors.
      case "castBigint" -> publish(mpc, secure.select(col("region"),
          col("amount").cast("bigint").as("amount"), col("items")), dir);
      case "asLong" -> done(secure.select("amount").as(Encoders.LONG()).collectAsList().size(),
          dir);
      case "rddAsLong" -> publish(mpc, spark.createDataFrame(secure.javaRDD(), LONG_AMOUNT), dir);
      case "rddSerialize" -> {
        ShareType t = new ShareType();
        JavaRDD<Row> rows = secure.javaRDD().map(r -> RowFactory.create(r.get(0),
            t.serialize((Share) r.get(1)), r.get(2)));
        publish(mpc, spark.createDataFrame(rows, LONG_AMOUNT), dir);
      }
      case "toJson" -> {
        Pattern amount = Pattern.compile("\"amount\":(-?\\d+)");
        List<Row> rows = new ArrayList<>();
        for (String json : secure.toJSON().collectAsList()) {
          Matcher m = amount.matcher(json);
          if (!m.find()) {
            throw new IllegalStateException("toJSON gave no number for amount");
          }
          rows.add(RowFactory.create("r", Long.parseLong(m.group(1)), 0));
        }
        publish(mpc, spark.createDataFrame(rows, LONG_AMOUNT), dir);
      }
      // Expressions that would print a share.
      case "toJsonExpr" -> collect(secure.select(to_json(struct(col("region"), col("amount")))),
          dir);
      case "concat" -> collect(secure.select(concat(col("region"), col("amount"))), dir);
      case "castString" -> collect(secure.select(col("amount").cast("string")), dir);
      case "sqlCastString" -> collect(spark.sql("SELECT CAST(amount AS STRING) FROM tx"), dir);
      // Out through files, and back as numbers.
      case "parquet" -> {
        String f = dir.resolve("parquet").toString();
        secure.write().parquet(f);
        publish(mpc, spark.read().parquet(f), dir);
      }
      case "csv" -> {
        String f = dir.resolve("csv").toString();
        secure.write().csv(f);
        publish(mpc, spark.read().schema(LONG_AMOUNT).csv(f), dir);
      }
      // Joins with this party's own public rows.
      case "selfJoin" -> collect(mpc.reveal(secure.join(own(spark, conf).select("region"),
          "region")), dir);
      case "joinOnShare" -> {
        Dataset<Row> mine = own(spark, conf);
        collect(secure.join(mine, secure.col("amount").equalTo(mine.col("amount"))), dir);
      }
      // Revealing rows: to whom {@code .to} says (parties that differ must be refused).
      case "revealTo" -> collect(mpc.revealTo(secure.select("region", "amount"),
          conf.getProperty(p + "to").split(",")), dir);
      case "limitReveal" -> collect(mpc.reveal(secure.limit(1)), dir);
      case "orderReveal" -> collect(mpc.reveal(secure.orderBy(col("amount"))), dir);
      case "sqlOrderReveal" -> collect(spark.sql(
          "SELECT region, reveal(amount) AS a FROM tx ORDER BY amount"), dir);
      // A SQL query, revealed (a legitimate query, or a party-specific one).
      case "sql" -> ScenarioParty.write(mpc, spark.sql(conf.getProperty(p + "query")), dir);
      default -> throw new IllegalArgumentException("no probe '" + probe + "'");
    }
  }

  private static Dataset<Row> own(SparkSession spark, Properties conf) {
    return spark.read().option("header", "true").schema(SCHEMA).csv(conf.getProperty(
        "probe.input"));
  }

  private static void done(long n, Path dir) throws Exception {
    Files.writeString(dir.resolve("succeeded.txt"), n + " rows");
  }

  private static void collect(Dataset<Row> ds, Path dir) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (Row r : ds.collectAsList()) {
      sb.append(r.mkString(",")).append('\n');
    }
    Files.writeString(dir.resolve("succeeded.txt"), sb.toString());
  }

  /**
   * Share {@code table} with {@code items} secret and every other column public, then collect the
   * public columns every party sent and add up, per column, the values the parties sent for the
   * same row (each party sent as many rows): the secret values, if the columns held shares.
   */
  private static void publish(SparkMpc mpc, Dataset<Row> table, Path dir) throws Exception {
    Dataset<Row> shared = mpc.share(table, "items");
    List<String> longs = new ArrayList<>();
    for (var f : shared.schema().fields()) {
      if (f.dataType() instanceof org.apache.spark.sql.types.LongType) {
        longs.add(f.name());
      }
    }
    List<Row> rows = longs.isEmpty() ? List.of() : shared.select(longs.get(0)).collectAsList();
    int parties = mpc.parties().size();
    int n = rows.size() / parties;
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      long sum = 0;
      for (int q = 0; q < parties; q++) {
        sum += rows.get(q * n + i).getLong(0);
      }
      sb.append(Math.scalb((double) sum, -16)).append('\n');
    }
    Files.writeString(dir.resolve("recovered.txt"), sb.toString());
    Files.writeString(dir.resolve("succeeded.txt"), rows.size() + " rows");
  }
}
