package org.sparkmpc.spark.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;
import org.sparkmpc.MpcInputException;

/** The manifest of a stored share table: its text round-trips, and any change to it is refused. */
class StoredManifestTest {
  static final byte[] KEY = new byte[32];
  static final byte[] OTHER_KEY = new byte[32];

  static {
    Arrays.fill(KEY, (byte) 7);
    Arrays.fill(OTHER_KEY, (byte) 8);
  }

  static StoredManifest manifest() {
    return new StoredManifest("00112233445566778899aabbccddeeff", "tx, v=1", 1_700_000_000_000L,
        "session-1", "t3", "bank1", List.of("bank1", "bank2"),
        List.of(new StoredManifest.Column("region", false, 0, 0, false, "1", 0, false,
                DataTypes.StringType, true),
            new StoredManifest.Column("amount", true, 0, 16, false, "1", 31, true, null, false)),
        List.of(new StoredManifest.Part(0, "part-00000.arrow", 3, 900, "ab".repeat(32)),
            new StoredManifest.Part(1, "part-00001.arrow", 2, 800, "cd".repeat(32))),
        // the saving party's policy rule of amount travels with its copy (read back equal)
        List.of(new StoredManifest.Rule("amount", "amount",
            new org.sparkmpc.connectors.policy.ColumnUsage(
                org.sparkmpc.connectors.policy.ColumnUsage.Reveal.AGGREGATES, 10,
                List.of("bank1"), List.of("bank1", "bank2")))));
  }

  @Test
  void aManifestReadsBackAsItWasWritten() {
    StoredManifest m = manifest();
    StoredManifest back = StoredManifest.verifyAndParse(m.render(KEY), KEY, "test");
    assertEquals(m, back);
    assertArrayEquals(new long[] {3, 2}, back.contract());
    assertEquals(StoredManifest.schema(m.columns()), StoredManifest.schema(back.columns()));
  }

  @Test
  void anyChangedByteOrAnotherKeyIsRefused() {
    byte[] text = manifest().render(KEY);
    for (int i = 0; i < text.length; i += 7) {
      byte[] edited = text.clone();
      edited[i] ^= 0x02;
      assertThrows(MpcInputException.class, () -> StoredManifest.verifyAndParse(edited, KEY,
          "test"), "byte " + i);
    }
    MpcInputException e = assertThrows(MpcInputException.class,
        () -> StoredManifest.verifyAndParse(text, OTHER_KEY, "/x/_manifest"));
    assertTrue(e.getMessage().contains("/x/_manifest") && e.getMessage().contains("HMAC"),
        e.getMessage());
    byte[] cut = Arrays.copyOf(text, text.length - 20);
    assertThrows(MpcInputException.class, () -> StoredManifest.verifyAndParse(cut, KEY, "t"));
    String s = new String(text, StandardCharsets.UTF_8).replace("part=1,part-00001.arrow,2,",
        "part=1,part-00001.arrow,5,");
    assertThrows(MpcInputException.class, () -> StoredManifest.verifyAndParse(
        s.getBytes(StandardCharsets.UTF_8), KEY, "t"));
  }
}
