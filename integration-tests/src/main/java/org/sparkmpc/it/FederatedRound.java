package org.sparkmpc.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.sparkmpc.connectors.federated.ClientCertificates;
import org.sparkmpc.connectors.federated.FederatedClient;
import org.sparkmpc.connectors.federated.FederatedUploadException;
import org.sparkmpc.connectors.federated.Quantiser;
import org.sparkmpc.connectors.federated.RoundSpec;
import org.sparkmpc.net.PartyCredentials;

/**
 * The demo's part five, a federated round: two aggregation parties run the party runner's
 * {@code job=federated} in JVMs of their own, and the demo itself plays the clients on a few
 * threads. Each client gets a certificate from a clients' authority the demo makes, and sends its
 * update secret-shared to both parties ({@link FederatedClient}): the full quantised vector to one,
 * a 32-byte seed to the other. Some clients never submit (the round closes at its quorum without
 * them), a few send updates above the norm bound (clipped), and one submits twice (refused by the
 * parties). Only the mean is opened, to aggregatorA; the demo checks it against the plaintext mean
 * of the included clients' quantised updates ({@link Quantiser}) and exits 1 if they differ.
 */
final class FederatedRound {
  private FederatedRound() {}

  static final List<String> PARTIES = List.of("aggregatorA", "aggregatorB");
  /** Clients in part five, by default. */
  static final int CLIENTS = 200;
  static final int DIMS = 1000;
  static final double CLIP_NORM = 1.0;
  static final int SCALE_BITS = 16;
  static final String ROUND = "round-1";

  static void run(Path work, int clients) throws Exception {
    if (clients < 3) {
      throw new IllegalArgumentException("--clients must be 0 (skip) or at least 3");
    }
    int absent = Math.max(1, clients / 20);
    int step = clients / absent;
    int submitting = clients - absent;
    System.out.println();
    System.out.printf("Part five: a federated round. %d clients each hold an update of %d floats; "
        + "two aggregation parties (each its own JVM and Spark) receive them secret-shared over "
        + "mutual TLS and open only the mean, to aggregatorA. %d clients never submit; the round "
        + "closes at a quorum of %d.%n", clients, DIMS, absent, submitting);
    deleteTree(work);
    Path keys = LocalParties.keys(work.resolve("keys"), PARTIES);
    ClientCertificates.Authority ca = ClientCertificates.createAuthority("demo-clients",
        work.resolve("client-ca"));
    int[] ports = LocalParties.freePorts(4);
    String spec = LocalParties.partiesSpec(PARTIES, ports);
    Map<String, Properties> confs = new LinkedHashMap<>();
    Map<String, String> endpoints = new LinkedHashMap<>();
    for (int i = 0; i < PARTIES.size(); i++) {
      String name = PARTIES.get(i);
      Path dir = work.resolve(name);
      Properties p = LocalParties.baseConfig(name, spec, keys, Duration.ofMinutes(3));
      p.setProperty("job", "federated");
      p.setProperty("federated.round", ROUND);
      p.setProperty("federated.dims", String.valueOf(DIMS));
      p.setProperty("federated.clipNorm", String.valueOf(CLIP_NORM));
      p.setProperty("federated.scaleBits", String.valueOf(SCALE_BITS));
      p.setProperty("federated.maxClients", String.valueOf(clients));
      p.setProperty("federated.quorum", String.valueOf(submitting));
      p.setProperty("federated.timeout", "120");
      p.setProperty("federated.revealTo", PARTIES.get(0));
      p.setProperty("federated.readyFile", dir.resolve("ready").toString());
      p.setProperty("output", dir.resolve("mean").toString());
      p.setProperty("spark.mpc.federated.port", String.valueOf(ports[2 + i]));
      p.setProperty("spark.mpc.federated.clientCa",
          work.resolve("client-ca").resolve("demo-clients.crt.pem").toString());
      p.setProperty("spark.mpc.federated.dir", dir.resolve("uploads").toString());
      confs.put(name, p);
      endpoints.put(name, "127.0.0.1:" + ports[2 + i]);
    }
    CompletableFuture<List<LocalParties.Outcome>> parties = CompletableFuture.supplyAsync(() ->
        LocalParties.run(work, confs, "-Xmx1g", Duration.ofMinutes(10)));
    for (String name : PARTIES) {
      awaitReady(work.resolve(name).resolve("ready"), parties);
    }

    RoundSpec round = RoundSpec.of(ROUND, DIMS, CLIP_NORM, SCALE_BITS, clients, PARTIES);
    Map<String, X509Certificate> partyCerts = PartyCredentials.readTrustBundle(
        keys.resolve("trust.pem"));
    Map<String, long[]> accepted = new ConcurrentHashMap<>();
    Map<String, FederatedClient.Receipt> receipts = new ConcurrentHashMap<>();
    AtomicInteger clipped = new AtomicInteger();
    long t0 = System.nanoTime();
    // client-0 first, alone, so that its second submission reaches the parties while the round
    // is still open: its refusal is then for the duplicate, not for a closed round.
    submit(0, round, ca, partyCerts, endpoints, accepted, receipts, clipped);
    FederatedClient twice = FederatedClient.create(ClientCertificates.issue(ca, "client-0"),
        partyCerts, endpoints);
    try {
      twice.submit(round, update(0));
      System.err.println("client-0's second submission was accepted");
      System.exit(1);
    } catch (FederatedUploadException refused) {
      System.out.println("client-0 submits a second time: " + refused.getMessage());
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> jobs = new ArrayList<>();
    for (int i = 1; i < clients; i++) {
      if ((i + 1) % step == 0 && i / step < absent) {
        continue; // this client never submits
      }
      int c = i;
      jobs.add(pool.submit(() -> {
        submit(c, round, ca, partyCerts, endpoints, accepted, receipts, clipped);
        return null;
      }));
    }
    for (Future<?> j : jobs) {
      j.get();
    }
    pool.shutdown();
    long clientMs = (System.nanoTime() - t0) / 1_000_000;
    List<LocalParties.Outcome> outs = parties.get(10, TimeUnit.MINUTES);
    for (LocalParties.Outcome o : outs) {
      if (!o.ok()) {
        System.err.println(o);
        System.exit(1);
      }
      o.stdout().lines().filter(l -> l.contains(" clients included"))
          .forEach(l -> System.out.println(l.replace("spark-mpc: party ", "")));
    }

    Path out = work.resolve(PARTIES.get(0)).resolve("mean");
    List<String> included = Files.readAllLines(out.resolve("clients.txt")).stream()
        .filter(l -> !l.isBlank()).toList();
    double[] mean = new double[DIMS];
    for (String line : Files.readAllLines(out.resolve("mean.csv"))) {
      String[] f = line.split(",");
      if (!f[0].equals("dim")) {
        mean[Integer.parseInt(f[0])] = Double.parseDouble(f[1]);
      }
    }
    long[] sum = new long[DIMS];
    for (String c : included) {
      long[] q = accepted.get(c);
      if (q == null) {
        System.err.println("the round included " + c + ", which the demo never saw accepted");
        System.exit(1);
      }
      for (int d = 0; d < DIMS; d++) {
        sum[d] += q[d];
      }
    }
    double div = included.size() * Math.pow(2, SCALE_BITS);
    double worst = 0;
    for (int d = 0; d < DIMS; d++) {
      worst = Math.max(worst, Math.abs(mean[d] - sum[d] / div));
    }
    FederatedClient.Receipt one = receipts.get("client-1");
    StringBuilder perParty = new StringBuilder();
    for (FederatedClient.PartyStatus s : one.parties()) {
      perParty.append(perParty.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT,
          "%s %,d (%s share)", s.party(), s.bytesWritten(), s.role()));
    }
    System.out.println();
    System.out.printf(Locale.ROOT, "%d clients submitted in %,d ms (4 threads), %d of them above "
        + "the norm bound %.1f and clipped; %d never submitted; the round included %d%n",
        accepted.size(), clientMs, clipped.get(), CLIP_NORM, absent, included.size());
    System.out.printf(Locale.ROOT, "mean at aggregatorA, dims 0-2: %.6f %.6f %.6f; plaintext mean "
        + "of the included clients' quantised updates: %.6f %.6f %.6f%n", mean[0], mean[1], mean[2],
        sum[0] / div, sum[1] / div, sum[2] / div);
    System.out.printf("largest difference over the %d dims: %s (must be 0 up to double "
        + "rounding)%n", DIMS, worst);
    System.out.printf(Locale.ROOT, "client-1 sent %,d bytes (%s; TLS handshakes included); its "
        + "update as plaintext float32 is %,d bytes%n", one.bytesWritten(), perParty, DIMS * 4);
    if (worst > 1e-12 || included.size() != submitting) {
      System.err.println("the opened mean differs from the plaintext mean by " + worst + ", or the "
          + "round included " + included.size() + " clients instead of " + submitting);
      System.exit(1);
    }
  }

