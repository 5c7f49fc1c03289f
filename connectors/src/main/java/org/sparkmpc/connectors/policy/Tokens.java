package org.sparkmpc.connectors.policy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.sparkmpc.MpcInputException;

/**
 * Pseudonyms for personal identifiers: HMAC-SHA256 of the value's text under a key, cut to 128
 * bits and written as 32 hex digits. Without the key a pseudonym can neither be computed from a
 * guessed identifier nor inverted; under a key the parties share, equal identifiers give equal
 * pseudonyms at every party, which PSI and {@code alignBy} then match. The key travels to this
 * party's own executors inside the task (like any closure), never to another party.
 */
final class Tokens {
  private static final int MIN_KEY_BYTES = 16;

  private Tokens() {}

  /** {@code col} (cast to text) replaced by its pseudonym under {@code key}; null stays null. */
  static Column column(Column col, byte[] key) {
    UserDefinedFunction f = functions.udf(new Hmac(key), DataTypes.StringType);
    return f.apply(col.cast(DataTypes.StringType));
  }

  /**
   * A tokenisation key from its file: the file's bytes, trailing white space removed, at least 16
   * of them (e.g. {@code openssl rand -hex 32 > bank1-token.key}). Errors name the file, never
   * its content.
   */
  static byte[] readKey(Path file, String what) {
    byte[] raw;
    try {
      raw = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new MpcInputException(what + ": key file " + file + " could not be read ("
          + e.getClass().getSimpleName() + ")");
    }
    int n = raw.length;
    while (n > 0 && Character.isWhitespace(raw[n - 1])) {
      n--;
    }
    if (n < MIN_KEY_BYTES) {
      throw new MpcInputException(what + ": key file " + file + " holds " + n + " bytes; a "
          + "tokenisation key needs at least " + MIN_KEY_BYTES + " (e.g. openssl rand -hex 32)");
    }
    return Arrays.copyOf(raw, n);
  }

  /** The keyed hash of one value; one {@link Mac} per executor thread. */
  private static final class Hmac implements UDF1<String, String> {
    private static final long serialVersionUID = 1L;
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private final byte[] key;
    private transient ThreadLocal<Mac> mac;

    Hmac(byte[] key) {
      this.key = key.clone();
    }

    @Override
    public String call(String value) throws GeneralSecurityException {
      if (value == null) {
        return null;
      }
      if (mac == null) {
        mac = ThreadLocal.withInitial(() -> {
          try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            return m;
          } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
          }
        });
      }
      byte[] h = mac.get().doFinal(value.getBytes(StandardCharsets.UTF_8));
      char[] out = new char[32];
      for (int i = 0; i < 16; i++) {
        out[2 * i] = HEX[(h[i] >> 4) & 15];
        out[2 * i + 1] = HEX[h[i] & 15];
      }
      return new String(out);
    }
  }
}
