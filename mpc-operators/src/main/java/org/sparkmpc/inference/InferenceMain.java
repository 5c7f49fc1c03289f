package org.sparkmpc.inference;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.correlation.DealerService;
import org.sparkmpc.net.ConfigValues;
import org.sparkmpc.net.MpcChannelException;
import org.sparkmpc.session.MpcContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The command line of secure inference ({@code bin/infer}): {@code serve} at the model's owner,
 * {@code predict} at the client, and {@code dealer} for the correlated randomness of one session
 * after another. Each takes the party's properties file (the same keys as the other {@code bin/}
 * tools; see {@link InferenceEndpoint}).
 *
 * <pre>
 * bin/infer serve   --config owner.properties --model model.csv --kind logistic
 * bin/infer dealer  --config dealer.properties
 * bin/infer predict --config client.properties --input rows.csv          # probabilities
 * bin/infer predict --config client.properties --label &lt; rows.csv        # labels only
 * </pre>
 *
 * <p>What it prints: the outputs, at the client only (one line per row, in order); names,
 * addresses, settings, counts and times. Never a coefficient, a feature value or a share: a bad
 * row is refused naming its line and column.
 */
@Command(name = "infer", mixinStandardHelpOptions = true,
    versionProvider = InferenceMain.Version.class,
    subcommands = {InferenceMain.Serve.class, InferenceMain.Predict.class,
        InferenceMain.Dealer.class},
    description = "Secure inference of a linear or logistic-regression model: the owner serves "
        + "its private model, the client predicts on its private rows, and only the client "
        + "learns the outputs.")