  /**
   * Client {@code i}'s update: a common direction plus noise of its own, norm about 0.5; every 25th
   * client (from the 4th) sends one eight times larger, which the quantiser clips to the bound.
   */
  static float[] update(int i) {
    Random r = new Random(1000L + i);
    float[] u = new float[DIMS];
    double scale = i % 25 == 3 ? 8 : 1;
    for (int d = 0; d < DIMS; d++) {
      u[d] = (float) (scale * (0.01 * Math.sin(d / 50.0) + 0.01 * r.nextGaussian()));
    }
    return u;
  }

  private static void submit(int i, RoundSpec round, ClientCertificates.Authority ca,
      Map<String, X509Certificate> partyCerts, Map<String, String> endpoints,
      Map<String, long[]> accepted, Map<String, FederatedClient.Receipt> receipts,
      AtomicInteger clipped) throws Exception {
    String id = "client-" + i;
    float[] u = update(i);
    double sq = 0;
    for (float x : u) {
      sq += (double) x * x;
    }
    FederatedClient client = FederatedClient.create(ClientCertificates.issue(ca, id), partyCerts,
        endpoints);
    receipts.put(id, client.submit(round, u));
    accepted.put(id, Quantiser.quantise(round, u));
    if (Math.sqrt(sq) > CLIP_NORM) {
      clipped.incrementAndGet();
    }
  }

  /** Wait for a party's ready file; exit 1 with its outcome if the parties end first. */
  private static void awaitReady(Path ready, CompletableFuture<List<LocalParties.Outcome>> parties)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!Files.exists(ready)) {
      if (parties.isDone() || System.nanoTime() > deadline) {
        System.err.println("the aggregation parties did not open the round:");
        if (parties.isDone()) {
          parties.get().forEach(System.err::println);
        }
        System.exit(1);
      }
      Thread.sleep(200);
    }
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var files = Files.walk(dir)) {
      for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }
}
