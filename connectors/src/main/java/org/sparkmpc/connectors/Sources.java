package org.sparkmpc.connectors;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.MpcInputException;

/**
 * A party's input tables, read from its own storage into Spark: CSV and Parquet files, and
 * database tables over JDBC ({@link JdbcSource}). Each table is described by keys
 * {@code input.<table>.*} of the party config:
 *
 * <pre>
 * input.tx.path=/data/bank1/transactions.csv     # a file or folder (CSV with a header row, Parquet)
 * input.tx.format=csv                            # csv (default with a path), parquet or jdbc
 * input.tx.schema=region STRING, amount DOUBLE   # optional DDL schema for CSV (else inferred)
 *
 * input.tx.url=jdbc:postgresql://db.bank1.example:5432/bank1   # a database: format jdbc
 * input.tx.dbtable=transactions                  # or input.tx.query=SELECT ...
 * input.tx.user=mpc_reader
 * input.tx.passwordFile=/etc/spark-mpc/db.pw     # or input.tx.passwordEnv; never in the config
 * input.tx.partitionColumn=id                    # parallel reads; see JdbcSource for the rest
 * </pre>
 *
 * The rows are read in Spark's partitions and shared partition by partition, straight into the
 * Arrow share batches; nothing is collected on the driver. Errors name the table and the key.
 */
public final class Sources {
  private Sources() {}

  /** The key prefix of table {@code table}: {@code input.<table>.}. */
  public static String prefix(String table) {
    return "input." + table + ".";
  }

  /**
   * Read input table {@code table} as the config describes it. A JDBC table is checked first
   * (one connection on the driver, as {@link JdbcSource#check()}), then read in partitions.
   */
  public static Dataset<Row> read(SparkSession spark, Properties conf, String table) {
    String p = prefix(table);
    String format = format(conf, table);
    DataFrameReader r = spark.read();
    switch (format) {
      case "jdbc" -> {
        return JdbcSource.of(conf, table).read(spark);
      }
      case "csv" -> {
        r = r.option("header", "true");
        String schema = conf.getProperty(p + "schema");
        r = schema != null ? r.schema(schema) : r.option("inferSchema", "true");
        return r.csv(require(conf, p + "path"));
      }
      case "parquet" -> {
        return r.parquet(require(conf, p + "path"));
      }
      default -> throw new MpcInputException(p + "format must be csv, parquet or jdbc, was '"
          + format + "'");
    }
  }

  /**
   * Check what can be checked of every input table before the party joins a session, so that a
   * mistake stops this party at once instead of the others mid-job: each JDBC table's keys, and
   * one connection to its database that asks for the table's columns ({@link JdbcSource#check()}).
   */
  public static void check(Properties conf) {
    for (String table : tables(conf)) {
      if (format(conf, table).equals("jdbc")) {
        JdbcSource.of(conf, table).check();
      }
    }
  }

  /** The format of table {@code table}: the {@code format} key, else jdbc for a url, csv for a path. */
  static String format(Properties conf, String table) {
    String p = prefix(table);
    boolean url = conf.getProperty(p + "url") != null;
    if (url && conf.getProperty(p + "path") != null) {
      throw new MpcInputException(p + "path and " + p + "url are both set: a table is read from a "
          + "file or from a database, not both");
    }
    return conf.getProperty(p + "format", url ? "jdbc" : "csv").trim();
  }

  /**
   * The input tables a party config names, sorted: every {@code <table>} with a key
   * {@code input.<table>.path} (a file source), {@code input.<table>.url} (a JDBC source) or
   * {@code input.<table>.stored} (a stored share table, loaded instead of shared).
   */
  public static List<String> tables(Properties conf) {
    TreeSet<String> names = new TreeSet<>();
    for (String k : conf.stringPropertyNames()) {
      for (String end : List.of(".path", ".url", ".stored")) {
        if (k.startsWith("input.") && k.endsWith(end) && k.length() > 6 + end.length()) {
          names.add(k.substring("input.".length(), k.length() - end.length()));
        }
      }
    }
    if (names.isEmpty()) {
      throw new MpcInputException("the party config names no input table (input.<name>.path "
          + "for a file, input.<name>.url for a database, input.<name>.stored for a stored share "
          + "table)");
    }
    return new ArrayList<>(names);
  }

  static String require(Properties conf, String key) {
    String v = conf.getProperty(key);
    if (v == null || v.isBlank()) {
      throw new MpcInputException("the party config has no '" + key + "'");
    }
    return v.trim();
  }
}
