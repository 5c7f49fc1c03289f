package org.sparkmpc.correlation.ot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.sparkmpc.net.ProtocolException;

/** Chou–Orlandi base OT: the receiver gets exactly its chosen messages. */
class BaseOtTest {
  private static final byte[] CONTEXT = "test/base".getBytes(StandardCharsets.UTF_8);

  @Test
  void receiverGetsExactlyTheChosenMessages() {
    SecureRandom random = new SecureRandom();
    boolean[] choices = new boolean[BaseOt.COUNT];
    for (int i = 0; i < choices.length; i++) {
      choices[i] = random.nextBoolean();
    }
    BaseOt.Sender sender = new BaseOt.Sender(random, CONTEXT);
    BaseOt.Receiver receiver = new BaseOt.Receiver(random, CONTEXT, choices);
    byte[] reply = receiver.reply(sender.firstMessage(), "sender");
    byte[][][] pairs = sender.keys(reply, "receiver");
    byte[][] got = receiver.keys();
    for (int i = 0; i < BaseOt.COUNT; i++) {
      int c = choices[i] ? 1 : 0;
      assertEquals16(pairs[i][c], got[i]);
      assertFalse(Arrays.equals(pairs[i][1 - c], got[i]), "OT " + i + " gave the other message");
      assertFalse(Arrays.equals(pairs[i][0], pairs[i][1]));
    }
  }

  @Test
  void anotherContextGivesOtherKeys() {
    SecureRandom random = new SecureRandom();
    boolean[] choices = new boolean[BaseOt.COUNT];
    BaseOt.Sender sender = new BaseOt.Sender(random, CONTEXT);
    BaseOt.Receiver receiver = new BaseOt.Receiver(random, "other".getBytes(StandardCharsets.UTF_8),
        choices);
    byte[][][] pairs = sender.keys(receiver.reply(sender.firstMessage(), "s"), "r");
    assertFalse(Arrays.equals(pairs[0][0], receiver.keys()[0]));
  }

  @Test
  void invalidPointsAreRefusedNamingThePeer() {
    SecureRandom random = new SecureRandom();
    BaseOt.Receiver receiver = new BaseOt.Receiver(random, CONTEXT, new boolean[BaseOt.COUNT]);
    byte[] bad = new byte[BaseOt.POINT_BYTES];
    bad[0] = 2;
    Arrays.fill(bad, 1, bad.length, (byte) 0xFF); // x >= p: not a field element
    ProtocolException e =
        assertThrows(ProtocolException.class, () -> receiver.reply(bad, "mallory"));
    assertTrue(e.getMessage().contains("mallory"), e.getMessage());
    assertThrows(ProtocolException.class, () -> receiver.reply(new byte[5], "mallory"));
    byte[] infinity = new byte[BaseOt.POINT_BYTES]; // all zero: not a valid compressed point
    assertThrows(ProtocolException.class, () -> receiver.reply(infinity, "mallory"));

    BaseOt.Sender sender = new BaseOt.Sender(random, CONTEXT);
    byte[] reply = new byte[BaseOt.COUNT * BaseOt.POINT_BYTES];
    ProtocolException e2 = assertThrows(ProtocolException.class, () -> sender.keys(reply, "eve"));
    assertTrue(e2.getMessage().contains("eve"), e2.getMessage());
  }

  private static void assertEquals16(byte[] expected, byte[] actual) {
    assertTrue(expected.length == 16 && actual.length == 16);
    assertArrayEquals(expected, actual);
  }
}
