package org.sparkmpc.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.sparkmpc.net.KeyGen;

/**
 * Several parties on this machine, each a JVM of its own running the party runner with its own local
 * Spark, talking over TLS on loopback. Used by the demo, the benchmark and the cross-party tests.
 */
public final class LocalParties {
  private LocalParties() {}

  /** What one party process did. */
  public record Outcome(String party, int exitCode, String stdout, String stderr, Path dir) {
    public boolean ok() {
      return exitCode == 0;
    }

    @Override
    public String toString() {
      return party + " exit " + exitCode + "\n--- stdout\n" + tail(stdout) + "\n--- stderr\n"
          + tail(stderr);
    }
  }

  /**
   * Free loopback ports for gateways, below the kernel's ephemeral range (32768 and up on Linux),
   * so that the ports other processes get from the kernel (Spark's driver and block manager bind
   * ephemeral ports) cannot take a gateway's port between this check and the gateway's start.
   */
  public static int[] freePorts(int n) {
    int[] ports = new int[n];
    java.util.Random r = new java.util.Random();
    int found = 0;
    for (int tries = 0; found < n && tries < 10_000; tries++) {
      int candidate = 20_000 + r.nextInt(12_000);
      boolean taken = false;
      for (int i = 0; i < found; i++) {
        taken |= ports[i] == candidate;
      }
      if (taken) {
        continue;
      }
      try (ServerSocket s = new ServerSocket(candidate, 1, java.net.InetAddress.getLoopbackAddress())) {
        ports[found++] = s.getLocalPort();
      } catch (IOException busy) {
        // in use; try another
      }
    }
    if (found < n) {
      throw new IllegalStateException("no " + n + " free loopback ports in 20000-31999");
    }
    return ports;
  }

  /** Keys and certificates for {@code names} in {@code dir}, plus the trust file. */
  public static Path keys(Path dir, List<String> names) {
    KeyGen.generateDemo(names, dir, KeyGen.DEFAULT_DAYS, true);
    return dir;
  }

