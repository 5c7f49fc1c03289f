package org.sparkmpc.connectors.federated;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every malformed, duplicate, unauthenticated or late upload is refused, nothing of it is stored, and
 * the other clients' submissions stay intact: after each case the stored shares still add up to
 * exactly the sum of the good clients' updates.
 */
class FederatedRefusalTest {

  @TempDir
  Path dir;

  private FederatedParties p;
  private RoundSpec spec;
  private final Random random = new Random(11);
  private final long[] expected = new long[9];
  private final Set<String> good = new TreeSet<>();

  @BeforeEach
  void openRound() throws IOException {
    p = new FederatedParties(dir, 2, Duration.ofSeconds(1));
    spec = RoundSpec.of("refusals", 9, 1.0, 16, 50, p.names);
    p.open(spec, 50, Instant.now().plusSeconds(120));
    for (int c = 0; c < 3; c++) {
      submitGood("good-" + c);
    }
  }

  @AfterEach
  void closeParties() {
    p.close();
  }

  private FederatedClient.Receipt submitGood(String id) throws IOException {
    float[] u = FederatedParties.update(random, spec, good.size());
    FederatedClient.Receipt receipt = p.client(id).submit(spec, u);
    add(u);
    good.add(id);
    return receipt;
  }

  private void add(float[] u) {
    long[] q = Quantiser.quantise(spec, u);
    for (int k = 0; k < q.length; k++) {
      expected[k] += q[k];
    }
  }

  /** The good submissions are intact and nothing else is stored. */
  private void assertOnlyGoodStored() {
    assertEquals(good, p.completeClients());
    for (Path d : p.roundDirs) {
      assertEquals(good.size(), UploadStore.list(d).size(), "nothing else stored at " + d);
    }
    p.assertTotal(spec, good, expected);
  }

  private boolean storedAt(int party, String clientId) {
    return Files.exists(p.roundDirs.get(party).resolve(UploadStore.fileName(clientId)));
  }

  @Test
  void aSecondSubmissionOfAClientIsRefusedAndTheFirstKept() throws IOException {
    FederatedClient client = p.client("good-0"); // a new certificate, the same client id
    FederatedUploadException e = assertThrows(FederatedUploadException.class,
        () -> client.submit(spec, FederatedParties.update(random, spec, 1)));
    assertTrue(e.refused());
    assertTrue(e.getMessage().contains("already submitted"), e.getMessage());
    assertTrue(e.getMessage().contains("party '"), e.getMessage());
    assertFalse(e.receipt().accepted());
    assertOnlyGoodStored();
  }

  @Test
  void aReplayOfTheSameBytesIsRefused() throws IOException {
    ClientCertificates.ClientIdentity id = ClientCertificates.issue(p.ca, "replayer");
    float[] u = FederatedParties.update(random, spec, 2);
    byte[][] uploads = FederatedParties.craft(spec, "replayer", u);
    for (int i = 0; i < 2; i++) {
      assertTrue(p.send(id, i, uploads[i]).accepted());
    }
    add(u);
    good.add("replayer");
    for (int i = 0; i < 2; i++) {
      FederatedParties.assertRefused(p.send(id, i, uploads[i]), "already submitted");
    }
    assertOnlyGoodStored();
  }

