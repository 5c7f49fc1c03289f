package org.sparkmpc.correlation.ot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** IKNP extension: bit transpose, and the random-OT relation of the hashed rows. */
class IknpTest {

  @Test
  void transpose64MatchesNaiveTranspose() {
    SplittableRandom r = new SplittableRandom(3);
    long[] a = new long[64];
    for (int i = 0; i < 64; i++) {
      a[i] = r.nextLong();
    }
    long[] t = a.clone();
    org.sparkmpc.ring.BitSlice.transpose64(t);
    for (int i = 0; i < 64; i++) {
      for (int j = 0; j < 64; j++) {
        assertEquals((a[i] >>> j) & 1, (t[j] >>> i) & 1, i + "," + j);
      }
    }
  }

  @Test
  void columnsToRowsMatchesNaive() {
    SplittableRandom r = new SplittableRandom(4);
    int words = 3;
    long[] cols = new long[128 * words];
    for (int i = 0; i < cols.length; i++) {
      cols[i] = r.nextLong();
    }
    long[] rows = new long[128 * words];
    Iknp.transpose(cols, words, rows);
    for (int row = 0; row < 64 * words; row++) {
      for (int col = 0; col < 128; col++) {
        long bit = (cols[col * words + row / 64] >>> (row % 64)) & 1;
        long got = (rows[2 * row + col / 64] >>> (col % 64)) & 1;
        assertEquals(bit, got, row + "," + col);
      }
    }
  }

  @Test
  void extendedOtsGiveTheChosenPads() {
    SecureRandom random = new SecureRandom();
    byte[] ctx = "t".getBytes(StandardCharsets.UTF_8);
    boolean[] s = new boolean[128];
    for (int i = 0; i < 128; i++) {
      s[i] = random.nextBoolean();
    }
    BaseOt.Sender bs = new BaseOt.Sender(random, ctx);
    BaseOt.Receiver br = new BaseOt.Receiver(random, ctx, s);
    byte[] reply = br.reply(bs.firstMessage(), "a");
    Iknp.Receiver receiver = new Iknp.Receiver(bs.keys(reply, "b"), ctx);
    Iknp.Sender sender = new Iknp.Sender(s, br.keys(), ctx);

    int words = 20;
    int m = 64 * words;
    long[] choices = new long[words];
    for (int i = 0; i < words; i++) {
      choices[i] = random.nextLong();
    }
    long[] tRows = new long[2 * m];
    long[] u = receiver.extend(choices, "batch", tRows);
    long[] qRows = sender.rows(u, words, "batch");
    long tag = Iknp.tag("batch");
    long[] h0 = new long[m];
    long[] h1 = new long[m];
    long[] h = new long[m];
    Iknp.hash(qRows, m, tag, null, h0);
    Iknp.hash(qRows, m, tag, sender.delta(), h1);
    Iknp.hash(tRows, m, tag, null, h);
    for (int i = 0; i < m; i++) {
      boolean c = ((choices[i / 64] >>> (i % 64)) & 1) == 1;
      assertEquals(c ? h1[i] : h0[i], h[i], "OT " + i);
      assertNotEquals(c ? h0[i] : h1[i], h[i], "OT " + i);
    }
    long[] again = new long[2 * m];
    assertArrayEquals(u, receiver.extend(choices, "batch", again));
    long[] other = new long[2 * m];
    assertNotEquals(u[0], receiver.extend(choices, "batch2", other)[0]);
  }
}
