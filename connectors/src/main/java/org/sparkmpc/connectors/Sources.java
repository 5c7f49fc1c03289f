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
 * A party's input tables, read from its own storage into Spark: CSV and Parquet files. Each table
 * is described by keys {@code input.<table>.*} of the party config:
 *
 * <pre>
 * input.tx.path=/data/bank1/transactions.csv     # a file or folder (CSV with a header row, Parquet)
 * input.tx.format=csv                            # csv (default) or parquet
 * input.tx.schema=region STRING, amount DOUBLE   # optional DDL schema for CSV (else inferred)
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

  /** Read input table {@code table} as the config describes it. */
  public static Dataset<Row> read(SparkSession spark, Properties conf, String table) {
    String p = prefix(table);
    String format = conf.getProperty(p + "format", "csv").trim();
    DataFrameReader r = spark.read();
    switch (format) {
      case "csv" -> {
        r = r.option("header", "true");
        String schema = conf.getProperty(p + "schema");
        r = schema != null ? r.schema(schema) : r.option("inferSchema", "true");
        return r.csv(require(conf, p + "path"));
      }
      case "parquet" -> {
        return r.parquet(require(conf, p + "path"));
      }
      default -> throw new MpcInputException(p + "format must be csv or parquet, was '"
          + format + "'");
    }
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
