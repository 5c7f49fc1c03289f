package org.sparkmpc.crypto;

import java.security.SecureRandom;
import java.util.Arrays;
import org.bouncycastle.crypto.agreement.X25519Agreement;
import org.bouncycastle.crypto.params.X25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.X25519PublicKeyParameters;

/**
 * This party's pairwise keys with every other party of a session, from an X25519 agreement on
 * ephemeral keys exchanged at session start over the authenticated channel (Bouncy Castle).
 *
 * <p>Key {@code K(p,q)} is known to exactly parties p and q; from it both derive, per (operator,
 * partition, stream), the same PRG seed. That is how input sharing and zero-sharing move almost no
 * bytes. Keys never leave the party's memory and never appear in logs or messages.
 */
public final class PairwiseKeys {
  /** Bytes of the random nonce that starts a sealed form. */
  static final int NONCE_BYTES = 12;
  /** Bytes of the GCM tag that ends a sealed form. */
  static final int TAG_BYTES = 16;

  private final int self;
  private final byte[][] keys;
  private volatile boolean destroyed;

  private PairwiseKeys(int self, byte[][] keys) {
    this.self = self;
    this.keys = keys;
  }

  /** An ephemeral X25519 key pair for one session. */
  public static final class Ephemeral {
    private final X25519PrivateKeyParameters priv;

    public Ephemeral(SecureRandom random) {
      this.priv = new X25519PrivateKeyParameters(random);
    }

    /** The 32-byte public key to send to the peers. */
    public byte[] publicKey() {
      return priv.generatePublicKey().getEncoded();
    }

    /** Key material that only this party has: the private key's bytes, never sent. */
    byte[] secret() {
      return priv.getEncoded();
    }
  }

  /**
   * Complete the agreement with every peer's public key.
   *
   * @param self       this party's index
   * @param mine       this party's ephemeral key
   * @param publicKeys every party's public key by index (this party's own entry is ignored)
   * @param sessionSalt bytes both sides agree on (the session id), bound into every derived key
   */
  public static PairwiseKeys agree(int self, Ephemeral mine, byte[][] publicKeys, byte[] sessionSalt) {
    byte[][] keys = new byte[publicKeys.length][];
    for (int q = 0; q < publicKeys.length; q++) {
      if (q == self) {
        continue;
      }
      if (publicKeys[q] == null || publicKeys[q].length != X25519PublicKeyParameters.KEY_SIZE) {
        throw new IllegalArgumentException("party " + q + " sent a malformed X25519 public key");
      }
      X25519Agreement agreement = new X25519Agreement();
      agreement.init(mine.priv);
      byte[] shared = new byte[agreement.getAgreementSize()];
      agreement.calculateAgreement(new X25519PublicKeyParameters(publicKeys[q], 0), shared, 0);
      int lo = Math.min(self, q);
      int hi = Math.max(self, q);
      keys[q] = Hkdf.derive(shared, sessionSalt, "sparkmpc/pairwise/" + lo + "/" + hi, 32);
      Arrays.fill(shared, (byte) 0);
    }
    // This party's own entry: a secret no other party can derive (see ownSecret).
    byte[] secret = mine.secret();
    keys[self] = Hkdf.derive(secret, sessionSalt, "sparkmpc/own/" + self, 32);
    Arrays.fill(secret, (byte) 0);
    return new PairwiseKeys(self, keys);
  }

  /** Keys given directly (tests that need fixed keys; parties as threads). */
  public static PairwiseKeys of(int self, byte[][] keys) {
    return new PairwiseKeys(self, keys.clone());
  }

  public int self() {
    return self;
  }

  public int parties() {
    return keys.length;
  }

  /**
   * A PRG seed shared with party {@code peer} for the given label: both parties that call this with
   * the same label get the same seed. The label must name session, operator, partition and stream.
   */
  public byte[] seedWith(int peer, String label) {
    if (peer == self) {
      throw new IllegalArgumentException("no pairwise key with oneself");
    }
    checkLive();
    return Hkdf.derive(keys[peer], null, "sparkmpc/prg/" + label, 32);
  }

  /**
   * A 32-byte secret that only this party knows, for the label: the same on its driver and its
   * executors for the whole session (so a retried task derives it again), different per label and
   * per session. Private set intersection takes its exponent from it.
   *
   * @throws IllegalStateException if the keys were given without this party's own entry
   */
  public byte[] ownSecret(String label) {
    checkLive();
    if (keys[self] == null) {
      throw new IllegalStateException("party " + self + " has no own session secret (the session "
          + "keys were given without one)");
    }
    return Hkdf.derive(keys[self], null, "sparkmpc/own/" + label, 32);
  }

  /** A PRG for the pair (self, peer) and the label. */
  public AesCtrPrg prgWith(int peer, String label) {
    return new AesCtrPrg(seedWith(peer, label));
  }