  /** {@code name=127.0.0.1:port,...}. */
  public static String partiesSpec(List<String> names, int[] ports) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < names.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(names.get(i)).append("=127.0.0.1:").append(ports[i]);
    }
    return sb.toString();
  }

  /** The {@code host:port} of {@code party} in a {@link #partiesSpec}. */
  public static String address(String partiesSpec, String party) {
    for (String entry : partiesSpec.split(",")) {
      if (entry.startsWith(party + "=")) {
        return entry.substring(party.length() + 1);
      }
    }
    throw new IllegalArgumentException("no party '" + party + "' in " + partiesSpec);
  }

  /** The common part of every party's config. */
  public static Properties baseConfig(String party, String partiesSpec, Path keyDir,
      Duration timeout) {
    Properties p = new Properties();
    p.setProperty("spark.mpc.party", party);
    p.setProperty("spark.mpc.parties", partiesSpec);
    p.setProperty("spark.mpc.keyDir", keyDir.toString());
    p.setProperty("spark.mpc.timeout", timeout.toMillis() + "ms");
    p.setProperty("spark.master", "local[2]");
    p.setProperty("spark.ui.enabled", "false");
    p.setProperty("spark.sql.shuffle.partitions", "4");
    p.setProperty("spark.driver.host", "127.0.0.1");
    return p;
  }

  /**
   * Start one runner JVM per config (keyed by party name), wait for all, and return their outcomes.
   * Each party's files (config, stdout, stderr) go under {@code work/<party>}.
   */
  public static List<Outcome> run(Path work, Map<String, Properties> configs, String heap,
      Duration limit) {
    return run(work, configs, heap, limit, "org.sparkmpc.spark.runner.PartyRunner", List.of());
  }

  /** As above, with another main class and extra JVM options (tests use a scenario main). */
  public static List<Outcome> run(Path work, Map<String, Properties> configs, String heap,
      Duration limit, String mainClass, List<String> extraJvmOptions) {
    return run(work, configs, heap, limit, mainClass, extraJvmOptions, Map.of());
  }

  /**
   * As above, with environment variables for some parties' JVMs ({@code env} keyed by the same
   * names as {@code configs}), on top of this JVM's.
   */
  public static List<Outcome> run(Path work, Map<String, Properties> configs, String heap,
      Duration limit, String mainClass, List<String> extraJvmOptions,
      Map<String, Map<String, String>> env) {
    Map<String, Process> procs = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Properties> e : configs.entrySet()) {
        Path dir = work.resolve(e.getKey());
        Files.createDirectories(dir);
        Path conf = dir.resolve("party.properties");
        try (var out = Files.newOutputStream(conf)) {
          e.getValue().store(out, "spark-mpc party config");
        }
        procs.put(e.getKey(), start(dir, heap, mainClass, extraJvmOptions,
            List.of(conf.toString()), env.getOrDefault(e.getKey(), Map.of())));
      }
      long deadline = System.nanoTime() + limit.toNanos();
      List<Outcome> out = new ArrayList<>();
      for (Map.Entry<String, Process> e : procs.entrySet()) {
        Process p = e.getValue();
        long left = Math.max(1, deadline - System.nanoTime());
        if (!p.waitFor(left, TimeUnit.NANOSECONDS)) {
          p.destroyForcibly().waitFor();
        }
        Path dir = work.resolve(e.getKey());
        out.add(new Outcome(e.getKey(), p.isAlive() ? -1 : p.exitValue(),
            read(dir.resolve("stdout.txt")), read(dir.resolve("stderr.txt")), dir));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } finally {
      procs.values().forEach(Process::destroyForcibly);
    }
  }

  /**
   * Start a dealer process ({@code bin/dealer}'s main class) for the parties of {@code spec}, in
   * which it is listed last as {@code dealer}; it serves one session. Its files go under
   * {@code work/dealer}.
   */
  public static Process startDealer(Path work, String spec, Path keys, Duration timeout,
      List<String> extraJvmOptions) throws IOException {
    return startDealer(work, spec, keys, timeout, Duration.ofMinutes(2), extraJvmOptions);
  }

  /**
   * As above; the dealer waits up to {@code idle} for an operator's request (the parties' start
   * and every query between two requests) before it gives up.
   */
  public static Process startDealer(Path work, String spec, Path keys, Duration timeout,
      Duration idle, List<String> extraJvmOptions) throws IOException {
    Path dir = work.resolve("dealer");
    Files.createDirectories(dir);
    Properties dc = baseConfig("dealer", spec, keys, timeout);
    dc.setProperty("dealer.idleTimeout", idle.toSeconds() + "s");
    Path conf = dir.resolve("dealer.properties");
    try (var out = Files.newOutputStream(conf)) {
      dc.store(out, "dealer");
    }
    return start(dir, "-Xmx512m", conf, "org.sparkmpc.correlation.DealerMain", extraJvmOptions);
  }

  /**
   * Start a party's gateway as a process of its own ({@code bin/gateway}'s main class), from the
   * party settings of {@code party}, and wait until it listens. Its files go under {@code dir}.
   */
  public static Process startGateway(Path dir, Properties party, List<String> extraJvmOptions) {
    try {
      Files.createDirectories(dir);
      Properties g = new Properties();
      for (String k : List.of("spark.mpc.party", "spark.mpc.parties", "spark.mpc.keyDir",
          "spark.mpc.timeout")) {
        g.setProperty(k, party.getProperty(k));
      }
      Path conf = dir.resolve("gateway.properties");
      try (var out = Files.newOutputStream(conf)) {
        g.store(out, "gateway");
      }
      Process p = start(dir, "-Xmx256m", conf, "org.sparkmpc.net.GatewayMain", extraJvmOptions);
      awaitListening(p, dir, Duration.ofSeconds(30));
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Wait until the gateway process {@code p} (output in {@code dir/stdout.txt}) says it listens;
   * if it dies or {@code max} passes first, stop it and fail with its error output.
   */
  public static void awaitListening(Process p, Path dir, Duration max) {
    long deadline = System.nanoTime() + max.toNanos();
    try {
      while (!read(dir.resolve("stdout.txt")).contains("listening on")) {
        if (System.nanoTime() > deadline || !p.isAlive()) {
          p.destroyForcibly();
          throw new IllegalStateException("the gateway in " + dir + " did not start: "
              + read(dir.resolve("stderr.txt")));
        }
        Thread.sleep(100);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Start one party runner JVM. */
  public static Process start(Path dir, String heap, Path conf, String mainClass,
      List<String> extraJvmOptions) throws IOException {
    return start(dir, heap, mainClass, extraJvmOptions, List.of(conf.toString()));
  }

  /**
   * Start a JVM running {@code mainClass} with {@code args}, this JVM's classpath and Spark's JVM
   * flags; its output goes to {@code dir/stdout.txt} and {@code dir/stderr.txt}, its log to
   * {@code dir/party.log}.
   */
  public static Process start(Path dir, String heap, String mainClass,
      List<String> extraJvmOptions, List<String> args) throws IOException {
    return start(dir, heap, mainClass, extraJvmOptions, args, Map.of());
  }

  /** As above, with {@code env} added to the process's environment. */
  public static Process start(Path dir, String heap, String mainClass,
      List<String> extraJvmOptions, List<String> args, Map<String, String> env)
      throws IOException {
    Files.createDirectories(dir);
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add(heap);
    cmd.addAll(extraJvmOptions);
    cmd.addAll(jvmFlags());
    cmd.add("-Dlog4j2.configurationFile=" + log4jConfig(dir));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    pb.environment().putAll(env);
    String sparkHome = System.getProperty("sparkmpc.sparkHome");
    if (sparkHome != null) {
      // Executors in their own JVMs (local-cluster or standalone) start from SPARK_HOME/jars;
      // each process gets a home of its own (its work folder), linking to the shared jars.
      Path own = dir.resolve("spark-home");
      Files.createDirectories(own);
      if (!Files.exists(own.resolve("jars"))) {
        Files.createSymbolicLink(own.resolve("jars"), Path.of(sparkHome, "jars"));
      }
      pb.environment().put("SPARK_HOME", own.toString());
      pb.environment().put("SPARK_SCALA_VERSION", "2.13");
    }
    pb.redirectOutput(dir.resolve("stdout.txt").toFile());
    pb.redirectError(dir.resolve("stderr.txt").toFile());
    return pb.start();
  }

  /**
   * A Spark home for executors in their own JVMs, with no Spark distribution: {@code dir/jars}
   * holds links to every jar of this JVM's classpath (Spark's and the project's). Party JVMs
   * started afterwards get it as {@code SPARK_HOME}.
   */
  public static Path sparkHome(Path dir) {
    return sparkHome(dir, true);
  }

  /**
   * As {@link #sparkHome(Path)}; without {@code withProject}, the home holds only what a Spark
   * installation has (no jar of this project, no Bouncy Castle), so executors get the project from
   * the distributable jar that {@code spark-submit} ships, as on an organisation's cluster.
   */
  public static Path sparkHome(Path dir, boolean withProject) {
    try {
      Path jars = dir.resolve("jars");
      Files.createDirectories(jars);
      for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
        Path jar = Path.of(entry).toAbsolutePath();
        String name = jar.getFileName().toString();
        Path link = jars.resolve(name);
        boolean project = name.startsWith("bc") || List.of("mpc-operators-", "spark-mpc-",
            "connectors-", "integration-tests-", "notebooks-").stream().anyMatch(name::startsWith);
        if (entry.endsWith(".jar") && !Files.exists(link) && (withProject || !project)) {
          Files.createSymbolicLink(link, jar);
        }
      }
      System.setProperty("sparkmpc.sparkHome", dir.toAbsolutePath().toString());
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The JVM flags Spark needs on Java 17+, from the parent pom (filtered resource). */
  public static List<String> jvmFlags() {
    try (InputStream in = LocalParties.class.getResourceAsStream("/sparkmpc-jvm-flags.txt")) {
      String flags = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
      return Arrays.asList(flags.split("\\s+"));
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException("sparkmpc-jvm-flags.txt missing from the classpath", e);
    }
  }

  /**
   * A log4j2 config that keeps Spark's INFO chatter in a file of the party's own folder: the
   * project's lines at {@code -Dsparkmpc.partyLogLevel} (default info), everyone else's at
   * {@code -Dsparkmpc.partyRootLogLevel} (default warn).
   */
  private static Path log4jConfig(Path dir) throws IOException {
    Path f = dir.resolve("log4j2.properties");
    Files.writeString(f, String.join("\n",
        "rootLogger.level = " + System.getProperty("sparkmpc.partyRootLogLevel", "warn"),
        "rootLogger.appenderRef.file.ref = file",
        "appender.file.type = File",
        "appender.file.name = file",
        "appender.file.fileName = " + dir.resolve("party.log"),
        "appender.file.append = false",
        "appender.file.layout.type = PatternLayout",
        "appender.file.layout.pattern = %d{HH:mm:ss.SSS} %-5p %c{1}: %m%n",
        "logger.mpc.name = org.sparkmpc",
        "logger.mpc.level = " + System.getProperty("sparkmpc.partyLogLevel", "info"), ""));
    return f;
  }

  /** The text of {@code p}, or "" if it does not exist (yet) or cannot be read. */
  public static String read(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p) : "";
    } catch (IOException e) {
      return "";
    }
  }

  private static String tail(String s) {
    return s.length() > 6000 ? s.substring(0, 4000) + "\n...\n" + s.substring(s.length() - 2000) : s;
  }
}
