package org.sparkmpc.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.connectors.federated.ClientCertificates;
import org.sparkmpc.connectors.federated.FederatedClient;
import org.sparkmpc.connectors.federated.FederatedUploadException;
import org.sparkmpc.connectors.federated.Quantiser;
import org.sparkmpc.connectors.federated.RoundSpec;
import org.sparkmpc.net.PartyCredentials;

/**
 * Federated secure aggregation end to end: three aggregation parties, each its own JVM running the
 * runner's {@code job=federated}, and clients in this JVM. The opened mean equals the plaintext
 * mean of the included clients' quantised updates exactly; clients that never submit do not stall
 * the round (it closes at its deadline); a client that submits twice is refused and counted once;
 * a client whose upload reached only some parties is left out at every party; too few clients is
 * refused at every party with nothing opened.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FederatedJobTest {
  static final List<String> PARTIES = List.of("agg1", "agg2", "agg3");
  static final int DIMS = 500;
  static final int CLIENTS = 25;

  Path work;
  Path keys;
  ClientCertificates.Authority ca;
  Map<String, X509Certificate> partyCerts;
  RoundSpec spec;
  final Map<String, float[]> updates = new LinkedHashMap<>();
  List<LocalParties.Outcome> outs;
  String duplicate;
  FederatedUploadException partialFailure;
  List<LocalParties.Outcome> tooFew;

  @BeforeAll
  void run(@TempDir Path dir) throws Exception {
    work = dir;
    keys = LocalParties.keys(dir.resolve("keys"), PARTIES);
    partyCerts = PartyCredentials.readTrustBundle(keys.resolve("trust.pem"));
    ca = ClientCertificates.createAuthority("clients-ca", dir.resolve("ca"));
    spec = RoundSpec.of("round-1", DIMS, 1.0, 16, 40, PARTIES);
    outs = round(dir.resolve("r1"), "round-1", 40, 3, 20, (endpoints, ready) -> {
      Random rnd = new Random(11);
      for (int c = 0; c < CLIENTS; c++) {
        float[] u = new float[DIMS];
        for (int i = 0; i < DIMS; i++) {
          // every fifth client above the norm bound, so clipping matters
          u[i] = (float) ((rnd.nextDouble() - 0.5) * (c % 5 == 0 ? 0.5 : 0.01));
        }
        String id = "client-" + c;
        updates.put(id, u);
        assertTrue(client(id, endpoints).submit(spec, u).accepted(), id);
      }
      // The same client again: refused, its first submission kept.
      FederatedUploadException again = assertThrows(FederatedUploadException.class,
          () -> client("client-3", endpoints).submit(spec, updates.get("client-3")));
      duplicate = again.getMessage();
      // A client whose third upload never arrives: the others hold its shares.
      Map<String, String> broken = new LinkedHashMap<>(endpoints);
      broken.put("agg3", "127.0.0.1:" + LocalParties.freePorts(1)[0]);
      partialFailure = assertThrows(FederatedUploadException.class,
          () -> client("partial", broken).submit(spec, updates.get("client-1")));
      // Ten more clients were enrolled and never submit: the round closes at its deadline.
    });
    tooFew = round(dir.resolve("r2"), "round-2", 40, 3, 8, (endpoints, ready) -> {
      float[] u = new float[DIMS];
      client("only-one", endpoints).submit(RoundSpec.of("round-2", DIMS, 1.0, 16, 40, PARTIES),
          u);
    });
  }

  private FederatedClient client(String id, Map<String, String> endpoints) {
    return FederatedClient.create(ClientCertificates.issue(ca, id), partyCerts, endpoints);
  }

  /** Run the parties' round and, once every party accepts uploads, {@code clients}. */
  private List<LocalParties.Outcome> round(Path run, String roundId, int quorum, int minClients,
      int timeoutSeconds, ThrowingClients clients) throws Exception {
    int[] ports = LocalParties.freePorts(PARTIES.size());
    Map<String, String> endpoints = new LinkedHashMap<>();
    List<Path> ready = new ArrayList<>();
    for (int i = 0; i < PARTIES.size(); i++) {
      endpoints.put(PARTIES.get(i), "127.0.0.1:" + ports[i]);
      ready.add(run.resolve(PARTIES.get(i) + "-ready"));
    }
    BiConsumer<Integer, Properties> configure = (i, p) -> {
      p.setProperty("job", "federated");
      p.setProperty("federated.round", roundId);
      p.setProperty("federated.dims", String.valueOf(DIMS));
      p.setProperty("federated.clipNorm", "1.0");
      p.setProperty("federated.maxClients", "40");
      p.setProperty("federated.quorum", String.valueOf(quorum));
      p.setProperty("federated.timeout", String.valueOf(timeoutSeconds));
      p.setProperty("federated.minClients", String.valueOf(minClients));
      p.setProperty("federated.revealTo", "agg1");
      p.setProperty("federated.readyFile", ready.get(i).toString());
      p.setProperty("spark.mpc.federated.port", String.valueOf(ports[i]));
      p.setProperty("spark.mpc.federated.clientCa", work.resolve("ca/clients-ca.crt.pem")
          .toString());
      p.setProperty("spark.mpc.federated.dir", run.resolve(PARTIES.get(i) + "-uploads")
          .toString());
    };
    CompletableFuture<List<LocalParties.Outcome>> parties = CompletableFuture.supplyAsync(
        () -> Scenarios.runRunner(run, PARTIES, keys, configure));
    long end = System.nanoTime() + 120_000_000_000L;
    while (!ready.stream().allMatch(Files::exists) && !parties.isDone()
        && System.nanoTime() < end) {
      Thread.sleep(100);
    }
    assertTrue(ready.stream().allMatch(Files::exists), "every party opened the round");
    clients.run(endpoints, ready);
    return parties.get();
  }

  interface ThrowingClients {
    void run(Map<String, String> endpoints, List<Path> ready) throws Exception;
  }

  @Test
  void theOpenedMeanIsExactlyThePlaintextMeanOfTheIncludedClients() throws Exception {
    outs.forEach(o -> assertEquals(0, o.exitCode(), o.toString()));
    List<String> clients = Files.readAllLines(work.resolve("r1/agg1/result/clients.txt"));
    List<String> expected = new ArrayList<>(updates.keySet());
    expected.sort(null);
    assertEquals(expected, clients, "every client that reached all three parties, once");
    long[] sum = new long[DIMS];
    for (float[] u : updates.values()) {
      long[] q = Quantiser.quantise(spec, u);
      for (int i = 0; i < DIMS; i++) {
        sum[i] += q[i];
      }
    }
    List<String> lines = Files.readAllLines(work.resolve("r1/agg1/result/mean.csv"));
    assertEquals(DIMS + 1, lines.size());
    double div = CLIENTS * Math.pow(2, 16);
    for (int i = 0; i < DIMS; i++) {
      assertEquals(sum[i] / div, Double.parseDouble(lines.get(i + 1).split(",")[1]), 0.0,
          "dimension " + i);
    }
  }

  @Test
  void onlyTheNamedPartyLearnsTheMeanAndNoPartyStoredAPlainUpdate() throws Exception {
    for (String p : List.of("agg2", "agg3")) {
      assertFalse(Files.exists(work.resolve("r1/" + p + "/result/mean.csv")), p);
    }
    // Each party's stored shares alone are not the update: no stored file holds client-5's
    // quantised update as little-endian 32-bit words.
    long[] q = Quantiser.quantise(spec, updates.get("client-5"));
    byte[] plain = new byte[4 * 8];
    java.nio.ByteBuffer.wrap(plain).order(java.nio.ByteOrder.LITTLE_ENDIAN).asIntBuffer()
        .put(new int[] {(int) q[0], (int) q[1], (int) q[2], (int) q[3], (int) q[4], (int) q[5],
            (int) q[6], (int) q[7]});
    for (String p : PARTIES) {
      try (var files = Files.walk(work.resolve("r1/" + p + "-uploads"))) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          byte[] b = Files.readAllBytes(f);
          assertEquals(-1, indexOf(b, plain), f.toString());
        }
      }
    }
  }

  @Test
  void aSecondSubmissionIsRefusedAndAPartialOneIsLeftOutEverywhere() throws Exception {
    assertTrue(duplicate.contains("already submitted"), duplicate);
    assertTrue(partialFailure.getMessage().contains("agg3"), partialFailure.getMessage());
    String log = outs.get(0).stdout();
    assertTrue(log.contains(CLIENTS + " clients included, 1 accepted here left out"), log);
    assertTrue(outs.get(2).stdout().contains(CLIENTS + " clients included, 0 accepted here"),
        outs.get(2).stdout());
  }

  @Test
  void tooFewClientsIsRefusedAtEveryPartyAndNothingIsOpened() {
    for (LocalParties.Outcome o : tooFew) {
      assertEquals(1, o.exitCode(), o.toString());
      assertTrue(o.stderr().contains("only 1 clients reached every party") || o.stdout()
          .contains("only 1 clients reached every party"), o.toString());
      assertFalse(Files.exists(work.resolve("r2/" + o.party() + "/result/mean.csv")));
    }
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
