package org.sparkmpc.crypto;

import java.nio.charset.StandardCharsets;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

/**
 * HKDF-SHA256 (RFC 5869), the only key derivation in the engine: pairwise keys from X25519 secrets,
 * and PRG keys per (session, operator, partition, stream) from pairwise keys. Outputs are keys;
 * never log them.
 */
public final class Hkdf {
  private Hkdf() {}

  /** Derive {@code length} bytes from input key material, salt and a context label. */
  public static byte[] derive(byte[] ikm, byte[] salt, String info, int length) {
    HKDFBytesGenerator gen = new HKDFBytesGenerator(new SHA256Digest());
    gen.init(new HKDFParameters(ikm, salt, info.getBytes(StandardCharsets.UTF_8)));
    byte[] out = new byte[length];
    gen.generateBytes(out, 0, length);
    return out;
  }
}