public final class InferenceMain implements Callable<Integer> {

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Run the command line; returns the exit status (0 ok, 1 failed, 2 usage). */
  public static int run(String... args) {
    CommandLine cl = new CommandLine(new InferenceMain());
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      cmd.getErr().println("infer " + cmd.getCommandName() + ": " + describe(e));
      return 1;
    });
    return cl.execute(args);
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return e instanceof MpcInputException || e instanceof MpcChannelException
        || e instanceof UncheckedIOException || e instanceof IllegalStateException
        ? m : e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  @Override
  public Integer call() {
    CommandLine.usage(this, System.err);
    return 2;
  }

  /** The version of the jar this runs from, as its manifest gives it. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = InferenceMain.class.getPackage().getImplementationVersion();
      return new String[] {"infer (Spark MPC) " + (v == null ? "development build" : v)};
    }
  }

  /** The inference settings; every party must give the same. */
  static final class SettingsOptions {
    @Option(names = "--scale", description = "fractional bits of rows and outputs (12-20; "
        + "default: inference.scale or 16)")
    Integer scale;

    @Option(names = "--max-feature-bits", description = "features up to 2^BITS in magnitude "
        + "(default: inference.maxFeatureBits or 20)")
    Integer maxFeatureBits;

    @Option(names = "--pool", description = "single-row requests prepared ahead (default: "
        + "inference.poolDepth or 16)")
    Integer pool;

    @Option(names = "--chunk-rows", description = "rows per operator of a batch (default: "
        + "inference.chunkRows or 16384)")
    Integer chunkRows;

    InferenceSettings over(InferenceSettings s) {
      return new InferenceSettings(scale != null ? scale : s.scale(),
          maxFeatureBits != null ? maxFeatureBits : s.maxFeatureBits(),
          pool != null ? pool : s.poolDepth(), chunkRows != null ? chunkRows : s.chunkRows());
    }
  }

  /** The model's owner: serves sessions one after another. */
  @Command(name = "serve", mixinStandardHelpOptions = true,
      description = "Serve a private model to the client, session after session.")
  static final class Serve implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "this party's properties")
    Path config;

    @Option(names = {"-m", "--model"}, required = true,
        description = "the model: CSV 'term,value' as the party runner's model.csv")
    Path model;

    @Option(names = "--kind", required = true, description = "logistic or linear")
    String kind;

    @Option(names = "--model-scale", defaultValue = "16",
        description = "fractional bits of the shared coefficients (default ${DEFAULT-VALUE})")
    int modelScale;

    @Option(names = "--client", description = "the client's party name (default: "
        + "inference.client)")
    String client;

    @Option(names = "--sessions", defaultValue = "0",
        description = "sessions to serve, then exit (0: until stopped)")
    int sessions;

    @Option(names = "--idle", defaultValue = "1h",
        description = "end a session whose client sent nothing for this long (default "
            + "${DEFAULT-VALUE})")
    String idle;

    @Mixin
    SettingsOptions settingsOptions;

    @Override
    public Integer call() {
      Properties conf = InferenceEndpoint.load(config);
      InferenceModel m = InferenceModel.readCsv(model, InferenceModel.Kind.parse(kind))
          .withScale(modelScale);
      Duration idleFor = Duration.ofMillis(ConfigValues.millis("--idle", idle));
      try (InferenceEndpoint ep = InferenceEndpoint.start(conf)) {
        InferenceSettings settings = settingsOptions.over(ep.settings());
        String clientName = client != null ? client : ep.client(null);
        System.out.println("infer serve: party " + ep.party() + " serves a " + m.kind().id()
            + " model of " + m.features() + " features to '" + clientName + "' ("
            + ep.correlations() + " correlations), gateway on port " + ep.gateway().port());
        System.out.flush();
        for (int s = 0; sessions == 0 || s < sessions; ) {
          MpcContext ctx = ep.establish(null);
          s++;
          long t0 = System.nanoTime();
          try (InferenceServer server = InferenceServer.open(ctx, ep.source(ctx), settings,
              clientName, m)) {
            long n = server.serve(idleFor);
            System.out.printf("infer serve: session %s ended: %,d requests in %,d ms%n",
                ctx.sessionId(), n, (System.nanoTime() - t0) / 1_000_000);
          } catch (RuntimeException e) {
            System.err.println("infer serve: session " + ctx.sessionId() + " failed: "
                + describe(e));
            ep.gateway().endSession(ctx.sessionId());
          }
          System.out.flush();
        }
      }
      return 0;
    }
  }

  /** The dealer for one inference session after another. */
  @Command(name = "dealer", mixinStandardHelpOptions = true,
      description = "Serve the correlated randomness of inference sessions, one after another.")
  static final class Dealer implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true,
        description = "the dealer's properties (spark.mpc.party is the dealer, listed last)")
    Path config;

    @Option(names = "--sessions", defaultValue = "0",
        description = "sessions to serve, then exit (0: until stopped)")
    int sessions;

    @Option(names = "--idle", defaultValue = "1h",
        description = "give a session up when its parties ask for nothing for this long "
            + "(default ${DEFAULT-VALUE})")
    String idle;

    @Override
    public Integer call() {
      Properties conf = InferenceEndpoint.load(config);
      Duration idleFor = Duration.ofMillis(ConfigValues.millis("--idle", idle));
      try (InferenceEndpoint ep = InferenceEndpoint.start(conf)) {
        System.out.println("infer dealer: " + ep.party() + " on port " + ep.gateway().port());
        System.out.flush();
        // Each session on a thread of its own: one whose parties failed waits out its idle
        // time there without holding up the next session.
        List<Thread> running = new ArrayList<>();
        for (int s = 0; sessions == 0 || s < sessions; ) {
          MpcContext ctx = ep.establish(null, ep.party());
          s++;
          Thread t = new Thread(() -> {
            try {
              long ops = DealerService.serve(ctx, idleFor);
              System.out.printf("infer dealer: session %s ended: %,d operators%n",
                  ctx.sessionId(), ops);
            } catch (RuntimeException e) {
              System.err.println("infer dealer: session " + ctx.sessionId() + " failed: "
                  + describe(e));
            }
            ep.gateway().endSession(ctx.sessionId());
            System.out.flush();
          }, "infer-dealer-" + ctx.sessionId());
          t.setDaemon(true);
          t.start();
          running.add(t);
          running.removeIf(x -> !x.isAlive());
        }
        for (Thread t : running) {
          try {
            t.join();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            break;
          }
        }
      }
      return 0;
    }
  }

  /** The client: rows from a CSV file or stdin, outputs on stdout. */
  @Command(name = "predict", mixinStandardHelpOptions = true,
      description = "Predict on private rows (CSV, one row per line, the model's features in "
          + "order; an optional header row is checked against the model's feature names). "
          + "Prints one output per row: the probability (logistic), the value (linear) or, with "
          + "--label, 0 or 1.")
  static final class Predict implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "this party's properties")
    Path config;

    @Option(names = {"-i", "--input"}, defaultValue = "-",
        description = "the rows' CSV file ('-': stdin, the default)")
    String input;

    @Option(names = {"-o", "--output"}, defaultValue = "-",
        description = "where the outputs go ('-': stdout, the default)")
    String output;

    @Option(names = "--label", description = "labels only: the client learns one bit per row")
    boolean label;

    @Option(names = "--batch", defaultValue = "4096",
        description = "rows per request (1: each row answered as it is read; default "
            + "${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--stats", description = "print the time per request and where it goes on "
        + "stderr")
    boolean stats;

    @Mixin
    SettingsOptions settingsOptions;

    @Override
    public Integer call() throws IOException {
      if (batch < 1) {
        throw new MpcInputException("--batch must be at least 1");
      }
      Properties conf = InferenceEndpoint.load(config);
      try (PrintStream out = output.equals("-")
              ? new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false,
                  StandardCharsets.UTF_8)
              : new PrintStream(Files.newOutputStream(Path.of(output)), false,
                  StandardCharsets.UTF_8);
          InferenceEndpoint ep = InferenceEndpoint.start(conf);
          BufferedReader in = input.equals("-")
              ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
              : Files.newBufferedReader(Path.of(input), StandardCharsets.UTF_8)) {
        InferenceSettings settings = settingsOptions.over(ep.settings());
        MpcContext ctx = ep.establish(ep.timeout());
        long rows = 0;
        long requests = 0;
        long t0 = System.nanoTime();
        try (InferenceClient client = InferenceClient.open(ctx, ep.source(ctx), settings)) {
          RowReader reader = new RowReader(in, client.features(), client.featureNames(),
              input.equals("-") ? "stdin" : input);
          for (double[][] chunk = reader.next(batch); chunk != null;
              chunk = reader.next(batch)) {
            if (label) {
              int[] v = chunk.length == 1 ? new int[] {client.predictLabel(chunk[0])}
                  : client.predictLabels(chunk);
              for (int x : v) {
                out.println(x);
              }
            } else {
              double[] v = client.predict(chunk);
              for (double x : v) {
                out.println(String.format(Locale.ROOT, "%.6f", x));
              }
            }
            out.flush();
            rows += chunk.length;
            requests++;
          }
          if (stats) {
            System.err.printf(Locale.ROOT, "infer predict: %,d rows in %,d requests, %.1f ms; "
                + "per request (ms): %s%n", rows, requests, (System.nanoTime() - t0) / 1e6,
                client.phaseMillis());
          }
        }
      }
      return 0;
    }
  }

  /**
   * Rows of a CSV file: numbers separated by commas, one row per line; blank lines and lines
   * starting with {@code #} skipped; a first line that is not all numbers is a header, checked
   * against the model's feature names (when the owner gave them) and their count. Errors name the
   * line and column, never a value.
   */
  static final class RowReader {
    private final BufferedReader in;
    private final int features;
    private final List<String> names;
    private final String source;
    private int line;
    private boolean first = true;

    RowReader(BufferedReader in, int features, List<String> names, String source) {
      this.in = in;
      this.features = features;
      this.names = names;
      this.source = source;
    }

    /** Up to {@code max} rows, or null at the end. */
    double[][] next(int max) throws IOException {
      List<double[]> rows = new ArrayList<>();
      String s;
      while (rows.size() < max && (s = in.readLine()) != null) {
        line++;
        s = s.trim();
        if (s.isEmpty() || s.startsWith("#")) {
          continue;
        }
        String[] f = s.split(",", -1);
        if (first) {
          first = false;
          if (!numeric(f)) {
            checkHeader(f);
            continue;
          }
        }
        if (f.length != features) {
          throw new MpcInputException(source + ", line " + line + ": " + f.length
              + " values; the model takes " + features);
        }
        double[] row = new double[features];
        for (int j = 0; j < features; j++) {
          try {
            row[j] = Double.parseDouble(f[j].trim());
          } catch (NumberFormatException e) {
            throw new MpcInputException(source + ", line " + line + ", feature " + j
                + column(j) + ": not a number");
          }
        }
        rows.add(row);
      }
      return rows.isEmpty() ? null : rows.toArray(new double[0][]);
    }

    private String column(int j) {
      return names.isEmpty() ? "" : " ('" + names.get(j) + "')";
    }

    private static boolean numeric(String[] f) {
      for (String x : f) {
        try {
          Double.parseDouble(x.trim());
        } catch (NumberFormatException e) {
          return false;
        }
      }
      return true;
    }

    private void checkHeader(String[] f) {
      if (f.length != features) {
        throw new MpcInputException(source + ", line " + line + ": a header of " + f.length
            + " columns; the model takes " + features + " features"
            + (names.isEmpty() ? "" : ": " + String.join(",", names)));
      }
      for (int j = 0; j < f.length && !names.isEmpty(); j++) {
        if (!f[j].trim().equals(names.get(j))) {
          throw new MpcInputException(source + ", line " + line + ": column " + j + " is '"
              + f[j].trim() + "' but the model's feature " + j + " is '" + names.get(j) + "'");
        }
      }
    }
  }
}
