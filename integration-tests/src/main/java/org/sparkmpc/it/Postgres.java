package org.sparkmpc.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * A throwaway PostgreSQL server for the tests and the benchmark, started with the project's own
 * {@code connectors/postgres.sh} (Debian's PostgreSQL, which {@code ./test.sh} installs) in a
 * temporary folder, on a free loopback port, with an administrator of its own; closing it stops
 * the server and deletes the folder. It makes databases and users (each with a random password in
 * a file of its own, mode 600, as a party keeps it) and loads tables fast with {@code COPY FROM
 * STDIN}.
 */
public final class Postgres implements AutoCloseable {
  /** The cluster's superuser, which creates the databases, users and tables. */
  public static final String ADMIN = "spark_mpc_admin";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path dir;
  private final int port;
  private final Path secrets;

  private Postgres(Path dir, int port) {
    this.dir = dir;
    this.port = port;
    this.secrets = dir.resolve("secrets");
  }

  /**
   * Start a fresh server: a folder under the system's temporary folder, a free port. Fails with
   * the script's message when PostgreSQL is not installed ({@code connectors/postgres.sh
   * install}).
   */
  public static Postgres start() {
    try {
      Path dir = Files.createTempDirectory("spark-mpc-pg-");
      // The server may run as the postgres OS user (when this JVM is root): it must reach pg/.
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
      Postgres pg = new Postgres(dir, LocalParties.freePorts(1)[0]);
      Files.createDirectories(pg.secrets);
      Files.setPosixFilePermissions(pg.secrets, PosixFilePermissions.fromString("rwx------"));
      Path adminPw = pg.newPassword(ADMIN);
      pg.script("start", dir.resolve("pg").toString(), Integer.toString(pg.port), ADMIN,
          adminPw.toString());
      return pg;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code connectors/postgres.sh} of this project, found from the working folder upwards. */
  public static Path scriptFile() {
    Path start = Path.of("").toAbsolutePath();
    for (Path p = start; p != null; p = p.getParent()) {
      Path s = p.resolve("connectors").resolve("postgres.sh");
      if (Files.isRegularFile(s)) {
        return s;
      }
    }
    throw new IllegalStateException("no connectors/postgres.sh in " + start + " or above it; run "
        + "from the project");
  }

  private void script(String... args) {
    try {
      List<String> cmd = new java.util.ArrayList<>(List.of("bash", scriptFile().toString()));
      cmd.addAll(List.of(args));
      Path log = dir.resolve("script-" + args[0] + ".log");
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
          .start();
      if (!p.waitFor(3, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IllegalStateException("connectors/postgres.sh " + args[0] + " took longer than "
            + "3 minutes: " + Files.readString(log));
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("connectors/postgres.sh " + args[0] + " failed (exit "
            + p.exitValue() + "): " + Files.readString(log).trim());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The server's port on 127.0.0.1. */
  public int port() {
    return port;
  }

  /** The JDBC URL of {@code database}, without credentials. */
  public String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  /** A fresh random password for {@code user}, written to its file (mode 600). */
  private Path newPassword(String user) throws IOException {
    byte[] b = new byte[18];
    RANDOM.nextBytes(b);
    Path f = passwordFile(user);
    Files.deleteIfExists(f);
    Files.createFile(f, PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rw-------")));
    Files.writeString(f, "pw-" + HexFormat.of().formatHex(b) + "\n");
    return f;
  }

  /** The password file of {@code user} (first line, mode 600). */
  public Path passwordFile(String user) {
    return secrets.resolve(user + ".pw");
  }

  /** The password of {@code user}: for tests that check it is printed nowhere. */
  public String password(String user) {
    try {
      return Files.readAllLines(passwordFile(user)).get(0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A login {@code user} (not a superuser) with a random password, and a database of the same
   * name that it owns. Returns the user's password file.
   */
  public Path createUserAndDatabase(String user) {
    try {
      Path f = newPassword(user);
      execute("postgres", "CREATE ROLE " + user + " LOGIN PASSWORD '" + password(user) + "'");
      execute("postgres", "CREATE DATABASE " + user + " OWNER " + user);
      return f;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A connection to {@code database} as {@link #ADMIN}. */
  public Connection admin(String database) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", ADMIN);
    p.setProperty("password", password(ADMIN));
    return DriverManager.getConnection(url(database), p);
  }

  /** Run {@code sql} statements (separated by {@code ;}) in {@code database} as the admin. */
  public void execute(String database, String sql) {
    try (Connection c = admin(database); Statement s = c.createStatement()) {
      for (String one : sql.split(";")) {
        if (!one.isBlank()) {
          s.execute(one);
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("in database " + database + ": " + e.getMessage(), e);
    }
  }

  /** Writes row {@code i} of a table as one CSV line (without the line end) into {@code line}. */
  public interface RowWriter {
    void write(long i, StringBuilder line);
  }

  /**
   * Load {@code rows} rows into {@code table} (which exists) of {@code database} with {@code COPY
   * ... FROM STDIN} in CSV, written by {@code writer} in chunks of about 1 MiB; then {@code
   * ANALYZE}. Returns the rows the server counted.
   */
  public long copy(String database, String table, String columns, long rows, RowWriter writer) {
    try (Connection c = admin(database)) {
      CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + table + " ("
          + columns + ") FROM STDIN WITH (FORMAT csv)");
      StringBuilder chunk = new StringBuilder(1 << 20);
      try {
        for (long i = 0; i < rows; i++) {
          writer.write(i, chunk);
          chunk.append('\n');
          if (chunk.length() >= 1 << 20) {
            byte[] b = chunk.toString().getBytes(StandardCharsets.UTF_8);
            in.writeToCopy(b, 0, b.length);
            chunk.setLength(0);
          }
        }
        byte[] b = chunk.toString().getBytes(StandardCharsets.UTF_8);
        in.writeToCopy(b, 0, b.length);
        long n = in.endCopy();
        try (Statement s = c.createStatement()) {
          s.execute("ANALYZE " + table);
        }
        return n;
      } finally {
        if (in.isActive()) {
          in.cancelCopy();
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("loading " + table + " in " + database + ": "
          + e.getMessage(), e);
    }
  }

  /** Stop the server and delete its folder. */
  @Override
  public void close() {
    try {
      script("stop", dir.resolve("pg").toString());
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      } catch (IOException e) {
        // left for the system's temporary-folder clean-up
      }
    }
  }
}
