package org.sparkmpc.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Parties as users run them, for the cluster tests: each party has a Spark standalone master and a
 * worker of its own (started from the Spark jars, on loopback), its gateway as a process of its
 * own, and submits its jobs with {@code SparkSubmit} and the distributable jar. A dealer is listed
 * last in the parties and started per job. Everything is stopped by {@link #close()}.
 */
final class PartyClusters implements AutoCloseable {
  static final List<String> FLAGS = LocalParties.jvmFlags();

  final Path work;
  final Path keys;
  final String spec;
  final Duration timeout;
  private final Map<String, String> masters = new LinkedHashMap<>();
  private final Map<String, Process> workers = new LinkedHashMap<>();
  private final Map<String, Process> gateways = new LinkedHashMap<>();
  private final List<Process> started = new ArrayList<>();
  private final Map<String, Process> dealers = new LinkedHashMap<>();
  private int gatewayStarts;

  PartyClusters(Path work, List<String> parties, Duration timeout) throws Exception {
    this.work = work;
    this.timeout = timeout;
    LocalParties.sparkHome(work.resolve("spark-home"), false); // a Spark installation's jars
    List<String> members = new ArrayList<>(parties);
    members.add("dealer");
    keys = LocalParties.keys(work.resolve("keys"), members);
    // All ports in one draw, so that none is handed out twice: gateways and the dealer, then a
    // master, its web UI and the worker's web UI per party.
    int[] all = LocalParties.freePorts(members.size() + 3 * parties.size());
    spec = LocalParties.partiesSpec(members, all);
    try {
      for (int i = 0; i < parties.size(); i++) {
        String party = parties.get(i);
        Path dir = work.resolve(party);
        int[] ports = Arrays.copyOfRange(all, members.size() + 3 * i, members.size() + 3 * i + 3);
        String master = "spark://127.0.0.1:" + ports[0];
        started.add(LocalParties.start(dir.resolve("master"), "-Xmx256m",
            "org.apache.spark.deploy.master.Master", Scenarios.TEST_JVM,
            List.of("--host", "127.0.0.1", "--port", Integer.toString(ports[0]), "--webui-port",
                Integer.toString(ports[1]))));
        Process worker = LocalParties.start(dir.resolve("worker"), "-Xmx256m",
            "org.apache.spark.deploy.worker.Worker", Scenarios.TEST_JVM,
            List.of(master, "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
                "--webui-port", Integer.toString(ports[2]), "--work-dir",
                dir.resolve("worker-work").toString()));
        started.add(worker);
        masters.put(party, master);
        workers.put(party, worker);
        startGateway(party);
      }
    } catch (Exception e) {
      close();
      throw e;
    }
  }

  /**
   * Start (or start again) {@code party}'s gateway with {@code bin/gateway} from the distributable
   * jar, as an organisation runs it, and wait until it listens.
   */
  void startGateway(String party) throws Exception {
    Path dir = work.resolve(party).resolve("gateway-" + gatewayStarts++);
    Process g = launch(dir, "gateway", LocalParties.baseConfig(party, spec, keys, timeout));
    started.add(g);
    gateways.put(party, g);
    LocalParties.awaitListening(g, dir, Duration.ofSeconds(60));
  }

  /**
   * Run {@code bin/<tool> <dir>/<tool>.properties} with only the distributable jar and the Spark
   * jars ({@code SPARK_MPC_JAR}, {@code SPARK_HOME}); output to {@code dir/stdout.txt} and
   * {@code dir/stderr.txt}.
   */
  private Process launch(Path dir, String tool, Properties conf) throws Exception {
    Files.createDirectories(dir);
    Path file = dir.resolve(tool + ".properties");
    try (var out = Files.newOutputStream(file)) {
      conf.store(out, tool);
    }
    Path root = Path.of("..").toAbsolutePath().normalize();
    ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("bin").resolve(tool).toString(),
        file.toString());
    pb.environment().put("SPARK_MPC_JAR", DistributableJarTest.distJar().toString());
    pb.environment().put("SPARK_HOME", work.resolve("spark-home").toString());
    pb.redirectOutput(dir.resolve("stdout.txt").toFile());
    pb.redirectError(dir.resolve("stderr.txt").toFile());
    return pb.start();
  }

  /** Kill {@code party}'s gateway process at once (SIGKILL), as a crash would. */
  void killGateway(String party) throws InterruptedException {
    Process g = gateways.get(party);
    g.destroyForcibly();
    g.waitFor(30, TimeUnit.SECONDS);
  }

  /** The party's job settings: the shared ones, its gateway, the dealer, executor options. */
  Properties jobConfig(String party) {
    Properties p = LocalParties.baseConfig(party, spec, keys, timeout);
    p.remove("spark.master"); // given to spark-submit
    p.setProperty("spark.mpc.gateway.address", LocalParties.address(spec, party));
    p.setProperty("spark.mpc.dealer", "dealer");
    p.setProperty("spark.executor.memory", "512m");
    p.setProperty("spark.executor.extraJavaOptions", String.join(" ", FLAGS));
    return p;
  }

  /** Folder of one party's files for one job. */
  Path jobDir(String party, String job) {
    return work.resolve(party).resolve(job);
  }

  /** Submit {@code party}'s job to its own master; its files go to {@link #jobDir}. */
  Process submit(String party, String job, Properties conf) throws Exception {
    Path dir = jobDir(party, job);
    Files.createDirectories(dir);
    Path file = dir.resolve("party.properties");
    try (var out = Files.newOutputStream(file)) {
      conf.store(out, party + " " + job);
    }
    Process p = LocalParties.start(dir.resolve("submit"), "-Xmx768m",
        "org.apache.spark.deploy.SparkSubmit", Scenarios.TEST_JVM,
        List.of("--master", masters.get(party), "--class",
            "org.sparkmpc.spark.runner.PartyRunner", DistributableJarTest.distJar().toString(),
            file.toString()));
    started.add(p);
    return p;
  }

  /** Start the dealer for one job with {@code bin/dealer} (it serves one session, then exits). */
  Process startDealer(String job) throws Exception {
    Properties conf = LocalParties.baseConfig("dealer", spec, keys, timeout);
    conf.remove("spark.master");
    conf.setProperty("dealer.idleTimeout", "2m");
    Process d = launch(work.resolve("dealer-" + job), "dealer", conf);
    started.add(d);
    dealers.put(job, d);
    return d;
  }

  /** Stop the dealer of {@code job}, as an operator does after a failed run. */
  void stopDealer(String job) {
    Process d = dealers.get(job);
    if (d != null) {
      stop(d);
    }
  }

  /** The executor JVM(s) {@code party}'s worker runs now. */
  List<ProcessHandle> executors(String party) {
    return workers.get(party).descendants().filter(h -> h.info().commandLine()
        .map(c -> c.contains("CoarseGrainedExecutorBackend")).orElse(false)).toList();
  }

  /** Log (stderr) files of {@code party}'s executors, all applications, in start order. */
  List<Path> executorLogs(String party) {
    Path root = work.resolve(party).resolve("worker-work");
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (var files = Files.walk(root)) {
      return files.filter(f -> f.getFileName().toString().equals("stderr")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Everything {@code party} logged for {@code job}: driver output and log. */
  String driverOutput(String party, String job) {
    Path submit = jobDir(party, job).resolve("submit");
    return LocalParties.read(submit.resolve("stderr.txt"))
        + LocalParties.read(submit.resolve("stdout.txt"))
        + LocalParties.read(submit.resolve("party.log"));
  }

  /** Wait up to {@code max} until what {@code source} reads contains {@code text}. */
  static boolean await(java.util.function.Supplier<String> source, String text, Duration max)
      throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    while (System.nanoTime() < deadline) {
      if (source.get().contains(text)) {
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }



  /** The first CSV part file under {@code dir}, if any. */
  static Optional<Path> csv(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    try (var files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".csv")).findFirst();
    }
  }

  /** Stop {@code p} and every process it started. */
  static void stop(Process p) {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    try {
      p.waitFor(10, TimeUnit.SECONDS); // its ports are free once it is gone
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    started.forEach(PartyClusters::stop);
  }
}
