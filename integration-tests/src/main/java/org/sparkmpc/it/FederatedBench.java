package org.sparkmpc.it;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.input.PortableDataStream;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.connectors.federated.ClientCertificates;
import org.sparkmpc.connectors.federated.FederatedClient;
import org.sparkmpc.connectors.federated.Quantiser;
import org.sparkmpc.connectors.federated.RoundSpec;
import org.sparkmpc.net.KeyGen;
import org.sparkmpc.net.PartyCredentials;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.federated.FederatedAggregation;
import org.sparkmpc.spark.federated.FederatedResult;

/**
 * The federated secure aggregation rows of the benchmark: {@code clients} clients, each with an
 * update of {@code dims} float32 values, send their shares to 2 and then 3 aggregation parties
 * (each a JVM of its own, {@code local[2]}), which open the mean once every client is in (quorum =
 * all clients, so the round closes at the last upload). Against plaintext Spark summing the same
 * updates element-wise from files of float32 values, in party 1's JVM with the same settings.
 *
 * <p>The clients run in the benchmark's JVM on {@link #THREADS} threads, each update generated
 * from a seed when it is needed (never all at once: 10,000 x 100,000 floats are 4 GB). Before the
 * rounds the driver writes the same updates to plaintext files ({@link #PER_FILE} clients a file)
 * and the exact sum of their quantised values; every party checks its opened sum against it
 * exactly (and party 1 the plaintext mean within the quantisation step), or the benchmark fails.
 * The upload folders are deleted after each round, the plaintext files after the part.
 *
 * <p>Disk: about {@code 4 * clients * dims} bytes of plaintext files, and as much again of uploads
 * during a round (the full vector of each client goes to one party, a 32-byte seed to the others).
 */
final class FederatedBench {
  private FederatedBench() {}

  /** Client threads in the benchmark's JVM (each uploads to the parties in parallel). */
  static final int THREADS = 8;
  /** Clients per plaintext file of the baseline. */
  static final int PER_FILE = 100;
  static final double CLIP_NORM = 1.0;
  static final int SCALE_BITS = 16;
  /** Every coordinate uniform in [-AMPLITUDE, AMPLITUDE): a norm far under the clip bound. */
  static final double AMPLITUDE = 1e-3;
  static final long SEED = 20261201L;
  /**
   * The round's deadline: far beyond any upload phase here (the quorum of all clients closes the
   * round as soon as the last one is in; a round that reaches the deadline fails the part).
   */
  static final Duration ROUND_TIMEOUT = Duration.ofMinutes(120);

  // ---------------------------------------------------------------- party side (BenchParty mode fed)

  /**
   * One aggregation party: opens the round, writes its ready file once the round accepts uploads,
   * aggregates, checks the opened sum exactly, reads its memory peaks, then (party 1, if given a
   * plaintext folder) times the plaintext baseline.
   */
  static void party(SparkSession spark, SparkMpc mpc, Properties conf, StringBuilder out)
      throws Exception {
    int clients = Integer.parseInt(conf.getProperty("fed.clients"));
    int dims = Integer.parseInt(conf.getProperty("fed.dims"));
    RoundSpec spec = spec(conf.getProperty("fed.round"), dims, clients, mpc.parties());
    FederatedResult r;
    try (FederatedAggregation fed = mpc.federated()) {
      FederatedAggregation.Round round = fed.open(spec, clients, ROUND_TIMEOUT, 2);
      Path ready = Path.of(conf.getProperty("fed.ready"));
      Path partial = ready.resolveSibling(ready.getFileName() + ".partial");
      Files.writeString(partial, Integer.toString(fed.port()));
      Files.move(partial, ready, StandardCopyOption.ATOMIC_MOVE);
      r = round.aggregate();
    }
    // Peaks of the aggregation alone, before the baseline runs in this JVM.
    long rss = peakRss();
    long heap = BenchParty.peakHeap();
    if (r.clients().size() != clients) {
      throw new IllegalStateException("party " + mpc.party() + " included " + r.clients().size()
          + " clients, not all " + clients);
    }
    long[] expected = readLongs(Path.of(conf.getProperty("fed.expected")), dims);
    int differ = 0;
    for (int i = 0; i < dims; i++) {
      differ += expected[i] == r.sum()[i] ? 0 : 1;
    }
    if (differ > 0) {
      throw new IllegalStateException("party " + mpc.party() + " opened a sum that differs from "
          + "the exact sum of the clients' quantised updates at " + differ + " of " + dims
          + " dimensions");
    }
    out.append("fed_clients=").append(r.clients().size()).append('\n');
    out.append("fed_width=").append(spec.width()).append('\n');
    out.append("fed_close_ms=").append(r.closeMillis()).append('\n');
    out.append("fed_aggregate_ms=").append(r.aggregateMillis()).append('\n');
    out.append("fed_peak_rss_bytes=").append(rss).append('\n');
    out.append("fed_peak_heap_bytes=").append(heap).append('\n');
    String plain = conf.getProperty("fed.plain", "");
    if (!plain.isEmpty()) {
      plaintext(spark, plain, clients, dims, r.mean(), out);
    }
  }

