package org.sparkmpc.connectors.federated;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When a round closes (deadline, quorum), what is refused after, and a restarted endpoint. */
class FederatedRoundTest {

  @TempDir
  Path dir;

  private final Random random = new Random(3);

  private static List<String> ids(UploadEndpoint.Closed closed) {
    return closed.accepted().stream().map(UploadStore.Entry::clientId).toList();
  }

  @Test
  void theDeadlineClosesARoundWithClientsMissing() throws Exception {
    try (FederatedParties p = new FederatedParties(dir, 2, Duration.ofSeconds(5))) {
      RoundSpec spec = RoundSpec.of("deadline", 5, 1.0, 16, 10, p.names);
      Instant deadline = Instant.now().plusMillis(2500);
      p.open(spec, 5, deadline);
      for (String id : List.of("c1", "c2", "c3")) {
        p.client(id).submit(spec, FederatedParties.update(random, spec, 1));
      }
      for (UploadEndpoint e : p.endpoints) {
        UploadEndpoint.Closed closed = e.awaitClose();
        assertFalse(closed.quorumReached());
        assertEquals(List.of("c1", "c2", "c3"), ids(closed));
      }
      assertFalse(Instant.now().isBefore(deadline), "awaitClose returned at the deadline, not before");
      FederatedUploadException late = assertThrows(FederatedUploadException.class,
          () -> p.client("c4").submit(spec, FederatedParties.update(random, spec, 1)));
      assertTrue(late.refused() && late.getMessage().contains("round closed"), late.getMessage());
      assertEquals(3, UploadStore.list(p.roundDirs.get(0)).size());
    }
  }

  @Test
  void theQuorumClosesARoundEarly() throws Exception {
    try (FederatedParties p = new FederatedParties(dir, 3, Duration.ofSeconds(5))) {
      RoundSpec spec = RoundSpec.of("quorum", 5, 1.0, 16, 10, p.names);
      Instant deadline = Instant.now().plusSeconds(120);
      p.open(spec, 3, deadline);
      for (String id : List.of("a", "b", "c")) {
        p.client(id).submit(spec, FederatedParties.update(random, spec, 1));
      }
      for (UploadEndpoint e : p.endpoints) {
        UploadEndpoint.Closed closed = e.awaitClose();
        assertTrue(closed.quorumReached());
        assertEquals(List.of("a", "b", "c"), ids(closed));
      }
      assertTrue(Instant.now().isBefore(deadline.minusSeconds(60)));
      FederatedUploadException late = assertThrows(FederatedUploadException.class,
          () -> p.client("d").submit(spec, FederatedParties.update(random, spec, 1)));
      assertTrue(late.getMessage().contains("round closed"), late.getMessage());
      for (Path d : p.roundDirs) {
        assertEquals(3, UploadStore.list(d).size());
      }
    }
  }

  /** A restarted endpoint reopens the round: stored clients are still duplicates, temp files go. */
  @Test
  void aRestartedEndpointStillRefusesAcceptedClients() throws Exception {
    try (FederatedParties p = new FederatedParties(dir, 2, Duration.ofSeconds(5))) {
      RoundSpec spec = RoundSpec.of("restart", 5, 1.0, 16, 10, p.names);
      Instant deadline = Instant.now().plusSeconds(120);
      p.open(spec, 10, deadline);
      for (String id : List.of("x", "y")) {
        p.client(id).submit(spec, FederatedParties.update(random, spec, 1));
      }
      for (int i = 0; i < 2; i++) {
        p.endpoints.get(i).close();
        Files.write(p.roundDirs.get(i).resolve(UploadStore.fileName("half") + ".tmp"), new byte[] {1, 2, 3});
        UploadEndpoint restarted = p.startEndpoint(i);
        p.endpoints.set(i, restarted);
        restarted.open(spec, i, p.roundDirs.get(i), 10, deadline);
        assertFalse(Files.exists(p.roundDirs.get(i).resolve(UploadStore.fileName("half") + ".tmp")));
      }
      FederatedUploadException again = assertThrows(FederatedUploadException.class,
          () -> p.client("x").submit(spec, FederatedParties.update(random, spec, 1)));
      assertTrue(again.getMessage().contains("already submitted"), again.getMessage());
      p.client("z").submit(spec, FederatedParties.update(random, spec, 1));
      for (Path d : p.roundDirs) {
        assertEquals(List.of("x", "y", "z"), UploadStore.list(d).stream().map(UploadStore.Entry::clientId).toList());
      }
    }
  }

