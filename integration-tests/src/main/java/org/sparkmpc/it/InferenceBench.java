package org.sparkmpc.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.SplittableRandom;
import org.sparkmpc.inference.InferenceClient;
import org.sparkmpc.inference.InferenceEndpoint;
import org.sparkmpc.inference.InferenceMain;
import org.sparkmpc.inference.InferenceModel;
import org.sparkmpc.protocol.Sigmoid;
import org.sparkmpc.session.MpcContext;

/**
 * The inference part of the benchmark ({@code --parts infer}): the model's owner ({@code bin/infer
 * serve}), the client and the dealer ({@code bin/infer dealer}) each a JVM of its own, talking over
 * TLS on loopback. The client warms up, then times {@value #SINGLES} single-row requests of
 * {@value #FEATURES} features (probabilities, then labels: p50 and p99 of each) and one batch
 * request of {@code --infer-rows} rows (default 1,000,000; rows per second). With two parties and
 * oblivious transfer instead of the dealer, the single-row probabilities again (fewer requests:
 * the OT source makes each request's randomness far more slowly).
 *
 * <p>The client checks every single-row answer and the first 10,000 of the batch against the
 * plaintext model (which, for this check only, the benchmark gives it) within the sigmoid's
 * error plus the fixed-point rounding, or fails the run. Plaintext rows per second of the same
 * model in this JVM are the reference.
 *
 * <p>Harness: {@link #rows}; the client JVM: {@link #main} with {@code client}.
 */
public final class InferenceBench {
  static final int FEATURES = 30;
  static final int SINGLES = 2_000;
  static final int WARM_SINGLES = 500;
  static final int OT_SINGLES = 300;

  /** Extra options of the party JVMs ({@code --jvm}). */
  static final List<String> JVM_OPTIONS = new ArrayList<>();

  private InferenceBench() {}

