package org.sparkmpc.crypto;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.util.Arrays;
import java.util.Objects;

/**
 * The seal on a party's session keys in an executor ticket: what the driver hands its own executors
 * (through Spark's task properties, event log and UI) so that they can expand shares.
 *
 * <ul>
 *   <li><b>Key.</b> AES-256-GCM under a key derived for this purpose only: HKDF-SHA256 of the
 *       party's private key (its PKCS#8 encoding) with the label {@value #LABEL}. No other key in
 *       the project is derived with that label, so the seal key serves nothing else, and a holder of
 *       a ticket without the party's private key file cannot open it.
 *   <li><b>Associated data.</b> The version byte, then the party's name, the session id, the
 *       gateway's address and the ticket's other fields, each length-prefixed ({@link Binding}). A
 *       ticket presented for another party, session or gateway, or with any byte of its fields,
 *       nonce, ciphertext or tag altered, does not open.
 *   <li><b>Layout.</b> {@value #VERSION} (one byte), nonce (12 bytes), ciphertext, tag (16 bytes).
 * </ul>
 *
 * Failures are {@link IllegalArgumentException}s naming the party and the session (public), never
 * key material or ticket bytes.
 */
public final class TicketSeal {
  /** The HKDF label of the seal key. */
  public static final String LABEL = "sparkmpc/ticket-seal/v1";

  /** The first byte of a sealed form. */
  public static final byte VERSION = 1;

  private TicketSeal() {}

  /**
   * What a ticket is bound to.
   *
   * @param party   the party's name
   * @param session the session id
   * @param gateway the address ({@code host:port}) of the party's gateway that the executors reach
   * @param fields  the ticket's other fields, exactly as written (so that none can be altered)
   */
  public record Binding(String party, String session, String gateway, String fields) {
    public Binding {
      Objects.requireNonNull(party, "party");
      Objects.requireNonNull(session, "session");
      Objects.requireNonNull(gateway, "gateway");
      Objects.requireNonNull(fields, "fields");
    }

    /** The associated data: the version byte, then each value as a 4-byte length and UTF-8. */
    byte[] associatedData() {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.write(VERSION);
      for (String v : new String[] {party, session, gateway, fields}) {
        byte[] b = v.getBytes(StandardCharsets.UTF_8);
        out.write(b.length >>> 24);
        out.write(b.length >>> 16);
        out.write(b.length >>> 8);
        out.write(b.length);
        out.write(b, 0, b.length);
      }
      return out.toByteArray();
    }

    /** The party and session, for messages (public). */
    String describe() {
      return "party '" + party + "', session " + session;
    }
  }

  /** The seal key of the party whose private key is {@code partyKey}; the caller wipes it after use. */
  public static byte[] sealKey(PrivateKey partyKey) {
    byte[] encoded = Objects.requireNonNull(partyKey, "partyKey").getEncoded();
    if (encoded == null) {
      throw new IllegalArgumentException("the party's private key cannot be encoded (" + partyKey.getAlgorithm()
          + ", " + partyKey.getFormat() + ")");
    }
    try {
      return Hkdf.derive(encoded, null, LABEL, 32);
    } finally {
      Arrays.fill(encoded, (byte) 0);
    }
  }

  /** {@code keys} sealed under {@code sealKey}, bound to {@code binding}. */
  public static byte[] seal(PairwiseKeys keys, byte[] sealKey, Binding binding) {
    byte[] sealed = keys.seal(sealKey, binding.associatedData());
    byte[] out = new byte[1 + sealed.length];
    out[0] = VERSION;
    System.arraycopy(sealed, 0, out, 1, sealed.length);
    return out;
  }

  /**
   * The keys in {@code sealed}, if it was sealed under {@code sealKey} for exactly {@code binding}.
   *
   * @throws IllegalArgumentException if it was sealed under another key (another party's key file),
   *     for another party, session, gateway or fields, or altered; the message names the party and
   *     the session only
   */
  public static PairwiseKeys open(byte[] sealKey, byte[] sealed, Binding binding) {
    if (sealed.length < 1 || sealed[0] != VERSION) {
      throw new IllegalArgumentException("the session ticket of " + binding.describe()
          + " is not a sealed ticket of version " + VERSION + " (altered, or from another version)");
    }
    try {
      return PairwiseKeys.unseal(sealKey, Arrays.copyOfRange(sealed, 1, sealed.length), binding.associatedData());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the session ticket of " + binding.describe() + " does not open: it was"
          + " sealed for another party, session or gateway, under another party's key file, or altered");
    }
  }
}