  /** A round directory holding another round's uploads is not reopened under a different spec. */
  @Test
  void reopeningWithAnotherSpecIsRefused() throws Exception {
    try (FederatedParties p = new FederatedParties(dir, 2, Duration.ofSeconds(5))) {
      RoundSpec spec = RoundSpec.of("first", 5, 1.0, 16, 10, p.names);
      p.open(spec, 1, Instant.now().plusSeconds(120));
      p.client("only").submit(spec, FederatedParties.update(random, spec, 1));
      p.endpoints.get(0).awaitClose();
      RoundSpec other = RoundSpec.of("first", 5, 1.0, 15, 10, p.names);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> p.endpoints.get(0).open(other, 0, p.roundDirs.get(0), 1, Instant.now().plusSeconds(60)));
      assertTrue(e.getMessage().contains("another round"), e.getMessage());
    }
  }

  /** A stored file that is truncated, renamed or checked against another spec fails, naming the file. */
  @Test
  void addIntoRefusesDamagedFilesNamingThem() throws Exception {
    try (FederatedParties p = new FederatedParties(dir, 2, Duration.ofSeconds(5))) {
      RoundSpec spec = RoundSpec.of("damage", 6, 1.0, 16, 10, p.names);
      p.open(spec, 1, Instant.now().plusSeconds(120));
      p.client("victim").submit(spec, FederatedParties.update(random, spec, 1));
      int fp = spec.fullParty("victim");
      UploadStore.Entry entry = UploadStore.list(p.roundDirs.get(fp)).get(0);
      byte[] bytes = Files.readAllBytes(entry.path());
      Path copy = Files.createDirectories(dir.resolve("damaged")).resolve(entry.path().getFileName());
      Files.write(copy, java.util.Arrays.copyOf(bytes, bytes.length - 1));
      IllegalArgumentException truncated = assertThrows(IllegalArgumentException.class,
          () -> UploadStore.addInto(copy, spec, fp, new long[6]));
      assertTrue(truncated.getMessage().contains(copy.toString()) && truncated.getMessage().contains("truncated"),
          truncated.getMessage());
      IllegalArgumentException listed = assertThrows(IllegalArgumentException.class,
          () -> UploadStore.list(copy.getParent()));
      assertTrue(listed.getMessage().contains(copy.toString()), listed.getMessage());
      Path renamed = dir.resolve("damaged").resolve(UploadStore.fileName("someone-else"));
      Files.move(copy, renamed);
      Files.write(renamed, bytes);
      assertThrows(IllegalArgumentException.class, () -> UploadStore.addInto(renamed, spec, fp, new long[6]));
      RoundSpec other = RoundSpec.of("damage", 6, 1.0, 15, 10, p.names);
      IllegalArgumentException wrongSpec = assertThrows(IllegalArgumentException.class,
          () -> UploadStore.addInto(entry.path(), other, fp, new long[6]));
      assertTrue(wrongSpec.getMessage().contains(entry.file()), wrongSpec.getMessage());
      // entries are serialisable, for Spark to ship
      java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
      try (java.io.ObjectOutputStream o = new java.io.ObjectOutputStream(b)) {
        o.writeObject(entry);
      }
      try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
          new java.io.ByteArrayInputStream(b.toByteArray()))) {
        assertEquals(entry, in.readObject());
      }
    }
  }

  @Test
  void openChecksThePartyAndTheQuorum() throws IOException {
    try (FederatedParties p = new FederatedParties(dir, 2, Duration.ofSeconds(5))) {
      RoundSpec spec = RoundSpec.of("checks", 5, 1.0, 16, 10, p.names);
      UploadEndpoint alpha = p.endpoints.get(0);
      assertThrows(IllegalArgumentException.class,
          () -> alpha.open(spec, 1, p.roundDirs.get(0), 2, Instant.now().plusSeconds(5)));
      assertThrows(IllegalArgumentException.class,
          () -> alpha.open(spec, 0, p.roundDirs.get(0), 11, Instant.now().plusSeconds(5)));
      alpha.open(spec, 0, p.roundDirs.get(0), 2, Instant.now().plusSeconds(5));
      assertThrows(IllegalStateException.class,
          () -> alpha.open(spec, 0, p.roundDirs.get(0), 2, Instant.now().plusSeconds(5)));
    }
  }
}