  /**
   * Plaintext Spark on the same updates: read the files of float32 values, sum them element-wise
   * per partition and {@code treeReduce} the partial sums; the first run and the median of 3. The
   * plaintext mean must equal the opened one within the quantisation step.
   */
  private static void plaintext(SparkSession spark, String dir, int clients, int dims,
      double[] secureMean, StringBuilder out) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int partitions = 2 * jsc.defaultParallelism(); // as the secure sum's slices
    long[] ms = new long[3];
    double[] sum = null;
    for (int run = 0; run < ms.length; run++) {
      long t0 = System.nanoTime();
      sum = jsc.binaryFiles(dir, partitions).values().mapPartitions(new PlainSum(dims))
          .treeReduce(PlainSum::add);
      ms[run] = (System.nanoTime() - t0) / 1_000_000;
    }
    long vectors = Math.round(sum[dims]);
    if (vectors != clients) {
      throw new IllegalStateException("the plaintext files hold " + vectors + " updates, not "
          + clients);
    }
    double worst = 0;
    for (int i = 0; i < dims; i++) {
      worst = Math.max(worst, Math.abs(sum[i] / clients - secureMean[i]));
    }
    // Each quantised value is within half a step of its float, so the means are within half too.
    if (worst > Math.scalb(1.0, -SCALE_BITS)) {
      throw new IllegalStateException("the plaintext mean differs from the opened one by " + worst);
    }
    long first = ms[0];
    Arrays.sort(ms);
    out.append("fed_plain_first_ms=").append(first).append('\n');
    out.append("fed_plain_ms=").append(ms[1]).append('\n');
    out.append("fed_plain_max_diff=").append(worst).append('\n');
  }

  /**
   * The element-wise sum of one partition's files of float32 updates (little-endian, one update
   * after the other), in double; the last element counts the updates.
   */
  static final class PlainSum implements FlatMapFunction<Iterator<PortableDataStream>, double[]> {
    private static final long serialVersionUID = 1L;
    private final int dims;

    PlainSum(int dims) {
      this.dims = dims;
    }

    @Override
    public Iterator<double[]> call(Iterator<PortableDataStream> files) throws IOException {
      double[] acc = new double[dims + 1];
      byte[] buf = new byte[1 << 16];
      while (files.hasNext()) {
        long floats = 0;
        try (DataInputStream in = files.next().open()) {
          int n;
          while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
            ByteBuffer b = ByteBuffer.wrap(buf, 0, n).order(ByteOrder.LITTLE_ENDIAN);
            int i = (int) (floats % dims);
            for (int k = 0; k < n / 4; k++) {
              acc[i] += b.getFloat();
              if (++i == dims) {
                i = 0;
              }
            }
            floats += n / 4;
          }
        }
        acc[dims] += floats / (double) dims;
      }
      return List.of(acc).iterator();
    }

    static double[] add(double[] a, double[] b) {
      for (int i = 0; i < a.length; i++) {
        a[i] += b[i];
      }
      return a;
    }
  }

  /** This JVM's peak resident set (VmHWM of /proc/self/status), in bytes; -1 where unknown. */
  static long peakRss() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.substring(6).replace("kB", "").trim()) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return -1;
  }

  // ---------------------------------------------------------------- driver side

  static RoundSpec spec(String roundId, int dims, int clients, List<String> parties) {
    return RoundSpec.of(roundId, dims, CLIP_NORM, SCALE_BITS, clients, parties);
  }

  /** Client {@code c}'s update: the same in every round and in the plaintext files. */
  static float[] update(int c, int dims) {
    SplittableRandom r = new SplittableRandom(SEED * 1_000_003L + c);
    float[] u = new float[dims];
    for (int i = 0; i < dims; i++) {
      u[i] = (float) ((2 * r.nextDouble() - 1) * AMPLITUDE);
    }
    return u;
  }

  static String clientId(int c) {
    return String.format("client-%06d", c);
  }

  /** One round at {@code parties} parties, as the driver saw it and party 1 reported it. */
  private record Run(int parties, Properties party1, List<Properties> all, long uploadMs,
      double bytesPerClient) {
    long get(String key) {
      return Long.parseLong(party1.getProperty(key));
    }
  }

  /**
   * Make the clients' certificates, the plaintext files and the expected sum, run the round with
   * 2 and with 3 parties, and add the rows to {@code table}.
   */
  static void rows(Path work, int clients, int dims, List<String> table) throws Exception {
    Path dir = work.resolve("fed-" + clients + "x" + dims);
    deleteTree(dir); // a stale folder of an earlier, failed run (the CA refuses to overwrite)
    Files.createDirectories(dir);
    System.out.printf("benchmark fed: %,d clients x %,d dims, 2 and 3 parties%n", clients, dims);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      ClientCertificates.Authority ca = ClientCertificates.createAuthority("fed-clients",
          dir.resolve("ca"));
      Path caCert = dir.resolve("ca").resolve("fed-clients.crt.pem");
      long t0 = System.nanoTime();
      List<Future<ClientCertificates.ClientIdentity>> issued = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        String id = clientId(c);
        issued.add(pool.submit(() -> ClientCertificates.issue(ca, id)));
      }
      ClientCertificates.ClientIdentity[] ids = new ClientCertificates.ClientIdentity[clients];
      for (int c = 0; c < clients; c++) {
        ids[c] = issued.get(c).get();
      }
      long issueMs = (System.nanoTime() - t0) / 1_000_000;
      System.out.printf("benchmark fed: issued %,d client certificates in %,d ms%n", clients,
          issueMs);

      Path plain = dir.resolve("plain");
      Path expected = dir.resolve("expected-sum.bin");
      long t1 = System.nanoTime();
      writePlaintext(pool, plain, expected, clients, dims);
      System.out.printf("benchmark fed: wrote the plaintext updates and the expected sum in "
          + "%,d ms%n", (System.nanoTime() - t1) / 1_000_000);

      List<Run> runs = new ArrayList<>();
      try {
        for (int parties : new int[] {2, 3}) {
          runs.add(round(pool, dir, parties, clients, dims, ids, caCert, plain, expected));
        }
      } finally {
        deleteTree(plain);
      }
      addRows(runs, clients, dims, issueMs, table);
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * The plaintext files ({@link #PER_FILE} updates each, float32 little-endian) and the exact sum
   * of the quantised updates (longs, little-endian), each group of clients on a pool thread.
   */
  private static void writePlaintext(ExecutorService pool, Path plain, Path expected, int clients,
      int dims) throws Exception {
    Files.createDirectories(plain);
    RoundSpec spec = spec("plain", dims, clients, List.of("party1", "party2"));
    long[] sum = new long[dims];
    List<Future<?>> groups = new ArrayList<>();
    for (int from = 0; from < clients; from += PER_FILE) {
      int first = from;
      int last = Math.min(clients, from + PER_FILE);
      Path file = plain.resolve(String.format("updates-%06d.bin", first / PER_FILE));
      groups.add(pool.submit(() -> {
        long[] part = new long[dims];
        ByteBuffer b = ByteBuffer.allocate(4 * dims).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE)) {
          for (int c = first; c < last; c++) {
            float[] u = update(c, dims);
            b.clear();
            b.asFloatBuffer().put(u);
            while (b.hasRemaining()) {
              ch.write(b);
            }
            long[] q = Quantiser.quantise(spec, u);
            for (int i = 0; i < dims; i++) {
              part[i] += q[i];
            }
          }
        }
        synchronized (sum) {
          for (int i = 0; i < dims; i++) {
            sum[i] += part[i];
          }
        }
        return null;
      }));
    }
    for (Future<?> g : groups) {
      g.get();
    }
    ByteBuffer b = ByteBuffer.allocate(8 * dims).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(sum);
    Files.write(expected, b.array());
  }

  private static long[] readLongs(Path file, int n) throws IOException {
    long[] out = new long[n];
    ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer()
        .get(out);
    return out;
  }

  /**
   * One round at {@code parties} party JVMs (started on a thread of their own, as {@link
   * Benchmark#runParties} waits for them to end): wait for every party's ready file, upload every
   * client's update, then wait for the parties' reports.
   */
  private static Run round(ExecutorService pool, Path dir, int parties, int clients, int dims,
      ClientCertificates.ClientIdentity[] ids, Path caCert, Path plain, Path expected)
      throws Exception {
    Path runDir = dir.resolve(parties + "-parties");
    int[] ports = LocalParties.freePorts(parties);
    String roundId = "bench-" + parties;
    ExecutorService runner = Executors.newSingleThreadExecutor();
    Future<Properties> done = runner.submit(() -> Benchmark.runParties(runDir, parties, false,
        BenchParty.class.getName(), "-Xmx3g", List.of(), ROUND_TIMEOUT.plusMinutes(15), (i, p) -> {
          String name = "party" + (i + 1);
          p.setProperty("mode", "fed");
          p.setProperty("fed.clients", Integer.toString(clients));
          p.setProperty("fed.dims", Integer.toString(dims));
          p.setProperty("fed.round", roundId);
          p.setProperty("fed.ready", runDir.resolve(name + "-ready").toString());
          p.setProperty("fed.expected", expected.toString());
          if (i == 0) {
            p.setProperty("fed.plain", plain.toString());
          }
          p.setProperty("spark.mpc.federated.port", Integer.toString(ports[i]));
          p.setProperty("spark.mpc.federated.clientCa", caCert.toString());
          p.setProperty("spark.mpc.federated.dir", runDir.resolve(name + "-uploads").toString());
        }));
    try {
      List<String> names = new ArrayList<>();
      Map<String, String> endpoints = new LinkedHashMap<>();
      for (int i = 0; i < parties; i++) {
        names.add("party" + (i + 1));
        endpoints.put(names.get(i), "127.0.0.1:" + ports[i]);
      }
      for (String name : names) {
        Path ready = runDir.resolve(name + "-ready");
        while (!Files.exists(ready)) {
          if (done.isDone()) {
            done.get(); // a party failed before it was ready: its error
            throw new IllegalStateException("the parties ended before " + name + " was ready");
          }
          Thread.sleep(200);
        }
      }
      Map<String, X509Certificate> partyCerts = PartyCredentials.readTrustBundle(
          KeyGen.trustFile(runDir.resolve("keys")));
      RoundSpec spec = spec(roundId, dims, clients, names);
      LongAdder bytes = new LongAdder();
      long t0 = System.nanoTime();
      List<Future<?>> uploads = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        int client = c;
        uploads.add(pool.submit(() -> {
          FederatedClient.Receipt receipt = FederatedClient.create(ids[client], partyCerts,
              endpoints).submit(spec, update(client, dims));
          if (!receipt.accepted()) {
            throw new IllegalStateException("client " + client + " was refused: " + receipt);
          }
          bytes.add(receipt.bytesWritten());
          return null;
        }));
      }
      for (Future<?> u : uploads) {
        u.get();
      }
      long uploadMs = (System.nanoTime() - t0) / 1_000_000;
      System.out.printf("benchmark fed: %d parties: %,d clients uploaded in %,d ms%n", parties,
          clients, uploadMs);
      Properties party1 = done.get();
      List<Properties> all = new ArrayList<>();
      for (String name : names) {
        Properties p = new Properties();
        try (var in = Files.newInputStream(runDir.resolve(name + "-out.txt"))) {
          p.load(in);
        }
        all.add(p);
      }
      return new Run(parties, party1, all, uploadMs, bytes.sum() / (double) clients);
    } catch (Exception | Error e) {
      // The parties would wait for the missing clients until the round's timeout: stop them.
      ProcessHandle.current().children().forEach(ProcessHandle::destroyForcibly);
      throw e;
    } finally {
      runner.shutdownNow();
      for (int i = 1; i <= parties; i++) {
        deleteTree(runDir.resolve("party" + i + "-uploads"));
      }
    }
  }

  private static void addRows(List<Run> runs, int clients, int dims, long issueMs,
      List<String> table) {
    long plainBytes = 4L * dims;
    for (Run r : runs) {
      long plainMs = Math.max(1, r.get("fed_plain_ms"));
      long secureMs = r.get("fed_aggregate_ms");
      table.add(String.format("| plaintext Spark summing the same %,d float32 updates of %,d dims "
          + "element-wise (`binaryFiles` of %,d files + parse + `treeReduce`, in party 1's JVM of "
          + "the %d-party run; median of 3, first %,d ms) | %,d ms | 1.00 |", clients, dims,
          (clients + PER_FILE - 1) / PER_FILE, r.parties(), r.get("fed_plain_first_ms"), plainMs));
      table.add(String.format("| federated secure aggregation, %d parties, %,d clients x %,d dims: "
          + "last upload to the opened mean (quorum = all clients; agree on the clients, Spark sum "
          + "of the shares, open) | %,d ms | %.2fx |", r.parties(), clients, dims, secureMs,
          secureMs / (double) plainMs));
    }
    StringBuilder bytes = new StringBuilder();
    StringBuilder ratios = new StringBuilder();
    for (Run r : runs) {
      bytes.append(bytes.length() == 0 ? "" : " / ").append(String.format("%,.0f",
          r.bytesPerClient()));
      ratios.append(ratios.length() == 0 ? "" : " / ").append(String.format("%.3fx",
          r.bytesPerClient() / plainBytes));
    }
    table.add(String.format("| bytes each client sends per update (mean over clients, TLS "
        + "included), 2 / 3 parties, against the plaintext float32 update (4 x %,d = %,d bytes; "
        + "shares of %d bytes a value; target: at most 1.05x) | %s | %s |", dims, plainBytes,
        runs.get(0).get("fed_width"), bytes, ratios));
    for (Run r : runs) {
      StringBuilder mem = new StringBuilder();
      for (Properties p : r.all()) {
        mem.append(mem.length() == 0 ? "" : "; ").append(String.format("%,d / %,d",
            Long.parseLong(p.getProperty("fed_peak_rss_bytes")) >> 20,
            Long.parseLong(p.getProperty("fed_peak_heap_bytes")) >> 20));
      }
      table.add(String.format("| memory per aggregation party, %d parties (-Xmx3g, read after the "
          + "round, before the baseline): peak RSS / peak heap used, MB, party 1 to %d | %s | |",
          r.parties(), r.parties(), mem));
    }
    for (Run r : runs) {
      table.add(String.format("| upload phase, %d parties: clients per second (%,d clients from %d "
          + "threads of one JVM in %,d ms); round open to close at the party | %,.0f; %,d ms | |",
          r.parties(), clients, THREADS, r.uploadMs(), clients * 1000.0 / Math.max(1,
          r.uploadMs()), r.get("fed_close_ms")));
    }
    table.add(String.format("| issuing %,d client certificates (EC P-256, in memory, %d threads) "
        + "| %,d ms | |", clients, THREADS, issueMs));
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
