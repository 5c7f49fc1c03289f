package org.sparkmpc.psi;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.bouncycastle.math.ec.rfc7748.X25519;
import org.sparkmpc.crypto.PairwiseKeys;
import org.sparkmpc.net.ProtocolException;

/**
 * The arithmetic of ECDH private set intersection on Curve25519 (RFC 7748's X25519 from Bouncy
 * Castle), whole batches at a time.
 *
 * <p>Each party hashes its normalised identifier {@code x} to a curve u-coordinate,
 * {@code H(x) = SHA-256("sparkmpc/psi/v1" || 0 || utf8(x))} (X25519 ignores the top bit), and raises
 * it to its secret key: {@code E_a(x) = X25519(a, H(x))}. Scalar multiplication commutes, so
 * {@code X25519(b, E_a(x)) = X25519(a, E_b(x))}: the doubly-encrypted values of the same
 * identifier are equal, and nothing else is (but with probability 2^-128 for the 16-byte tags
 * compared). A u-coordinate may lie on the curve or on its twist; both groups are prime-order up to
 * a cofactor that the clamped key clears, which is how SecretFlow's Curve25519 PSI hashes too.
 *
 * <p>Costs: one X25519 per element and exponentiation (about 70 µs in this JVM), 32 bytes per
 * element sent singly encrypted and 16 bytes per element returned doubly encrypted. Reveals: to the
 * peer, pseudorandom values only (the decisional Diffie-Hellman assumption), so nothing but how many
 * there are.
 */
public final class EcdhPsi {
  /** Bytes of a curve point (a u-coordinate) on the wire. */
  public static final int POINT_BYTES = 32;
  /** Bytes of a doubly-encrypted value that are compared (and returned to the peer). */
  public static final int TAG_BYTES = 16;

  private static final byte[] DOMAIN = "sparkmpc/psi/v1\0".getBytes(StandardCharsets.UTF_8);

  private EcdhPsi() {}

  /**
   * This party's exponent for one PSI operator of the session: derived from its own session secret
   * ({@link PairwiseKeys#ownSecret}), so a retried task uses the same key, and no peer can know it.
   */
  public static byte[] key(PairwiseKeys keys, long operator) {
    return keys.ownSecret("psi/" + operator);
  }

  /** A SHA-256 instance for {@link #hashToCurve}; one per thread. */
  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Write {@code H(id)} (32 bytes) to {@code out} at {@code off}. */
  public static void hashToCurve(MessageDigest sha, byte[] idUtf8, byte[] out, int off) {
    sha.reset();
    sha.update(DOMAIN);
    sha.update(idUtf8);
    try {
      sha.digest(out, off, POINT_BYTES);
    } catch (java.security.DigestException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * {@code out[i] = X25519(key, points[i])} for {@code n} points of 32 bytes each, packed.
   *
   * @param from who sent the points, for the error when one is of low order (its product is the
   *     identity, all zeros): a malformed message, never a result
   */
  public static void exponentiate(byte[] key, byte[] points, int n, byte[] out, String from) {
    for (int i = 0; i < n; i++) {
      int at = i * POINT_BYTES;
      X25519.scalarMult(key, 0, points, at, out, at);
      if (isZero(out, at)) {
        throw new ProtocolException(from + " sent a curve point of low order in private set "
            + "intersection: the message is malformed");
      }
    }
  }

  /**
   * The doubly-encrypted tags of {@code n} singly-encrypted points: the first 16 bytes of
   * {@code X25519(key, points[i])} as two little-endian longs each ({@code 2n} longs).
   */
  public static long[] tags(byte[] key, byte[] points, int n, String from) {
    byte[] full = new byte[POINT_BYTES];
    long[] out = new long[2 * n];
    ByteBuffer b = ByteBuffer.wrap(full).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      X25519.scalarMult(key, 0, points, i * POINT_BYTES, full, 0);
      if (isZero(full, 0)) {
        throw new ProtocolException(from + " sent a curve point of low order in private set "
            + "intersection: the message is malformed");
      }
      out[2 * i] = b.getLong(0);
      out[2 * i + 1] = b.getLong(8);
    }
    return out;
  }

  /** Compare the 32-byte points at {@code i} and {@code j} of {@code a} as unsigned bytes. */
  public static int comparePoints(byte[] a, int i, int j) {
    return java.util.Arrays.compareUnsigned(a, i * POINT_BYTES, (i + 1) * POINT_BYTES, a,
        j * POINT_BYTES, (j + 1) * POINT_BYTES);
  }

  private static boolean isZero(byte[] b, int off) {
    int acc = 0;
    for (int k = 0; k < POINT_BYTES; k++) {
      acc |= b[off + k];
    }
    return acc == 0;
  }
}