  /**
   * Standalone: {@code InferenceBench [--rows N] [--singles N] [--skip-ot] [--jvm OPTION]...
   * [--work DIR]} prints the part's table rows ({@code --rows 0}: no batch; {@code --jvm}: an
   * option for every party JVM, e.g. a flight recording).
   */
  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("client")) {
      client(Path.of(args[1]));
      System.exit(0);
    }
    long rows = 1_000_000;
    int singles = SINGLES;
    boolean ot = true;
    Path work = Path.of("bench-output");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rows" -> rows = Long.parseLong(args[++i]);
        case "--singles" -> singles = Integer.parseInt(args[++i]);
        case "--skip-ot" -> ot = false;
        case "--jvm" -> JVM_OPTIONS.add(args[++i]);
        case "--work" -> work = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("usage: InferenceBench [--rows N] "
            + "[--singles N] [--skip-ot] [--jvm OPTION]... [--work DIR]");
      }
    }
    List<String> table = new ArrayList<>();
    rows(work.toAbsolutePath(), rows, singles, ot, table);
    System.out.println("| measure | value | ratio to plaintext |");
    System.out.println("| --- | ---: | ---: |");
    table.forEach(System.out::println);
  }

  /** Run the part: dealer with 2 parties, then OT with 2; add the table rows. */
  static void rows(Path work, long batchRows, List<String> table) throws Exception {
    rows(work, batchRows, SINGLES, true, table);
  }

  static void rows(Path work, long batchRows, int singles, boolean withOt, List<String> table)
      throws Exception {
    Path model = work.resolve("infer-model.csv");
    Files.createDirectories(work);
    InferenceModel m = model(FEATURES);
    StringBuilder csv = new StringBuilder("term,value\n");
    double[] w = m.coefficients();
    for (int i = 0; i < w.length; i++) {
      csv.append("x").append(i).append(',').append(w[i]).append('\n');
    }
    csv.append("(intercept),").append(m.intercept()).append('\n');
    Files.writeString(model, csv);
    Properties dealer = session(work.resolve("infer-dealer"), model, true, singles, batchRows);
    Properties ot = withOt ? session(work.resolve("infer-ot"), model, false, OT_SINGLES, 0)
        : null;
    double plainRate = plaintextRate(m, (int) Math.max(1, Math.min(batchRows, 1_000_000)));
    table.add(String.format(Locale.ROOT, "| secure inference of one row (%d features, logistic), "
        + "dealer, 2 parties, TLS between party JVMs on loopback, after %d warm-up requests: "
        + "p50 / p99 of %,d requests (target: at most 5 / 20 ms) | %.2f / %.2f ms | |", FEATURES,
        WARM_SINGLES, singles, ms(dealer, "prob_p50_us"), ms(dealer, "prob_p99_us")));
    table.add(String.format(Locale.ROOT, "| the same, label only (a comparison of the logit with "
        + "0; the client learns one bit) | %.2f / %.2f ms | |", ms(dealer, "label_p50_us"),
        ms(dealer, "label_p99_us")));
    table.add(String.format(Locale.ROOT, "| bytes the client sends per single-row request, "
        + "probability / label (to the owner; and its requests to the dealer) | %,d / %,d | |",
        Long.parseLong(dealer.getProperty("prob_bytes_sent")),
        Long.parseLong(dealer.getProperty("label_bytes_sent"))));
    table.add(String.format(Locale.ROOT, "| where a single-row probability's time goes at the "
        + "client (ms): %s; CPU time of the client JVM per request, probability / label: %d / %d "
        + "µs | | |", dealer.getProperty("prob_phases"),
        Long.parseLong(dealer.getProperty("prob_cpu_us")),
        Long.parseLong(dealer.getProperty("label_cpu_us"))));
    if (batchRows > 0) {
      batchRows(dealer, plainRate, table);
    }
    if (ot != null) {
      table.add(String.format(Locale.ROOT, "| secure inference of one row, ot (no dealer), 2 "
          + "parties: p50 / p99 of %d requests | %.2f / %.2f ms | |", OT_SINGLES,
          ms(ot, "prob_p50_us"), ms(ot, "prob_p99_us")));
    }
  }

  private static void batchRows(Properties dealer, double plainRate, List<String> table) {
    long n = Long.parseLong(dealer.getProperty("batch_rows"));
    long batchMs = Long.parseLong(dealer.getProperty("batch_ms"));
    double rate = n * 1000.0 / Math.max(1, batchMs);
    table.add(String.format(Locale.ROOT, "| batch inference, %,d rows of %d features in one request "
        + "(chunks of %,d rows), dealer, 2 parties: rows per second (plaintext: %,.0f) | %,.0f | "
        + "%.1f |", n, FEATURES, Integer.parseInt(dealer.getProperty("chunk_rows")), plainRate,
        rate, plainRate / rate));
    table.add(String.format(Locale.ROOT, "| bytes per row at the client in the batch, dealer: "
        + "sent / received (the owner's messages and the dealer's material) | %.1f / %.1f | |",
        Double.parseDouble(dealer.getProperty("batch_client_bytes_per_row")),
        Double.parseDouble(dealer.getProperty("batch_client_received_per_row"))));
  }

  private static double ms(Properties p, String key) {
    return Long.parseLong(p.getProperty(key)) / 1000.0;
  }

  /** A fixed logistic model of {@code d} features (Σ|w| + |b| within the default range). */
  static InferenceModel model(int d) {
    SplittableRandom r = new SplittableRandom(42);
    double[] w = new double[d];
    for (int i = 0; i < d; i++) {
      w[i] = r.nextDouble(-0.4, 0.4);
    }
    return InferenceModel.logistic(w, -0.3);
  }

  /** Row {@code i} of the benchmark's rows, the same in every JVM. */
  static double[] row(long i, int d) {
    SplittableRandom r = new SplittableRandom(i * 0x9E3779B97F4A7C15L);
    double[] x = new double[d];
    for (int j = 0; j < d; j++) {
      x[j] = r.nextDouble(-2.5, 2.5);
    }
    return x;
  }

  /** Plaintext rows per second of the same model (the approximated sigmoid), in this JVM. */
  static double plaintextRate(InferenceModel m, int n) {
    double[][] x = new double[n][];
    for (int i = 0; i < n; i++) {
      x[i] = row(i, FEATURES);
    }
    double sink = 0;
    long best = Long.MAX_VALUE;
    for (int run = 0; run < 5; run++) {
      long t0 = System.nanoTime();
      for (double[] r : x) {
        sink += m.predict(r);
      }
      best = Math.min(best, System.nanoTime() - t0);
    }
    if (sink == 42) {
      System.out.print("");
    }
    return n * 1e9 / best;
  }

  /** One session: owner, client (and dealer) JVMs; returns the client's output. */
  static Properties session(Path dir, Path model, boolean withDealer, int singles, long batch)
      throws Exception {
    List<String> members = new ArrayList<>(List.of("owner", "client"));
    if (withDealer) {
      members.add("dealer");
    }
    Path keys = LocalParties.keys(dir.resolve("keys"), members);
    String spec = LocalParties.partiesSpec(members, LocalParties.freePorts(members.size()));
    List<Process> procs = new ArrayList<>();
    try {
      Path[] confs = new Path[members.size()];
      for (int i = 0; i < members.size(); i++) {
        String name = members.get(i);
        Properties p = LocalParties.baseConfig(name, spec, keys, Duration.ofMinutes(2));
        if (withDealer) {
          p.setProperty("spark.mpc.dealer", "dealer");
        }
        p.setProperty("spark.mpc.correlations", withDealer ? "dealer" : "ot");
        p.setProperty("inference.client", "client");
        p.setProperty("inference.poolDepth", "32");
        p.setProperty("bench.singles", Integer.toString(singles));
        p.setProperty("bench.batch", Long.toString(batch));
        p.setProperty("bench.model", model.toString());
        p.setProperty("out", dir.resolve("client-out.txt").toString());
        Files.createDirectories(dir.resolve(name));
        confs[i] = dir.resolve(name).resolve(name + ".properties");
        try (var out = Files.newOutputStream(confs[i])) {
          p.store(out, name);
        }
      }
      if (withDealer) {
        procs.add(LocalParties.start(dir.resolve("dealer"), "-Xmx1g", InferenceMain.class
            .getName(), jvmOptions(dir, "dealer"), List.of("dealer", "-c", confs[2].toString(), "--sessions",
                "1")));
      }
      procs.add(LocalParties.start(dir.resolve("owner"), "-Xmx3g", InferenceMain.class.getName(),
          jvmOptions(dir, "owner"), List.of("serve", "-c", confs[0].toString(), "-m", model.toString(),
              "--kind", "logistic", "--sessions", "1")));
      Process client = LocalParties.start(dir.resolve("client"), "-Xmx6g",
          InferenceBench.class.getName(), jvmOptions(dir, "client"), List.of("client",
              confs[1].toString()));
      procs.add(client);
      if (!client.waitFor(30, java.util.concurrent.TimeUnit.MINUTES) || client.exitValue() != 0) {
        throw new IllegalStateException("the inference client failed:\n"
            + LocalParties.read(dir.resolve("client").resolve("stderr.txt")) + "\nowner:\n"
            + LocalParties.read(dir.resolve("owner").resolve("stderr.txt")));
      }
      for (Process p : procs) {
        p.waitFor(2, java.util.concurrent.TimeUnit.MINUTES);
      }
      Properties out = new Properties();
      try (InputStream in = Files.newInputStream(dir.resolve("client-out.txt"))) {
        out.load(in);
      }
      String owner = LocalParties.read(dir.resolve("owner").resolve("stdout.txt"));
      out.setProperty("owner_stdout", owner.replace('\n', ' '));
      return out;
    } finally {
      for (Process p : procs) {
        p.destroyForcibly();
      }
    }
  }

  /** {@link #JVM_OPTIONS} for one party, {@code {dir}} replaced by its folder. */
  private static List<String> jvmOptions(Path dir, String party) {
    List<String> out = new ArrayList<>();
    for (String o : JVM_OPTIONS) {
      out.add(o.replace("{dir}", dir.resolve(party).toString()));
    }
    return out;
  }

  /** The client JVM: warm up, time single rows (probability, label) and the batch. */
  static void client(Path conf) throws IOException {
    Properties p = InferenceEndpoint.load(conf);
    int singles = Integer.parseInt(p.getProperty("bench.singles"));
    long batch = Long.parseLong(p.getProperty("bench.batch"));
    InferenceModel m = InferenceModel.readCsv(Path.of(p.getProperty("bench.model")),
        InferenceModel.Kind.LOGISTIC);
    StringBuilder out = new StringBuilder();
    try (InferenceEndpoint ep = InferenceEndpoint.start(p)) {
      MpcContext ctx = ep.establish(Duration.ofMinutes(2));
      try (InferenceClient c = InferenceClient.open(ctx, ep.source(ctx), ep.settings())) {
        long next = 1L << 40; // rows of the timed requests: none of the batch's
        for (int i = 0; i < Math.min(WARM_SINGLES, singles); i++) {
          c.predictProbability(row(next++, FEATURES));
          c.predictLabel(row(next++, FEATURES));
        }
        if (batch > 0) {
          double[][] warm = new double[Math.min(50_000, (int) batch)][];
          for (int i = 0; i < warm.length; i++) {
            warm[i] = row(next++, FEATURES);
          }
          c.predict(warm);
        }
        long[] prob = new long[singles];
        long[] label = new long[singles];
        long before = c.requests();
        java.util.Map<String, Double> phasesBefore = c.phaseMillis();
        long cpu0 = processCpuNanos();
        long[] ticks0 = procTicks();
        long sentBefore = ep.gateway().stats().bytesSent();
        for (int i = 0; i < singles; i++) {
          double[] r = row(next++, FEATURES);
          long t0 = System.nanoTime();
          double v = c.predictProbability(r);
          prob[i] = System.nanoTime() - t0;
          check(m, r, v, i);
        }
        String phases = phases(phasesBefore, before, c.phaseMillis(), c.requests());
        long cpu1 = processCpuNanos();
        long[] ticks1 = procTicks();
        long sentProb = ep.gateway().stats().bytesSent() - sentBefore;
        for (int i = 0; i < singles; i++) {
          double[] r = row(next++, FEATURES);
          long t0 = System.nanoTime();
          int l = c.predictLabel(r);
          label[i] = System.nanoTime() - t0;
          if (Math.abs(m.logit(r)) > 1e-3 && l != m.predictLabel(r)) {
            throw new IllegalStateException("label request " + i + " differs from the "
                + "plaintext model");
          }
        }
        long cpu2 = processCpuNanos();
        long sentLabel = ep.gateway().stats().bytesSent() - sentBefore - sentProb;
        percentiles(out, "prob", prob);
        percentiles(out, "label", label);
        out.append("prob_cpu_us=").append((cpu1 - cpu0) / 1000 / singles).append('\n');
        out.append("label_cpu_us=").append((cpu2 - cpu1) / 1000 / singles).append('\n');
        out.append("prob_bytes_sent=").append(sentProb / singles).append('\n');
        out.append("label_bytes_sent=").append(sentLabel / singles).append('\n');
        out.append("prob_user_sys_ticks=").append(ticks1[0] - ticks0[0]).append('/')
            .append(ticks1[1] - ticks0[1]).append('\n');
        out.append("prob_phases=").append(phases).append('\n');
        if (batch > 0) {
          double[][] rows = new double[(int) batch][];
          for (int i = 0; i < rows.length; i++) {
            rows[i] = row(i, FEATURES);
          }
          long sent0 = ep.gateway().stats().bytesSent();
          long received0 = ep.gateway().stats().bytesReceived();
          long t0 = System.nanoTime();
          double[] v = c.predict(rows);
          long t1 = System.nanoTime();
          long sent = ep.gateway().stats().bytesSent() - sent0;
          long received = ep.gateway().stats().bytesReceived() - received0;
          for (int i = 0; i < Math.min(10_000, rows.length); i++) {
            check(m, rows[i], v[i], i);
          }
          out.append("batch_rows=").append(rows.length).append('\n');
          out.append("batch_ms=").append((t1 - t0) / 1_000_000).append('\n');
          out.append("chunk_rows=").append(c.settings().chunkRows()).append('\n');
          out.append("batch_client_bytes_per_row=").append(sent / (double) rows.length)
              .append('\n');
          out.append("batch_client_received_per_row=").append(received / (double) rows.length)
              .append('\n');
        }
      }
      ep.gateway().endSession(ctx.sessionId());
    }
    Files.writeString(Path.of(p.getProperty("out")), out.toString());
  }

  /** User and system clock ticks of this process (Linux), or zeros. */
  static long[] procTicks() {
    try {
      String[] f = Files.readString(Path.of("/proc/self/stat")).split("\\) ", 2)[1].split(" ");
      return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
    } catch (IOException | RuntimeException e) {
      return new long[2];
    }
  }

  /** CPU time of this JVM, all threads. */
  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static String phases(java.util.Map<String, Double> before, long n0,
      java.util.Map<String, Double> after, long n1) {
    StringBuilder sb = new StringBuilder();
    for (String k : after.keySet()) {
      double total = after.get(k) * n1 - before.get(k) * n0;
      sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ')
          .append(String.format(Locale.ROOT, "%.2f", total / Math.max(1, n1 - n0)));
    }
    return sb.toString();
  }

  private static void percentiles(StringBuilder out, String name, long[] ns) {
    long[] s = ns.clone();
    Arrays.sort(s);
    out.append(name).append("_p50_us=").append(s[s.length / 2] / 1000).append('\n');
    out.append(name).append("_p90_us=").append(s[s.length * 9 / 10] / 1000).append('\n');
    out.append(name).append("_p99_us=").append(s[s.length * 99 / 100] / 1000).append('\n');
    out.append(name).append("_max_us=").append(s[s.length - 1] / 1000).append('\n');
  }

  /** The secure probability against the plaintext model: the sigmoid's error plus rounding. */
  static void check(InferenceModel m, double[] row, double p, long i) {
    double z = m.logit(row);
    double exact = 1 / (1 + Math.exp(-z));
    double s = 1 + Math.abs(m.intercept());
    double[] w = m.coefficients();
    for (int j = 0; j < w.length; j++) {
      s += Math.abs(w[j]) + Math.abs(row[j]);
    }
    double tol = Sigmoid.MAX_ERROR + Math.scalb(4.0, -16)
        + 0.3 * (Math.scalb(s, -17) + Math.scalb(2.0, -16));
    if (!(Math.abs(p - exact) <= tol)) {
      throw new IllegalStateException("request " + i + ": the secure probability differs from "
          + "the plaintext model's by more than " + tol);
    }
  }
}
