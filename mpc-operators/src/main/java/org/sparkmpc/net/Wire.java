package org.sparkmpc.net;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Encoding of the gateway's frames; the format is documented on {@link Gateway}. All integers are
 * big-endian. Parse errors are {@link MalformedFrameException}s whose messages describe the field
 * that is wrong, never its bytes beyond numeric header values.
 */
final class Wire {

  /** "SMPC". */
  static final int MAGIC = 0x534D5043;
  static final int VERSION = 1;
  static final int TYPE_HELLO = 1;
  static final int TYPE_DATA = 2;
  static final int TYPE_STATUS = 3;
  static final int MAX_SESSION_BYTES = 1024;
  static final int MAX_REASON_BYTES = 1024;
  /** Largest payload a frame may announce: 1 GiB. */
  static final long MAX_PAYLOAD_BYTES = 1L << 30;

  private Wire() {}

  /** A frame that does not follow the format. */
  static final class MalformedFrameException extends Exception {
    private static final long serialVersionUID = 1L;

    MalformedFrameException(String message) {
      super(message);
    }
  }

  /** The server's greeting: its party index and the number of parties in its list. */
  record Hello(int party, int parties) {}

  /** A DATA frame up to (not including) its payload. */
  record DataHeader(MessageKey key, long length) {}

  /** A STATUS frame. */
  record StatusReply(DeliveryStatus status, String reason) {}

  static void writeHello(DataOutputStream out, int party, int parties) throws IOException {
    writeStart(out, TYPE_HELLO);
    out.writeInt(party);
    out.writeInt(parties);
  }

  static Hello readHello(DataInputStream in) throws IOException, MalformedFrameException {
    readStart(in, in.readUnsignedByte(), TYPE_HELLO);
    return new Hello(in.readInt(), in.readInt());
  }

  static void writeData(DataOutputStream out, MessageKey key, byte[] payload) throws IOException {
    writeStart(out, TYPE_DATA);
    out.writeInt(key.sender());
    byte[] session = key.session().getBytes(StandardCharsets.UTF_8);
    out.writeShort(session.length);
    out.write(session);
    out.writeLong(key.operator());
    out.writeInt(key.partition());
    out.writeInt(key.round());
    out.writeLong(payload.length);
    out.write(payload);
  }

  /**
   * Read a DATA frame's header; {@code firstByte} is the frame's first byte, already read by the
   * caller (who waits for it without a timeout).
   */
  static DataHeader readDataHeader(DataInputStream in, int firstByte) throws IOException, MalformedFrameException {
    readStart(in, firstByte, TYPE_DATA);
    int sender = in.readInt();
    int sessionLength = in.readUnsignedShort();
    if (sessionLength == 0 || sessionLength > MAX_SESSION_BYTES) {
      throw new MalformedFrameException("session length " + sessionLength + " is outside 1.." + MAX_SESSION_BYTES);
    }
    byte[] sessionBytes = new byte[sessionLength];
    in.readFully(sessionBytes);
    String session = decodeUtf8(sessionBytes, "session id");
    long operator = in.readLong();
    int partition = in.readInt();
    int round = in.readInt();
    long length = in.readLong();
    if (length < 0 || length > MAX_PAYLOAD_BYTES) {
      throw new MalformedFrameException("payload length " + length + " is outside 0.." + MAX_PAYLOAD_BYTES);
    }
    MessageKey key;
    try {
      key = new MessageKey(session, operator, partition, round, sender);
    } catch (IllegalArgumentException e) {
      throw new MalformedFrameException("invalid message key: " + e.getMessage());
    }
    return new DataHeader(key, length);
  }

  static void writeStatus(DataOutputStream out, DeliveryStatus status, String reason) throws IOException {
    writeStart(out, TYPE_STATUS);
    out.writeByte(status.code());
    // 340 UTF-16 units encode to at most 1020 bytes.
    String r = reason.length() > 340 ? reason.substring(0, 340) : reason;
    byte[] bytes = r.getBytes(StandardCharsets.UTF_8);
    out.writeShort(bytes.length);
    out.write(bytes);
  }

  static StatusReply readStatus(DataInputStream in) throws IOException, MalformedFrameException {
    readStart(in, in.readUnsignedByte(), TYPE_STATUS);
    int code = in.readUnsignedByte();
    DeliveryStatus status = DeliveryStatus.fromCode(code);
    if (status == null) {
      throw new MalformedFrameException("unknown status code " + code);
    }
    int len = in.readUnsignedShort();
    if (len > MAX_REASON_BYTES) {
      throw new MalformedFrameException("reason length " + len + " exceeds " + MAX_REASON_BYTES);
    }
    byte[] bytes = new byte[len];
    in.readFully(bytes);
    return new StatusReply(status, decodeUtf8(bytes, "reason"));
  }

  private static void writeStart(DataOutputStream out, int type) throws IOException {
    out.writeInt(MAGIC);
    out.writeByte(VERSION);
    out.writeByte(type);
  }

  private static void readStart(DataInputStream in, int firstByte, int expectedType)
      throws IOException, MalformedFrameException {
    if (firstByte < 0) {
      throw new EOFException();
    }
    int magic = (firstByte << 24) | (in.readUnsignedByte() << 16) | in.readUnsignedShort();
    if (magic != MAGIC) {
      throw new MalformedFrameException("bad magic (not a share-exchange frame)");
    }
    int version = in.readUnsignedByte();
    if (version != VERSION) {
      throw new MalformedFrameException("unsupported protocol version " + version + " (this gateway speaks "
          + VERSION + ")");
    }
    int type = in.readUnsignedByte();
    if (type != expectedType) {
      throw new MalformedFrameException("unexpected frame type " + type + " (expected " + expectedType + ")");
    }
  }

  private static String decodeUtf8(byte[] bytes, String what) throws MalformedFrameException {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new MalformedFrameException(what + " is not valid UTF-8");
    }
  }
}
