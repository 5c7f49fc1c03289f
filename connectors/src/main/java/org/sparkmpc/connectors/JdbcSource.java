package org.sparkmpc.connectors;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.jdbc.JdbcDialects;
import org.sparkmpc.MpcInputException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A party's input table in a database, read with Spark's own JDBC source in parallel partitions.
 * The keys of table {@code tx} in the party config:
 *
 * <pre>
 * input.tx.url=jdbc:postgresql://db.bank1.example:5432/bank1   # format=jdbc is implied by url
 * input.tx.dbtable=public.transactions      # a table or view; or input.tx.query=SELECT ...
 * input.tx.user=mpc_reader
 * input.tx.passwordFile=/etc/spark-mpc/db.pw  # first line; or input.tx.passwordEnv=BANK1_DB_PW
 * input.tx.partitionColumn=id               # numeric, date or timestamp; optional
 * input.tx.numPartitions=8                  # default: the session's default parallelism
 * input.tx.lowerBound=1                     # optional: by default min(id) and max(id),
 * input.tx.upperBound=3000000               #   found with one query
 * input.tx.fetchSize=10000                  # rows per round trip (default 10000)
 * input.tx.driver=org.postgresql.Driver     # default for jdbc:postgresql URLs
 * </pre>
 *
 * <p>The password never goes in the config, which gets copied around: {@code input.tx.password},
 * or a URL that carries a password, is refused. It is read from a file that only the party can
 * read (one that others may read is refused) or from an environment variable of the driver, and
 * handed to Spark's JDBC source as its {@code password} option, which Spark redacts from plans
 * and the UI ({@code spark.redaction.regex}); the executors get it inside their tasks, so a
 * party's cluster should encrypt its own RPC ({@code spark.authenticate}, {@code
 * spark.network.crypto.enabled}).
 *
 * <p>Before Spark plans the read, {@link #check()} opens one connection on the driver and asks
 * the database for the relation's columns (no rows): an unreachable database, a refused login or
 * a missing table is an {@link MpcInputException} at once, naming the table, the key at fault and
 * the source (the URL without its parameters, and the user), never the password.
 */
public final class JdbcSource {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcSource.class);
  /** Rows per round trip when {@code fetchSize} is not set: Spark's driver default is tiny. */
  public static final int DEFAULT_FETCH_SIZE = 10_000;
  /** The alias of a {@code query} when it is read as a subquery (partitioned reads). */
  private static final String QUERY_ALIAS = "spark_mpc_input";

  private final String table;
  private final String prefix;
  private final String url;
  private final String user;
  private final String password;
  private final String passwordKey;
  private final String dbtable;
  private final String query;
  private final String driver;
  private final String partitionColumn;
  private final String lowerBound;
  private final String upperBound;
  private final Integer numPartitions;
  private final int fetchSize;

  private JdbcSource(Properties conf, String table) {
    this.table = table;
    this.prefix = Sources.prefix(table);
    if (conf.getProperty(prefix + "password") != null) {
      throw new MpcInputException(prefix + "password is refused: a party config gets copied "
          + "around, so a database password never goes in it; put it in a file only this party "
          + "can read (" + prefix + "passwordFile) or in an environment variable ("
          + prefix + "passwordEnv)");
    }
    this.url = Sources.require(conf, prefix + "url");
    refuseCredentialsInUrl();
    this.user = trimmed(conf, "user");
    this.dbtable = trimmed(conf, "dbtable");
    this.query = trimmed(conf, "query");
    if ((dbtable == null) == (query == null)) {
      throw new MpcInputException(prefix + "dbtable or " + prefix + "query must be set (one of "
          + "them) for the JDBC source " + source());
    }
    String file = trimmed(conf, "passwordFile");
    String env = trimmed(conf, "passwordEnv");
    if (file != null && env != null) {
      throw new MpcInputException(prefix + "passwordFile and " + prefix + "passwordEnv are both "
          + "set: give the password one way");
    }
    this.passwordKey = file != null ? prefix + "passwordFile" : env != null
        ? prefix + "passwordEnv" : null;
    this.password = file != null ? passwordFromFile(Path.of(file))
        : env != null ? passwordFromEnv(env) : null;
    String d = trimmed(conf, "driver");
    this.driver = d != null ? d : url.startsWith("jdbc:postgresql:") ? "org.postgresql.Driver"
        : null;
    this.partitionColumn = trimmed(conf, "partitionColumn");
    this.lowerBound = trimmed(conf, "lowerBound");
    this.upperBound = trimmed(conf, "upperBound");
    if ((lowerBound == null) != (upperBound == null)) {
      throw new MpcInputException(prefix + "lowerBound and " + prefix + "upperBound go together: "
          + "set both, or neither (then they are the partition column's min and max)");
    }
    if (partitionColumn == null && (lowerBound != null || trimmed(conf, "numPartitions") != null)) {
      throw new MpcInputException(prefix + "lowerBound, upperBound and numPartitions need "
          + prefix + "partitionColumn");
    }
    String n = trimmed(conf, "numPartitions");
    this.numPartitions = n == null ? null : positive(n, "numPartitions");
    String f = trimmed(conf, "fetchSize");
    this.fetchSize = f == null ? DEFAULT_FETCH_SIZE : positive(f, "fetchSize");
  }

  /** The JDBC source of input table {@code table} as the config describes it; keys checked. */
  public static JdbcSource of(Properties conf, String table) {
    return new JdbcSource(conf, table);
  }

  /**
   * The source as errors and logs name it: the URL without its parameters (the part from the
   * first {@code ?} or {@code ;} on) and the user, never the password.
   */
  public String source() {
    String shown = url;
    int cut = shown.length();
    for (char c : new char[] {'?', ';'}) {
      int at = shown.indexOf(c, "jdbc:".length());
      if (at >= 0) {
        cut = Math.min(cut, at);
      }
    }
    shown = shown.substring(0, cut);
    return shown + (user != null ? " as user '" + user + "'" : "");
  }

  /** The relation the source reads: {@code dbtable}, or {@code (query) alias}. */
  private String relation() {
    return dbtable != null ? dbtable : "(" + query + ") " + QUERY_ALIAS;
  }

  private String relationKey() {
    return prefix + (dbtable != null ? "dbtable" : "query");
  }

  /**
   * Open one connection on the driver and ask for the relation's columns (no rows), so that an
   * unreachable database, a refused login or a missing table is found before any Spark job: an
   * {@link MpcInputException} naming the table, the key at fault and the source.
   */
  public void check() {
    try (Connection c = connect(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT * FROM " + relation() + " WHERE 1=0")) {
      if (partitionColumn != null) {
        partitionColumn(rs.getMetaData());
      }
    } catch (SQLException e) {
      throw failure(e);
    }
  }

  /**
   * The table as a DataFrame from Spark's JDBC source: after the checks of {@link #check()} (on
   * the same connection that finds the bounds), partitioned on
   * {@code partitionColumn} when set, the bounds found with one {@code min}/{@code max} query
   * when not given. Nothing is read until an action runs.
   */
  public Dataset<Row> read(SparkSession spark) {
    String column = null;
    String lower = lowerBound;
    String upper = upperBound;
    try (Connection c = connect(); Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT * FROM " + relation() + " WHERE 1=0")) {
        if (partitionColumn != null) {
          column = partitionColumn(rs.getMetaData());
        }
      }
      if (column != null && lower == null) {
        String q = JdbcDialects.get(url).quoteIdentifier(column);
        try (ResultSet rs = s.executeQuery("SELECT min(" + q + "), max(" + q + ") FROM "
            + relation())) {
          rs.next();
          int type = rs.getMetaData().getColumnType(1);
          lower = bound(rs, 1, type, RoundingMode.FLOOR);
          upper = bound(rs, 2, type, RoundingMode.CEILING);
        }
      }
    } catch (SQLException e) {
      throw failure(e);
    }
    DataFrameReader r = spark.read().format("jdbc").option("url", url)
        .option("fetchsize", Integer.toString(fetchSize));
    if (driver != null) {
      r = r.option("driver", driver);
    }
    if (user != null) {
      r = r.option("user", user);
    }
    if (password != null) {
      r = r.option("password", password);
    }
    int partitions = 1;
    if (column != null && lower != null) {
      partitions = numPartitions != null ? numPartitions
          : Math.max(1, spark.sparkContext().defaultParallelism());
      // Spark's partitioned read takes a table or a subquery, not its query option.
      r = r.option("dbtable", relation()).option("partitionColumn", column)
          .option("lowerBound", lower).option("upperBound", upper)
          .option("numPartitions", Integer.toString(partitions));
    } else if (dbtable != null) {
      r = r.option("dbtable", dbtable);
    } else {
      r = r.option("query", query);
    }
    LOG.info("input {}: {} from {}, {}", table, dbtable != null ? "table " + dbtable : "a query",
        source(), column == null ? "one partition"
            : lower == null ? "one partition (" + column + " has no values)"
            : partitions + " partitions on " + column + " in [" + lower + ", " + upper + "]");
    try {
      return r.load();
    } catch (RuntimeException e) {
      throw new MpcInputException(prefix + "*: Spark cannot read table '" + table + "' from "
          + source() + ": " + scrub(messages(e)));
    }
  }

  private Connection connect() throws SQLException {
    if (driver != null) {
      try {
        // Registers the driver with DriverManager from this class's loader (spark-submit loads
        // the application's jars in a loader DriverManager does not search by itself).
        Class.forName(driver, true, JdbcSource.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new MpcInputException(prefix + "driver: the JDBC driver class '" + driver
            + "' is not on the classpath (add its jar to the job) for " + source());
      }
    }
    Properties props = new Properties();
    if (user != null) {
      props.setProperty("user", user);
    }
    if (password != null) {
      props.setProperty("password", password);
    }
    return DriverManager.getConnection(url, props);
  }

  /** {@code partitionColumn} as the relation spells it, if it is numeric, a date or a time. */
  private String partitionColumn(ResultSetMetaData meta) throws SQLException {
    List<String> names = columns(meta);
    for (int i = 1; i <= meta.getColumnCount(); i++) {
      if (meta.getColumnName(i).equalsIgnoreCase(partitionColumn)) {
        if (!partitionable(meta.getColumnType(i))) {
          throw new MpcInputException(prefix + "partitionColumn '" + partitionColumn + "' of "
              + "table '" + table + "' is " + meta.getColumnTypeName(i) + "; a partitioned read "
              + "needs a numeric, date or timestamp column");
        }
        return meta.getColumnName(i);
      }
    }
    throw new MpcInputException(prefix + "partitionColumn '" + partitionColumn + "' is not a "
        + "column of " + relationKey() + " (its columns: " + String.join(", ", names) + ")");
  }

  private static List<String> columns(ResultSetMetaData meta) throws SQLException {
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= meta.getColumnCount(); i++) {
      names.add(meta.getColumnName(i));
    }
    return names;
  }

  private static boolean partitionable(int type) {
    return switch (type) {
      case Types.TINYINT, Types.SMALLINT, Types.INTEGER, Types.BIGINT, Types.DECIMAL,
          Types.NUMERIC, Types.REAL, Types.FLOAT, Types.DOUBLE, Types.DATE, Types.TIMESTAMP,
          Types.TIMESTAMP_WITH_TIMEZONE -> true;
      default -> false;
    };
  }

  /**
   * A bound as Spark's option takes it: a whole number for numeric columns (Spark reads the
   * bounds as longs; only the partitions' strides depend on them, every row is read), a date or
   * a time as text; null for a column without values.
   */
  private static String bound(ResultSet rs, int i, int type, RoundingMode round)
      throws SQLException {
    return switch (type) {
      case Types.DATE -> rs.getDate(i) == null ? null : rs.getDate(i).toString();
      case Types.TIMESTAMP, Types.TIMESTAMP_WITH_TIMEZONE -> rs.getTimestamp(i) == null ? null
          : rs.getTimestamp(i).toString();
      default -> {
        BigDecimal v = rs.getBigDecimal(i);
        yield v == null ? null : v.setScale(0, round).toPlainString();
      }
    };
  }

  /** The error for a failed connection or probe: the key at fault, the source, the cause. */
  private MpcInputException failure(SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String what;
    if (state.startsWith("08")) {
      what = "cannot connect (" + prefix + "url)";
    } else if (state.startsWith("28")) {
      what = "the database refused the login (" + prefix + "user"
          + (passwordKey != null ? ", " + passwordKey : "") + ")";
    } else if (state.startsWith("42")) {
      what = "the database cannot read " + relationKey();
    } else {
      what = "the database failed";
    }
    return new MpcInputException("input." + table + ": " + what + " for table '" + table
        + "' from " + source() + ": " + scrub(messages(e)));
  }

  /** The messages of {@code e} and its causes, each once, on one line. */
  private static String messages(Throwable e) {
    StringBuilder sb = new StringBuilder();
    Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (Throwable t = e; t != null && seen.add(t); t = t.getCause()) {
      String m = t.getMessage() == null ? t.getClass().getSimpleName()
          : t.getMessage().trim().replaceAll("\\s*\\n\\s*", " ");
      if (t instanceof java.net.UnknownHostException) {
        m = "unknown host " + m;
      }
      if (sb.indexOf(m) < 0) {
        if (sb.length() > 0 && sb.charAt(sb.length() - 1) == '.') {
          sb.setLength(sb.length() - 1);
        }
        sb.append(sb.length() == 0 ? "" : ": ").append(m);
      }
    }
    return sb.toString();
  }

  /** {@code text} with the password blanked, should a driver ever echo it. */
  private String scrub(String text) {
    return password == null || password.isEmpty() ? text : text.replace(password, "***");
  }

  private void refuseCredentialsInUrl() {
    String lower = url.toLowerCase(Locale.ROOT);
    int scheme = lower.indexOf("//");
    int hostEnd = scheme < 0 ? -1 : indexOfAny(lower, scheme + 2, "/?;");
    String authority = scheme < 0 ? "" : lower.substring(scheme + 2, hostEnd < 0 ? lower.length()
        : hostEnd);
    boolean userInfo = authority.contains("@");
    boolean param = false;
    for (String part : lower.split("[?&;]")) {
      int eq = part.indexOf('=');
      param |= eq > 0 && part.substring(0, eq).trim().contains("password");
    }
    if (userInfo || param) {
      throw new MpcInputException(prefix + "url carries " + (param ? "a password parameter"
          : "credentials (user:password@host)") + ", which is refused: a party config gets "
          + "copied around; give the user as " + prefix + "user and the password in "
          + prefix + "passwordFile or " + prefix + "passwordEnv");
    }
  }

  private static int indexOfAny(String s, int from, String chars) {
    for (int i = from; i < s.length(); i++) {
      if (chars.indexOf(s.charAt(i)) >= 0) {
        return i;
      }
    }
    return -1;
  }

  private String passwordFromFile(Path file) {
    String key = prefix + "passwordFile";
    if (!Files.isReadable(file)) {
      throw new MpcInputException(key + ": cannot read the password file " + file);
    }
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      if (perms.contains(PosixFilePermission.OTHERS_READ)) {
        throw new MpcInputException(key + ": the password file " + file + " may be read by "
            + "every user of this machine; make it readable by the party only (chmod 600)");
      }
    } catch (UnsupportedOperationException notPosix) {
      // a file system without POSIX permissions: its own access control applies
    } catch (IOException e) {
      throw new MpcInputException(key + ": cannot read the password file " + file + ": "
          + e.getMessage());
    }
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      int end = text.indexOf('\n');
      String first = end < 0 ? text : text.substring(0, end);
      return first.endsWith("\r") ? first.substring(0, first.length() - 1) : first;
    } catch (IOException e) {
      throw new MpcInputException(key + ": cannot read the password file " + file + ": "
          + e.getClass().getSimpleName());
    }
  }

  private String passwordFromEnv(String name) {
    String v = System.getenv(name);
    if (v == null) {
      throw new MpcInputException(prefix + "passwordEnv: the environment variable '" + name
          + "' is not set in this party's driver");
    }
    return v;
  }

  private String trimmed(Properties conf, String key) {
    String v = conf.getProperty(prefix + key);
    return v == null || v.isBlank() ? null : v.trim();
  }

  private int positive(String v, String key) {
    try {
      int n = Integer.parseInt(v);
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new MpcInputException(prefix + key + " must be a whole number above 0, was '" + v
        + "'");
  }
}
