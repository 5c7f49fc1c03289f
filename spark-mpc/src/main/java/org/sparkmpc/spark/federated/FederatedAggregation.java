package org.sparkmpc.spark.federated;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.connectors.federated.RoundSpec;
import org.sparkmpc.connectors.federated.UploadEndpoint;
import org.sparkmpc.connectors.federated.UploadStore;
import org.sparkmpc.crypto.AesCtrPrg;
import org.sparkmpc.federated.SeedShares;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.share.Reveal;
import org.sparkmpc.spark.MpcConf;
import org.sparkmpc.spark.MpcRuntime;

/**
 * Federated secure aggregation at one aggregation party: this party's upload endpoint, where
 * clients ({@link org.sparkmpc.connectors.federated.FederatedClient}) send their seed-compressed
 * shares over mutually authenticated TLS, and the rounds that sum them.
 *
 * <pre>{@code
 * FederatedAggregation fed = mpc.federated();              // endpoint on spark.mpc.federated.port
 * FederatedAggregation.Round round = fed.open(spec, 900, Duration.ofMinutes(5));
 * FederatedResult r = round.aggregate(2);                  // to every party; revealTo names some
 * double[] mean = r.mean();
 * }</pre>
 *
 * <p>A round, at every party in lockstep:
 * <ol>
 *   <li>{@link #open}: the parties agree on the round (its parameters' digest, quorum, timeout,
 *       minimum and recipients; 1 round), then the endpoint accepts uploads.
 *   <li>{@link Round#aggregate}: the endpoint closes at the deadline or as soon as {@code quorum}
 *       clients are in; the parties exchange the lists of (client, submission nonce) they accepted
 *       (1 round; public metadata) and keep the clients every party holds with the same nonce, so
 *       a client that never submitted, or that reached only some parties, is left out and stalls
 *       nothing; fewer than the minimum is refused at every party before anything is opened.
 *   <li>A Spark job at each party sums its shares of the included clients (its executors expand
 *       the seeds and add the full vectors, whole arrays at a time).
 *   <li>The parties re-randomise their sums with a zero-sharing from the pairwise keys and open the
 *       total to the recipients (1 round, 8 bytes per dimension to each recipient), checked against
 *       a digest of the included set that travels with it.
 * </ol>
 *
 * <p>Reveals: to the parties, which clients took part (their certificate names) and when; to the
 * recipients, the sum over the included clients and hence the mean. No party sees one client's
 * update: each holds one additive share of it (a seed's expansion, or the update minus the other
 * parties' expansions), uniform on its own.
 */
