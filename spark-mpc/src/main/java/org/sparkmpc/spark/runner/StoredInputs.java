package org.sparkmpc.spark.runner;

import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.spark.SparkMpc;

/**
 * The runner's stored share tables ({@link org.sparkmpc.spark.table.StoredTables}):
 *
 * <pre>
 * input.tx.stored=/data/bank1/stored/tx     # load this party's stored copy instead of sharing
 * input.tx.saveTo=/data/bank1/stored/tx-v2  # after sharing (or loading), save the table there
 * </pre>
 *
 * A stored input has no {@code .path} or {@code .url}: its rows were shared when it was saved. The
 * table's name ({@code tx}) is kept with it, so that errors name it.
 */
final class StoredInputs {
  private StoredInputs() {}

  /**
   * Input table {@code table} loaded from {@code input.<table>.stored} and registered as a temp
   * view, or null if the table is not a stored one.
   */
  static Dataset<Row> loadIfStored(SparkMpc mpc, Properties conf, String table) {
    String p = "input." + table + ".";
    String stored = conf.getProperty(p + "stored", "").trim();
    if (stored.isEmpty()) {
      return null;
    }
    for (String other : new String[] {"path", "url", "share", "alignBy", "intersectBy"}) {
      if (conf.getProperty(p + other) != null) {
        throw new MpcInputException(p + "stored and " + p + other + " are both set: a stored "
            + "table is loaded as it was shared; leave out " + p + other);
      }
    }
    Dataset<Row> secure = mpc.load(stored);
    secure.createOrReplaceTempView(table);
    saveIfAsked(mpc, conf, table, secure);
    return secure;
  }

  /** Save {@code secure} to {@code input.<table>.saveTo} if the config asks for it. */
  static void saveIfAsked(SparkMpc mpc, Properties conf, String table, Dataset<Row> secure) {
    String to = conf.getProperty("input." + table + ".saveTo", "").trim();
    if (!to.isEmpty()) {
      String uid = mpc.save(secure, to, table);
      System.out.println("spark-mpc: party " + mpc.party() + " saved its shares of table "
          + table + " to " + to + " (stored table " + uid + ")");
    }
  }
}
