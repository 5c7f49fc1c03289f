package org.sparkmpc.connectors.federated;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.sparkmpc.federated.SeedShares;

/** Clients submit through real TLS endpoints; the parties' stored shares add up to the exact sum. */
class FederatedUploadTest {

  @TempDir
  Path dir;

  /**
   * A few dozen clients with random updates (every third above the norm bound): the parties' sums of
   * their stored uploads add up, reduced, to the sum of the quantised updates; one party's sum alone
   * does not; every party holds the same nonce for a client; full vectors are spread over the parties.
   */
  @ParameterizedTest(name = "{0} parties, width {1}")
  @CsvSource({"2, 4", "2, 8", "3, 4", "3, 8"})
  void partySumsAddUpToTheSumOfQuantisedUpdates(int parties, int width) throws Exception {
    try (FederatedParties p = new FederatedParties(dir, parties, Duration.ofSeconds(10))) {
      double clipNorm = width == 4 ? 2.0 : 1e6;
      RoundSpec spec = RoundSpec.of("round-" + parties + "-" + width, 257, clipNorm, 16, 100, p.names);
      assertEquals(width, spec.width());
      int clients = 16;
      p.open(spec, clients, Instant.now().plusSeconds(60));
      Random r = new Random(parties * 10L + width);
      long[] expected = new long[spec.dims()];
      Map<String, String> nonces = new HashMap<>();
      int[] fullCount = new int[parties];
      for (int c = 0; c < clients; c++) {
        String id = "client-" + c + "@site";
        float[] u = FederatedParties.update(r, spec, c);
        long[] q = Quantiser.quantise(spec, u);
        for (int k = 0; k < q.length; k++) {
          expected[k] += q[k];
        }
        FederatedClient.Receipt receipt = p.client(id).submit(spec, u);
        assertTrue(receipt.accepted());
        nonces.put(id, receipt.nonce());
        fullCount[spec.fullParty(id)]++;
      }
      for (int i = 0; i < parties; i++) {
        UploadEndpoint.Closed closed = p.endpoints.get(i).awaitClose();
        assertTrue(closed.quorumReached());
        assertEquals(clients, closed.accepted().size());
        for (UploadStore.Entry e : closed.accepted()) {
          assertEquals(nonces.get(e.clientId()), e.nonce(), "same nonce at every party");
          assertEquals(spec.roleOf(e.clientId(), i), e.role());
        }
        assertEquals(closed.accepted(), UploadStore.list(p.roundDirs.get(i)));
      }
      for (int f : fullCount) {
        assertTrue(f > 0, "every party holds some full vectors: " + Arrays.toString(fullCount));
      }
      Set<String> all = new TreeSet<>(nonces.keySet());
      assertEquals(all, p.completeClients());
      p.assertTotal(spec, all, expected);
      long[] alone = p.partySum(spec, 0, all);
      SeedShares.reduce(alone, spec.width());
      assertFalse(Arrays.equals(expected, alone), "one party's sum alone is not the total");
    }
  }

  /**
   * Width 4 at its limit: 10 clients (the largest maxClients for which 4 bytes still hold the sum of
   * coordinates up to 12.7 * 2^24) whose clipped updates put two coordinate sums near +2^31 and -2^31,
   * so the shares wrap and the reduced sum needs its sign extension.
   */
  @ParameterizedTest(name = "{0} parties")
  @CsvSource({"2", "3"})
  void width4SumsNearTheLimitsAreExact(int parties) throws Exception {
    try (FederatedParties p = new FederatedParties(dir, parties, Duration.ofSeconds(10))) {
      RoundSpec spec = RoundSpec.of("near-limits", 4, 12.7, 24, 10, p.names);
      assertEquals(4, spec.width());
      assertEquals(8, RoundSpec.of("one-more", 4, 12.7, 24, 11, p.names).width());
      p.open(spec, 10, Instant.now().plusSeconds(60));
      long[] expected = new long[4];
      Random r = new Random(parties);
      for (int c = 0; c < 10; c++) {
        // all the norm on coordinates 0 and 1, with opposite signs: each is clipped to its bound share
        float[] u = {100f, -100f, 0f, (float) (r.nextGaussian() * 1e-3)};
        long[] q = Quantiser.quantise(spec, u);
        for (int k = 0; k < 4; k++) {
          expected[k] += q[k];
        }
        p.client("edge-" + c).submit(spec, u);
      }
      assertTrue(expected[0] > (1L << 30) && expected[1] < -(1L << 30), Arrays.toString(expected));
      Set<String> all = p.completeClients();
      assertEquals(10, all.size());
      p.assertTotal(spec, all, expected);
    }
  }

  /**
   * The cost of one submission of 100,000 float32 dimensions (width 4), TLS records and handshakes
   * included, is at most 1.05x the plaintext update's 400,000 bytes, with 2 and with 3 parties.
   */
  @ParameterizedTest(name = "{0} parties")
  @CsvSource({"2", "3"})
  void aSubmissionCostsAtMostFivePercentAboveThePlaintextUpdate(int parties) throws Exception {
    try (FederatedParties p = new FederatedParties(dir, parties, Duration.ofSeconds(10))) {
      RoundSpec spec = RoundSpec.of("bytes", 100_000, 1.0, 16, 1000, p.names);
      assertEquals(4, spec.width());
      p.open(spec, 10, Instant.now().plusSeconds(60));
      float[] u = FederatedParties.update(new Random(5), spec, 1);
      FederatedClient.Receipt receipt = p.client("bytes-client").submit(spec, u);
      long plain = 4L * spec.dims();
      System.out.printf("federated upload, %d parties, %d dims, width %d: %d bytes written (%.4fx the %d-byte "
          + "float32 update), %d bytes read; per party %s%n", parties, spec.dims(), spec.width(),
          receipt.bytesWritten(), receipt.bytesWritten() / (double) plain, plain, receipt.bytesRead(),
          receipt.parties().stream().map(s -> s.party() + "/" + s.role() + "=" + s.bytesWritten()).toList());
      assertTrue(receipt.bytesWritten() > plain, "the full vector was counted");
      assertTrue(receipt.bytesWritten() <= 1.05 * plain, receipt.bytesWritten() + " bytes");
      List<FederatedClient.PartyStatus> seeds = receipt.parties().stream()
          .filter(s -> s.role() == ShareRole.SEED).toList();
      assertEquals(parties - 1, seeds.size());
      for (FederatedClient.PartyStatus s : seeds) {
        assertTrue(s.bytesWritten() < 4096, "a seed upload is small: " + s.bytesWritten());
      }
    }
  }
}
