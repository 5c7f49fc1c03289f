package org.sparkmpc.spark;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.sparkmpc.crypto.PairwiseKeys;
import org.sparkmpc.net.Gateway;
import org.sparkmpc.net.GatewayConfig;
import org.sparkmpc.net.KeyGen;
import org.sparkmpc.net.PartyDirectory;

/**
 * An executor's sessions end with the session: once the party's gateway has ended a session, the
 * executor drops it and its pairwise keys are overwritten. No Spark here: the tickets are given
 * directly, as a task would bring them.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ExecutorSessionTest {

  @TempDir
  static Path keys;

  private static Gateway gateway;

  @BeforeAll
  static void start() {
    KeyGen.generateDemo(List.of("a", "b"), keys);
    ExecutorSession.sweepInterval = Duration.ofMillis(200);
    PartyDirectory dir = PartyDirectory.parse("a=127.0.0.1:0,b=127.0.0.1:1", "a");
    gateway = Gateway.start(GatewayConfig.defaults(dir, keys).withTimeout(Duration.ofSeconds(5)));
  }

  @AfterAll
  static void stop() {
    ExecutorSession.sweepInterval = ExecutorSession.SWEEP_INTERVAL;
    if (gateway != null) {
      gateway.close();
    }
  }

  /** A ticket of party a for {@code session}, for executors reaching the gateway above. */
  private static String ticket(String session) {
    byte[][] k = new byte[2][];
    k[1] = new byte[32];
    java.util.Arrays.fill(k[1], (byte) 0x5a);
    PartyDirectory dir = PartyDirectory.parse("a=127.0.0.1:" + gateway.port() + ",b=127.0.0.1:1", "a");
    return SessionTicket.write(dir, 2, session, PairwiseKeys.of(0, k), KeyGen.keyFile(keys, "a"),
        KeyGen.certFile(keys, "a"), KeyGen.trustFile(keys), "127.0.0.1", gateway.port(),
        Duration.ofSeconds(5), "auto");
  }

  private static void assertWiped(PairwiseKeys k) {
    assertTrue(k.isDestroyed(), "the session's keys were not destroyed");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> k.seedWith(1, "op1/p0"));
    assertTrue(e.getMessage().contains("session ended"), e.getMessage());
  }

  @Test
  void aSessionsKeysAreWipedAndDroppedOnceTheGatewaySaysItEnded() {
    String sid = "exec-s1";
    String ticket = ticket(sid);
    ExecutorSession s = ExecutorSession.of(sid, ticket);
    assertSame(s, ExecutorSession.of(sid, ticket), "one session per JVM");
    PairwiseKeys k = s.keys();
    assertNotNull(k.seedWith(1, "op1/p0"));
    ExecutorSession.sweep(null);
    assertTrue(ExecutorSession.isOpen(sid), "a session that has not ended stays open");
    assertFalse(k.isDestroyed());

    gateway.endSession(sid); // what MpcRuntime.close does, at the driver
    ExecutorSession.sweep(null);
    assertFalse(ExecutorSession.isOpen(sid));
    assertWiped(k);
    // A task left over with the ended session's ticket does not open it again.
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> ExecutorSession.of(sid, ticket));
    assertTrue(e.getMessage().contains("has ended") && e.getMessage().contains(sid), e.getMessage());
    assertFalse(ExecutorSession.isOpen(sid));
  }

  @Test
  void openingAnotherSessionFirstDropsTheOnesThatEnded() {
    PairwiseKeys k = ExecutorSession.of("exec-s2", ticket("exec-s2")).keys();
    gateway.endSession("exec-s2");
    ExecutorSession next = ExecutorSession.of("exec-s3", ticket("exec-s3"));
    assertFalse(ExecutorSession.isOpen("exec-s2"));
    assertWiped(k);
    assertTrue(ExecutorSession.isOpen("exec-s3"));
    assertFalse(next.keys().isDestroyed());
    gateway.endSession("exec-s3");
  }

  @Test
  void theSweeperDropsAnEndedSessionOnItsOwn() throws InterruptedException {
    PairwiseKeys k = ExecutorSession.of("exec-s4", ticket("exec-s4")).keys();
    gateway.endSession("exec-s4");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    // The sweeper thread removes the session, then wipes its keys: wait for both.
    while ((ExecutorSession.isOpen("exec-s4") || !k.isDestroyed())
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertFalse(ExecutorSession.isOpen("exec-s4"), "the sweeper did not drop the ended session");
    assertWiped(k);
  }

  @Test
  void theDriverClosingASessionDropsItInItsOwnJvm() {
    PairwiseKeys k = ExecutorSession.of("exec-s5", ticket("exec-s5")).keys();
    ExecutorSession.drop("exec-s5", "the driver closed it");
    assertFalse(ExecutorSession.isOpen("exec-s5"));
    assertWiped(k);
    assertFalse(gateway.isSessionEnded("exec-s5"), "dropping locally does not end it at the gateway");
    gateway.endSession("exec-s5");
  }
}
