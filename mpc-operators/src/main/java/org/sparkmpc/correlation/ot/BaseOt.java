package org.sparkmpc.correlation.ot;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.math.ec.ECCurve;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;
import org.sparkmpc.net.ProtocolException;

/**
 * A batch of {@value #COUNT} random oblivious transfers by the Chou–Orlandi "simplest OT" on NIST
 * P-256: the sender ends with {@value #COUNT} pairs of random 16-byte messages {@code (m0_i,
 * m1_i)}, the receiver with {@code m_i^{c_i}} for its choice bits {@code c_i}, and nothing about
 * the other message; the sender learns nothing about the choices.
 *
 * <p>Protocol (two messages, one per direction): the sender picks a scalar {@code a} and sends
 * {@code A = aG} (33 bytes); the receiver picks {@code b_i} and sends {@code B_i = b_i G} if
 * {@code c_i = 0}, else {@code A + b_i G} (33 bytes each); the receiver's message is
 * {@code H(i, A, B_i, b_i A)}, the sender's pair is {@code H(i, A, B_i, a B_i)} and
 * {@code H(i, A, B_i, a (B_i - A))}, with {@code H} SHA-256 over a context label, the OT index and
 * the compressed points, truncated to 16 bytes.
 *
 * <p>Cost per batch: 2 messages, {@code 33 + 33 * COUNT} bytes in all; about {@code 2 * COUNT}
 * scalar multiplications per side. Reveals only the points (uniform group elements). Assumes
 * semi-honest parties; secure under computational Diffie–Hellman in the random-oracle model. Points
 * a peer sends are checked to decode, lie on the curve and not be the point at infinity; otherwise
 * a {@link ProtocolException} names the peer. Keys are secret: never log them.
 */
public final class BaseOt {
  /** Number of OTs in a batch (the IKNP security parameter). */
  public static final int COUNT = 128;
  /** Bytes of each message. */
  public static final int KEY_BYTES = 16;
  /** Bytes of a compressed P-256 point. */
  public static final int POINT_BYTES = 33;

  private static final X9ECParameters P256 = CustomNamedCurves.getByName("secp256r1");
  private static final ECCurve CURVE = P256.getCurve();
  private static final ECPoint G = P256.getG();
  private static final BigInteger ORDER = P256.getN();

  private BaseOt() {}

  /** The sender's side of one batch. Not thread-safe. */
  public static final class Sender {
    private final byte[] context;
    private final BigInteger a;
    private final ECPoint bigA;
    private final byte[] encA;

    /**
     * @param random  source of the secret scalar
     * @param context a public label both sides use alike (session and direction), bound into the
     *     hash
     */
    public Sender(SecureRandom random, byte[] context) {
      this.context = context.clone();
      this.a = scalar(random);
      this.bigA = new FixedPointCombMultiplier().multiply(G, a).normalize();
      this.encA = bigA.getEncoded(true);
    }

    /** The sender's message {@code A = aG}: {@value #POINT_BYTES} bytes. */
    public byte[] firstMessage() {
      return encA.clone();
    }

    /**
     * The sender's message pairs, {@code [i][0|1]}, from the receiver's reply.
     *
     * @param peer the receiver's name, for errors
     * @throws ProtocolException if the reply has the wrong length or an invalid point
     */
    public byte[][][] keys(byte[] reply, String peer) {
      if (reply.length != COUNT * POINT_BYTES) {
        throw new ProtocolException("party '" + peer + "' sent a base-OT reply of " + reply.length
            + " bytes, expected " + COUNT * POINT_BYTES);
      }
      ECPoint aA = bigA.multiply(a).normalize();
      byte[][][] out = new byte[COUNT][2][];
      MessageDigest sha = sha256();
      for (int i = 0; i < COUNT; i++) {
        byte[] encB = java.util.Arrays.copyOfRange(reply, i * POINT_BYTES, (i + 1) * POINT_BYTES);
        ECPoint bi = decode(encB, peer);
        ECPoint p0 = bi.multiply(a).normalize();
        ECPoint p1 = p0.subtract(aA).normalize();
        out[i][0] = hash(sha, context, i, encA, encB, p0);
        out[i][1] = hash(sha, context, i, encA, encB, p1);
      }
      return out;
    }
  }

  /** The receiver's side of one batch. Not thread-safe. */
  public static final class Receiver {
    private final byte[] context;
    private final boolean[] choices;
    private final BigInteger[] b = new BigInteger[COUNT];
    private byte[][] keys;

    /**
     * @param random  source of the secret scalars
     * @param context the same public label as the sender's
     * @param choices {@value #COUNT} choice bits (secret)
     */
    public Receiver(SecureRandom random, byte[] context, boolean[] choices) {
      if (choices.length != COUNT) {
        throw new IllegalArgumentException("base OT needs " + COUNT + " choice bits");
      }
      this.context = context.clone();
      this.choices = choices.clone();
      for (int i = 0; i < COUNT; i++) {
        b[i] = scalar(random);
      }
    }

    /**
     * The reply {@code B_i} to the sender's first message ({@value #COUNT} points); computes this
     * side's messages, available from {@link #keys()} afterwards.
     *
     * @throws ProtocolException if the sender's point is malformed, naming {@code peer}
     */
    public byte[] reply(byte[] firstMessage, String peer) {
      if (firstMessage.length != POINT_BYTES) {
        throw new ProtocolException("party '" + peer + "' sent a base-OT message of "
            + firstMessage.length + " bytes, expected " + POINT_BYTES);
      }
      ECPoint bigA = decode(firstMessage, peer);
      byte[] encA = firstMessage.clone();
      FixedPointCombMultiplier comb = new FixedPointCombMultiplier();
      ByteBuffer out = ByteBuffer.allocate(COUNT * POINT_BYTES);
      MessageDigest sha = sha256();
      keys = new byte[COUNT][];
      for (int i = 0; i < COUNT; i++) {
        ECPoint bi = comb.multiply(G, b[i]);
        if (choices[i]) {
          bi = bi.add(bigA);
        }
        byte[] encB = bi.normalize().getEncoded(true);
        out.put(encB);
        keys[i] = hash(sha, context, i, encA, encB, bigA.multiply(b[i]).normalize());
      }
      return out.array();
    }

    /** The chosen messages {@code m_i^{c_i}}, after {@link #reply}. */
    public byte[][] keys() {
      if (keys == null) {
        throw new IllegalStateException("base-OT keys are known only after the reply");
      }
      return keys;
    }
  }

  private static BigInteger scalar(SecureRandom random) {
    BigInteger k;
    do {
      k = new BigInteger(ORDER.bitLength(), random);
    } while (k.signum() == 0 || k.compareTo(ORDER) >= 0);
    return k;
  }

  private static ECPoint decode(byte[] enc, String peer) {
    ECPoint p;
    try {
      p = CURVE.decodePoint(enc);
    } catch (RuntimeException e) {
      throw new ProtocolException("party '" + peer + "' sent a base-OT point that is not on P-256");
    }
    if (p.isInfinity() || !p.isValid()) {
      throw new ProtocolException("party '" + peer + "' sent an invalid base-OT point");
    }
    return p.normalize();
  }

  private static byte[] hash(MessageDigest sha, byte[] context, int index, byte[] encA,
      byte[] encB, ECPoint shared) {
    sha.reset();
    sha.update(context);
    sha.update(ByteBuffer.allocate(4).putInt(index).array());
    sha.update(encA);
    sha.update(encB);
    sha.update(shared.getEncoded(true));
    return java.util.Arrays.copyOf(sha.digest(), KEY_BYTES);
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
