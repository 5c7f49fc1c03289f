package org.sparkmpc.spark.table;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.crypto.Hkdf;
import org.sparkmpc.net.PartyCredentials;
import org.sparkmpc.spark.MpcConf;

/**
 * The key under which a party authenticates the manifests of its stored share tables: known to this
 * party alone, and the same in every later session, so that a manifest edited on disk, copied from
 * another party or written under another key is refused.
 *
 * <p>It is HKDF-SHA256 with the label {@value #LABEL} of either the bytes of
 * {@code spark.mpc.stored.keyFile} (at least 32 bytes; for a party that rotates its certificate key
 * but must keep loading its tables), or, by default, the party's private key (its PKCS#8 encoding;
 * {@code spark.mpc.keyFile} or {@code <keyDir>/<party>.key.pem}). No other key of the project is
 * derived with this label. A stored table can be loaded only with the key it was saved under.
 */
public final class StoredTableKey {
  /** The HKDF label of the manifest key. */
  public static final String LABEL = "sparkmpc/stored-table-mac/v1";

  private StoredTableKey() {}

  /** This party's manifest key (32 bytes); the caller wipes it after use. Reveals nothing. */
  public static byte[] of(SparkSession spark) {
    String explicit = MpcConf.STORED_KEY_FILE.get(spark).trim();
    byte[] ikm;
    if (!explicit.isEmpty()) {
      try {
        ikm = Files.readAllBytes(Path.of(explicit));
      } catch (IOException e) {
        throw new MpcInputException(MpcConf.STORED_KEY_FILE.key() + "=" + explicit
            + " cannot be read: " + e.getMessage());
      }
      if (ikm.length < 32) {
        throw new MpcInputException(MpcConf.STORED_KEY_FILE.key() + "=" + explicit + " holds "
            + ikm.length + " bytes; a storage key file needs at least 32 random bytes");
      }
    } else {
      Path key = privateKeyFile(spark);
      ikm = PartyCredentials.readPrivateKey(key).getEncoded();
      if (ikm == null) {
        throw new MpcInputException("the private key " + key + " cannot be encoded; set "
            + MpcConf.STORED_KEY_FILE.key() + " to a file of 32 random bytes");
      }
    }
    try {
      return Hkdf.derive(ikm, null, LABEL, 32);
    } finally {
      Arrays.fill(ikm, (byte) 0);
    }
  }

  private static Path privateKeyFile(SparkSession spark) {
    String file = MpcConf.KEY_FILE.get(spark).trim();
    if (!file.isEmpty()) {
      return Path.of(file);
    }
    String dir = MpcConf.KEY_DIR.get(spark).trim();
    if (dir.isEmpty()) {
      throw new MpcInputException("stored share tables need this party's key: set "
          + MpcConf.KEY_FILE.key() + ", " + MpcConf.KEY_DIR.key() + " or "
          + MpcConf.STORED_KEY_FILE.key());
    }
    return Path.of(dir, MpcConf.PARTY.get(spark) + ".key.pem");
  }
}