  /**
   * These keys encrypted (AES-256-GCM, random 96-bit nonce, 128-bit tag) under {@code wrapKey},
   * authenticating {@code associatedData} with them, for this party's own executors: they need the
   * keys to expand shares, and the sealed form may pass through the party's cluster and its logs
   * without showing them. Only a holder of {@code wrapKey} who presents the same associated data
   * opens it. Layout: nonce (12 bytes), then ciphertext and tag. See {@link TicketSeal} for the key
   * and the associated data of an executor ticket.
   */
  public byte[] seal(byte[] wrapKey, byte[] associatedData) {
    checkLive();
    // Layout: self, party count, then per party a presence byte and (length, key); one byte each.
    int size = 2;
    for (byte[] k : keys) {
      if (k != null && k.length > 255) {
        throw new IllegalStateException("a pairwise key of " + k.length + " bytes cannot be sealed");
      }
      size += k == null ? 1 : 2 + k.length;
    }
    if (keys.length > 255) {
      throw new IllegalStateException(keys.length + " parties cannot be sealed (at most 255)");
    }
    byte[] plain = new byte[size];
    int at = 0;
    plain[at++] = (byte) self;
    plain[at++] = (byte) keys.length;
    for (byte[] k : keys) {
      plain[at++] = (byte) (k == null ? 0 : 1);
      if (k != null) {
        plain[at++] = (byte) k.length;
        System.arraycopy(k, 0, plain, at, k.length);
        at += k.length;
      }
    }
    byte[] nonce = new byte[NONCE_BYTES];
    new SecureRandom().nextBytes(nonce);
    byte[] ct;
    try {
      ct = gcm(javax.crypto.Cipher.ENCRYPT_MODE, wrapKey, nonce, plain, associatedData);
    } finally {
      Arrays.fill(plain, (byte) 0); // the keys in the clear stay no longer than needed
    }
    byte[] out = Arrays.copyOf(nonce, NONCE_BYTES + ct.length);
    System.arraycopy(ct, 0, out, NONCE_BYTES, ct.length);
    return out;
  }

  /**
   * Open what {@link #seal} made with the same key and associated data.
   *
   * @throws IllegalArgumentException (no detail, never key or ticket bytes) if the key or the
   *     associated data differ, or any byte was altered
   */
  public static PairwiseKeys unseal(byte[] wrapKey, byte[] sealed, byte[] associatedData) {
    if (sealed.length < NONCE_BYTES + TAG_BYTES + 2) {
      throw new IllegalArgumentException("sealed session keys are malformed (too short)");
    }
    byte[] plain = gcm(javax.crypto.Cipher.DECRYPT_MODE, wrapKey, Arrays.copyOf(sealed, NONCE_BYTES),
        Arrays.copyOfRange(sealed, NONCE_BYTES, sealed.length), associatedData);
    try {
      int at = 0;
      int self = plain[at++] & 0xff;
      byte[][] keys = new byte[plain[at++] & 0xff][];
      for (int q = 0; q < keys.length; q++) {
        if (plain[at++] == 1) {
          int len = plain[at++] & 0xff;
          keys[q] = Arrays.copyOfRange(plain, at, at + len);
          at += len;
        }
      }
      if (at != plain.length) {
        throw new ArrayIndexOutOfBoundsException();
      }
      return new PairwiseKeys(self, keys);
    } catch (ArrayIndexOutOfBoundsException e) {
      // Authenticated, so only a sealer with the key could have made this: a bug, not an attack.
      throw new IllegalArgumentException("sealed session keys are malformed");
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }

  private static byte[] gcm(int mode, byte[] key, byte[] nonce, byte[] in, byte[] associatedData) {
    try {
      javax.crypto.Cipher c = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
      c.init(mode, new javax.crypto.spec.SecretKeySpec(key, "AES"),
          new javax.crypto.spec.GCMParameterSpec(TAG_BYTES * 8, nonce));
      c.updateAAD(associatedData);
      return c.doFinal(in);
    } catch (javax.crypto.AEADBadTagException e) {
      throw new IllegalArgumentException("sealed session keys do not open: another key, other "
          + "associated data, or altered");
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available in this JVM", e);
    }
  }

  /**
   * Overwrite every key with zeros: the session ended. Later {@link #seedWith}, {@link #prgWith} and
   * {@link #seal} calls fail. Idempotent. (A PRG already made keeps its own key schedule.)
   */
  public void destroy() {
    destroyed = true;
    for (byte[] k : keys) {
      if (k != null) {
        Arrays.fill(k, (byte) 0);
      }
    }
  }

  /** Whether {@link #destroy} ran. */
  public boolean isDestroyed() {
    return destroyed;
  }

  private void checkLive() {
    if (destroyed) {
      throw new IllegalStateException("the session's pairwise keys were destroyed: the session ended");
    }
  }

  @Override
  public String toString() {
    return "PairwiseKeys(self=" + self + ", parties=" + keys.length + ")";
  }
}
