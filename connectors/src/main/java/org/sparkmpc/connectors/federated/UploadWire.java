package org.sparkmpc.connectors.federated;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The upload message from a client to one party's {@link UploadEndpoint}, over mutually
 * authenticated TLS 1.3. Numbers are big-endian unless said otherwise.
 *
 * <pre>
 *   magic     4 bytes   "SMFU" (ASCII)
 *   version   1 byte    1
 *   digest    32 bytes  RoundSpec.digest() of the round the client submits to
 *   roundId   2 bytes length n (1..64), then n bytes UTF-8
 *   party     1 byte    index of the party this upload is for (in RoundSpec.parties())
 *   role      1 byte    0 = seed, 1 = full (ShareRole)
 *   nonce     16 bytes  random per submission; the same in every party's upload of one submission
 *   dims      4 bytes   signed int, must equal the round's dims
 *   width     1 byte    4 or 8, must equal the round's width
 *   payload   seed: 32 bytes (the PRG seed, SeedShares)
 *             full: dims * width bytes, element i little-endian: the low 8*width bits of
 *                   q[i] - sum over the other parties j of expansion(seed_j)[i]
 *   (end)     the client then half-closes its side (TLS close_notify); any byte after the payload is refused
 * </pre>
 *
 * The endpoint then replies {@code status} (1 byte: 0 accepted, 1 refused) and a reason (2-byte
 * length, then at most {@value #MAX_REASON_BYTES} bytes UTF-8), and closes. The client's identity is
 * not in the message: it is the CN of its verified TLS certificate. A reason never holds a value or a
 * share, only names (round, party, role) and what was wrong.
 */
public final class UploadWire {

  /** {@code "SMFU"}. */
  public static final byte[] MAGIC = {'S', 'M', 'F', 'U'};
  /** The only version so far. */
  public static final int VERSION = 1;
  /** Reply status: stored. */
  public static final int ACCEPTED = 0;
  /** Reply status: refused, see the reason. */
  public static final int REFUSED = 1;
  /** Bytes of a submission nonce. */
  public static final int NONCE_BYTES = 16;
  /** Longest reason text in a reply. */
  public static final int MAX_REASON_BYTES = 512;

  private UploadWire() {}

  /** An upload's header, everything before the payload. */
  public record Header(byte[] digest, String roundId, int party, ShareRole role, byte[] nonce, int dims,
                       int width) {
    public Header {
      Objects.requireNonNull(digest, "digest");
      Objects.requireNonNull(roundId, "roundId");
      Objects.requireNonNull(role, "role");
      Objects.requireNonNull(nonce, "nonce");
    }
  }

  /** An upload the endpoint will not take; {@link #getMessage()} is the reason sent to the client. */
  public static final class Refusal extends Exception {
    private static final long serialVersionUID = 1L;

    public Refusal(String reason) {
      super(reason, null, false, false);
    }
  }

  /** Write a header (not flushed). */
  public static void writeHeader(DataOutputStream out, Header h) throws IOException {
    out.write(MAGIC);
    out.writeByte(VERSION);
    out.write(h.digest());
    byte[] id = h.roundId().getBytes(StandardCharsets.UTF_8);
    out.writeShort(id.length);
    out.write(id);
    out.writeByte(h.party());
    out.writeByte(h.role().code());
    out.write(h.nonce());
    out.writeInt(h.dims());
    out.writeByte(h.width());
  }

  /**
   * Read a header, refusing as soon as a field cannot be right whatever the round (bad magic, version,
   * roundId length, role code or width); the round's own checks are the endpoint's.
   *
   * @throws EOFException if the stream ends inside the header
   */
  public static Header readHeader(DataInputStream in) throws IOException, Refusal {
    byte[] magic = new byte[4];
    in.readFully(magic);
    if (!java.util.Arrays.equals(magic, MAGIC)) {
      throw new Refusal("not an upload (bad magic)");
    }
    int version = in.readUnsignedByte();
    if (version != VERSION) {
      throw new Refusal("unsupported upload version " + version + " (this endpoint speaks " + VERSION + ")");
    }
    byte[] digest = new byte[32];
    in.readFully(digest);
    int idLen = in.readUnsignedShort();
    if (idLen < 1 || idLen > 64) {
      throw new Refusal("round id of " + idLen + " bytes (1 to 64 allowed)");
    }
    byte[] id = new byte[idLen];
    in.readFully(id);
    int party = in.readUnsignedByte();
    int roleCode = in.readUnsignedByte();
    ShareRole role = ShareRole.ofCode(roleCode);
    if (role == null) {
      throw new Refusal("unknown role code " + roleCode);
    }
    byte[] nonce = new byte[NONCE_BYTES];
    in.readFully(nonce);
    int dims = in.readInt();
    int width = in.readUnsignedByte();
    return new Header(digest, new String(id, StandardCharsets.UTF_8), party, role, nonce, dims, width);
  }

  /** Write a reply and flush. */
  public static void writeReply(DataOutputStream out, boolean accepted, String reason) throws IOException {
    byte[] r = reason.getBytes(StandardCharsets.UTF_8);
    int n = Math.min(r.length, MAX_REASON_BYTES);
    out.writeByte(accepted ? ACCEPTED : REFUSED);
    out.writeShort(n);
    out.write(r, 0, n);
    out.flush();
  }

  /** A reply as read by the client. */
  public record Reply(boolean accepted, String reason) {}

  /** Read a reply. */
  public static Reply readReply(DataInputStream in) throws IOException {
    int status = in.readUnsignedByte();
    int n = in.readUnsignedShort();
    if (n > MAX_REASON_BYTES) {
      throw new IOException("reply reason of " + n + " bytes (at most " + MAX_REASON_BYTES + ")");
    }
    byte[] r = new byte[n];
    in.readFully(r);
    if (status != ACCEPTED && status != REFUSED) {
      throw new IOException("unknown reply status " + status);
    }
    return new Reply(status == ACCEPTED, new String(r, StandardCharsets.UTF_8));
  }
}