public final class FederatedAggregation implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FederatedAggregation.class);

  private final MpcRuntime rt;
  private final SparkSession spark;
  private final UploadEndpoint endpoint;
  private final Path dir;

  private FederatedAggregation(MpcRuntime rt, SparkSession spark, UploadEndpoint endpoint,
      Path dir) {
    this.rt = rt;
    this.spark = spark;
    this.endpoint = endpoint;
    this.dir = dir;
  }

  /**
   * Start this party's upload endpoint from the session's settings: {@code
   * spark.mpc.federated.port}, {@code .clientCa}, {@code .dir}, and the party's own key and
   * certificate.
   */
  public static FederatedAggregation start(MpcRuntime rt, SparkSession spark) {
    String ca = MpcConf.FEDERATED_CLIENT_CA.get(spark);
    String dir = MpcConf.FEDERATED_DIR.get(spark);
    if (ca.isEmpty()) {
      throw new MpcInputException("federated aggregation: set " + MpcConf.FEDERATED_CLIENT_CA.key()
          + " to the certificate of the authority that issues the clients' certificates");
    }
    if (dir.isEmpty()) {
      throw new MpcInputException("federated aggregation: set " + MpcConf.FEDERATED_DIR.key()
          + " to a folder of this party's own storage for the uploads");
    }
    org.sparkmpc.net.PartySettings.KeyFiles keys = org.sparkmpc.net.PartySettings.keyFiles(
        rt.context().directory().self().name(), k -> spark.conf().get(k, ""));
    UploadEndpoint endpoint = new UploadEndpoint(keys.key(), keys.cert(), Path.of(ca));
    try {
      endpoint.start(MpcConf.FEDERATED_PORT.get(spark));
    } catch (IOException e) {
      endpoint.close();
      throw new UncheckedIOException("federated upload endpoint of party " + rt.context()
          .directory().self().name() + " cannot listen on port " + MpcConf.FEDERATED_PORT
          .get(spark) + " (" + MpcConf.FEDERATED_PORT.key() + "): " + e.getMessage(), e);
    }
    LOG.info("federated upload endpoint of party {} listening on port {}", rt.context().directory()
        .self().name(), endpoint.port());
    return new FederatedAggregation(rt, spark, endpoint, Path.of(dir));
  }

  /** The port the upload endpoint listens on. */
  public int port() {
    return endpoint.port();
  }

  /**
   * Agree on round {@code spec} with the other parties and start accepting its uploads; the round
   * closes after {@code timeout} or once {@code quorum} clients are in, whichever comes first.
   */
  public Round open(RoundSpec spec, int quorum, Duration timeout, int minClients,
      String... revealTo) {
    MpcContext ctx = rt.context();
    List<String> parties = new ArrayList<>();
    ctx.directory().parties().forEach(p -> parties.add(p.name()));
    String problem = null;
    if (!spec.parties().equals(parties)) {
      problem = "names the parties " + spec.parties() + ", but this session's parties are "
          + parties + " (same order)";
    } else if (quorum < minClients || minClients < 2 || quorum > spec.maxClients()) {
      problem = "needs 2 <= minClients (" + minClients + ") <= quorum (" + quorum
          + ") <= maxClients (" + spec.maxClients() + ")";
    } else if (timeout.isNegative() || timeout.isZero()) {
      problem = "needs a positive timeout, was " + timeout;
    }
    if (problem != null) {
      throw rt.refuse("FederatedSum", new MpcInputException("federated round '"
          + spec.roundId() + "' at party " + ctx.directory().self().name() + " " + problem));
    }
    List<String> to = new ArrayList<>();
    for (String p : revealTo) {
      ctx.directory().indexOf(p);
      if (!to.contains(p)) {
        to.add(p);
      }
    }
    to.sort(null);
    OperatorScope scope = rt.beginOperator("FederatedSum");
    ctx.agree(scope.id(), "FederatedSum round=" + spec.roundId() + " spec="
        + HexFormat.of().formatHex(spec.digest()) + " quorum=" + quorum + " timeout="
        + timeout.toMillis() + "ms minClients=" + minClients + " to=" + (to.isEmpty() ? "all"
        : to));
    Instant deadline = Instant.now().plus(timeout);
    Path roundDir = dir.resolve(spec.roundId());
    try {
      endpoint.open(spec, ctx.self(), roundDir, quorum, deadline);
    } catch (IOException e) {
      ctx.abort(scope.id(), new MpcInputException("party " + ctx.directory().self().name()
          + " cannot open federated round '" + spec.roundId() + "'"));
      throw new UncheckedIOException("cannot open federated round '" + spec.roundId()
          + "' in " + roundDir + ": " + e.getMessage(), e);
    }
    return new Round(spec, scope, minClients, to, System.nanoTime());
  }

  /** Stop the upload endpoint. */
  @Override
  public void close() {
    endpoint.close();
  }

  /** One open round. */
  public final class Round {
    private final RoundSpec spec;
    private final OperatorScope scope;
    private final int minClients;
    private final List<String> to;
    private final long opened;

    private Round(RoundSpec spec, OperatorScope scope, int minClients, List<String> to,
        long opened) {
      this.spec = spec;
      this.scope = scope;
      this.minClients = minClients;
      this.to = to;
      this.opened = opened;
    }

    /**
     * Wait for the round to close, agree on the included clients, sum this party's shares in a
     * Spark job and open the total to the round's recipients.
     */
    public FederatedResult aggregate() {
      try {
        return run();
      } catch (RuntimeException e) {
        rt.context().abort(scope.id(), e); // the peers fail at once instead of at the timeout
        throw e;
      }
    }

    private FederatedResult run() {
      MpcContext ctx = rt.context();
      long op = scope.id();
      List<UploadStore.Entry> accepted;
      try {
        accepted = endpoint.awaitClose().accepted();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new MpcInputException("interrupted while federated round '" + spec.roundId()
            + "' was open");
      }
      long closed = System.nanoTime();
      // Which (client, nonce) each party accepted: public metadata, one round.
      byte[][] all = ctx.exchangeAll(op, Coordinates.DRIVER_PARTITION, scope.round("clients"),
          encode(accepted));
      Map<String, String> common = null;
      for (byte[] b : all) {
        Map<String, String> m = decode(b);
        if (common == null) {
          common = m;
        } else {
          common.entrySet().removeIf(e -> !e.getValue().equals(m.get(e.getKey())));
        }
      }
      List<String> clients = new ArrayList<>(common.keySet());
      clients.sort(null);
      int leftOut = accepted.size() - clients.size();
      if (clients.size() < minClients) {
        throw new MpcInputException("federated round '" + spec.roundId() + "': only "
            + clients.size() + " clients reached every party by the close (this party accepted "
            + accepted.size() + "); at least " + minClients + " are needed, so nothing is "
            + "opened");
      }
      LOG.info("federated round {}: {} clients included, {} accepted here left out",
          spec.roundId(), clients.size(), leftOut);
      List<String> files = new ArrayList<>();
      java.util.Set<String> in = new java.util.HashSet<>(clients);
      for (UploadStore.Entry e : accepted) {
        if (in.contains(e.clientId())) {
          files.add(e.file());
        }
      }
      files.sort(null);
      long[] share = sum(files);
      // A zero-sharing from the pairwise keys: each opened partial sum is uniform on its own.
      for (int q = 0; q < ctx.parties(); q++) {
        if (q != ctx.self()) {
          long[] mask = new AesCtrPrg(ctx.keys().seedWith(q, "federated/" + op)).next(spec.dims());
          for (int i = 0; i < share.length; i++) {
            share[i] += q > ctx.self() ? mask[i] : -mask[i];
          }
        }
      }
      byte[] digest = digest(clients);
      byte[][] digests = ctx.exchangeAll(op, Coordinates.DRIVER_PARTITION,
          scope.round("included"), digest);
      for (int q = 0; q < digests.length; q++) {
        if (!Arrays.equals(digests[q], digest)) {
          throw new MpcInputException("federated round '" + spec.roundId() + "': party "
              + ctx.directory().name(q) + " included another set of clients; nothing is opened");
        }
      }
      int[] idx = to.isEmpty() ? Reveal.all(ctx)
          : to.stream().mapToInt(ctx.directory()::indexOf).toArray();
      long[] total = Reveal.toParties(ctx, op, Coordinates.DRIVER_PARTITION, scope.round("open"),
          share, share.length, idx);
      boolean recipient = Arrays.stream(idx).anyMatch(r -> r == ctx.self());
      rt.releaseMessages(scope);
      long[] sum = null;
      if (recipient) {
        SeedShares.reduce(total, spec.width());
        sum = total;
      }
      long done = System.nanoTime();
      return new FederatedResult(spec, List.copyOf(clients), leftOut, sum,
          (closed - opened) / 1_000_000, (done - closed) / 1_000_000);
    }

    /** This party's shares of the files' clients, summed by a Spark job over its executors. */
    private long[] sum(List<String> files) {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      int slices = Math.max(1, Math.min(files.size(), 2 * jsc.defaultParallelism()));
      SumTask task = new SumTask(spec.roundId(), spec.dims(), spec.clipNorm(), spec.scaleBits(),
          spec.maxClients(), spec.parties(), rt.context().self());
      return jsc.parallelize(files, slices).mapPartitions(task).treeReduce(SumTask::add);
    }
  }

  /** The sum of one slice of the uploads' shares (executor side). */
  static final class SumTask implements
      org.apache.spark.api.java.function.FlatMapFunction<java.util.Iterator<String>, long[]> {
    private static final long serialVersionUID = 1L;
    private final String roundId;
    private final int dims;
    private final double clipNorm;
    private final int scaleBits;
    private final int maxClients;
    private final ArrayList<String> parties;
    private final int self;

    SumTask(String roundId, int dims, double clipNorm, int scaleBits, int maxClients,
        List<String> parties, int self) {
      this.roundId = roundId;
      this.dims = dims;
      this.clipNorm = clipNorm;
      this.scaleBits = scaleBits;
      this.maxClients = maxClients;
      this.parties = new ArrayList<>(parties);
      this.self = self;
    }

    @Override
    public java.util.Iterator<long[]> call(java.util.Iterator<String> files) {
      RoundSpec spec = RoundSpec.of(roundId, dims, clipNorm, scaleBits, maxClients, parties);
      long[] acc = new long[dims];
      while (files.hasNext()) {
        UploadStore.addInto(Path.of(files.next()), spec, self, acc);
      }
      return List.of(acc).iterator();
    }

    static long[] add(long[] a, long[] b) {
      for (int i = 0; i < a.length; i++) {
        a[i] += b[i];
      }
      return a;
    }
  }

  private static byte[] encode(List<UploadStore.Entry> entries) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(entries.size());
      for (UploadStore.Entry e : entries) {
        out.writeUTF(e.clientId());
        out.writeUTF(e.nonce());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static Map<String, String> decode(byte[] b) {
    java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(b));
    Map<String, String> out = new LinkedHashMap<>();
    try {
      int n = in.readInt();
      for (int i = 0; i < n; i++) {
        String id = in.readUTF();
        out.put(id, in.readUTF());
      }
    } catch (IOException e) {
      throw new MpcInputException("a party sent a malformed list of federated clients");
    }
    return out;
  }

  private static byte[] digest(List<String> clients) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (String c : clients) {
        md.update(c.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
      }
      return md.digest();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