  /** Header fields that cannot be right for the open round, each refused before its payload is read. */
  @Test
  void malformedHeadersAreRefused() throws IOException {
    ClientCertificates.ClientIdentity id = ClientCertificates.issue(p.ca, "tamperer");
    float[] u = FederatedParties.update(random, spec, 2);
    int fp = spec.fullParty("tamperer");
    byte[] valid = FederatedParties.craft(spec, "tamperer", u)[fp];
    // offsets: magic 0, version 4, digest 5, roundId length 37, roundId 39.., then party, role, nonce, dims, width
    int afterId = 39 + spec.roundId().length();
    FederatedParties.assertRefused(p.send(id, fp, with(valid, 0, 'X')), "bad magic");
    FederatedParties.assertRefused(p.send(id, fp, with(valid, 4, 2)), "version");
    byte[] otherDigest = RoundSpec.of("refusals", 9, 1.0, 17, 50, p.names).digest();
    byte[] b = valid.clone();
    System.arraycopy(otherDigest, 0, b, 5, 32);
    FederatedParties.assertRefused(p.send(id, fp, b), "spec digest");
    FederatedParties.assertRefused(p.send(id, fp, with(valid, 39, 'X')), "is not open");
    FederatedParties.assertRefused(p.send(id, fp, with(valid, afterId, 1 - fp)), "reached party");
    FederatedParties.assertRefused(p.send(id, fp, with(valid, afterId + 1, ShareRole.SEED.code())), "role");
    FederatedParties.assertRefused(p.send(id, fp, withInt(valid, afterId + 18, 10)), "dims 10");
    FederatedParties.assertRefused(p.send(id, fp, withInt(valid, afterId + 18, 50_000_000)), "dims 50000000");
    FederatedParties.assertRefused(p.send(id, fp, with(valid, afterId + 22, 8)), "width 8");
    FederatedParties.assertRefused(p.send(id, fp, Arrays.copyOf(valid, valid.length + 100)), "after the declared");
    assertFalse(storedAt(fp, "tamperer"));
    assertOnlyGoodStored();
    // then the same client submits properly
    submitGood("tamperer");
    assertOnlyGoodStored();
  }

  /** A client that disconnects mid-payload leaves nothing and may then submit properly. */
  @Test
  void aTruncatedUploadLeavesNothing() throws Exception {
    ClientCertificates.ClientIdentity id = ClientCertificates.issue(p.ca, "cut-off");
    int fp = spec.fullParty("cut-off");
    byte[] valid = FederatedParties.craft(spec, "cut-off", FederatedParties.update(random, spec, 2))[fp];
    try (SSLSocket s = p.connect(id, fp)) {
      OutputStream out = s.getOutputStream();
      out.write(valid, 0, valid.length - 7);
      out.flush();
    }
    waitUntilNoTempFiles(p.roundDirs.get(fp));
    assertFalse(storedAt(fp, "cut-off"));
    assertOnlyGoodStored();
    submitGood("cut-off");
    assertOnlyGoodStored();
  }

  @Test
  void aCertificateFromAnotherCaIsRefusedByTls() throws IOException {
    ClientCertificates.Authority rogue = ClientCertificates.createAuthority("rogue-ca");
    FederatedClient client = p.client(ClientCertificates.issue(rogue, "intruder"));
    FederatedUploadException e = assertThrows(FederatedUploadException.class,
        () -> client.submit(spec, FederatedParties.update(random, spec, 1)));
    assertFalse(e.refused(), "TLS refuses, not the upload check");
    assertTrue(e.receipt().parties().stream().noneMatch(FederatedClient.PartyStatus::accepted));
    assertFalse(storedAt(0, "intruder") || storedAt(1, "intruder"));
    assertOnlyGoodStored();
  }

  /** A client that connects and sends nothing times out; others submit meanwhile. */
  @Test
  void aSilentClientTimesOutWhileOthersGoOn() throws Exception {
    ClientCertificates.ClientIdentity id = ClientCertificates.issue(p.ca, "silent");
    try (SSLSocket s = p.connect(id, 0)) {
      CompletableFuture<UploadWire.Reply> reply = CompletableFuture.supplyAsync(() -> {
        try {
          return UploadWire.readReply(new java.io.DataInputStream(s.getInputStream()));
        } catch (IOException e) {
          return new UploadWire.Reply(false, "connection ended: " + e.getMessage());
        }
      });
      submitGood("meanwhile");
      assertFalse(reply.isDone(), "the silent client is still waited for");
      UploadWire.Reply r = reply.get(10, TimeUnit.SECONDS);
      assertFalse(r.accepted());
    }
    assertFalse(storedAt(0, "silent"));
    assertOnlyGoodStored();
    submitGood("silent");
    assertOnlyGoodStored();
  }

  private static void waitUntilNoTempFiles(Path d) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      try (var files = Files.list(d)) {
        if (files.noneMatch(f -> f.toString().endsWith(".tmp"))) {
          return;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("a temporary file was left in " + d);
  }

  private static byte[] with(byte[] b, int offset, int value) {
    byte[] c = b.clone();
    c[offset] = (byte) value;
    return c;
  }

  private static byte[] withInt(byte[] b, int offset, int value) {
    byte[] c = b.clone();
    ByteBuffer.wrap(c).putInt(offset, value);
    return c;
  }
}
