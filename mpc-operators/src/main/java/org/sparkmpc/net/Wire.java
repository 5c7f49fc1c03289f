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
  /** Client to its own gateway: send a message to a peer. */
  static final int TYPE_CLIENT_SEND = 4;
  /** Client to its own gateway: take a received message. */
  static final int TYPE_CLIENT_RECEIVE = 5;
  /** Client to its own gateway: end a session. */
  static final int TYPE_CLIENT_END_SESSION = 6;
  /** Gateway to its client: the outcome of a client request (other than a received payload). */
  static final int TYPE_CLIENT_STATUS = 7;
  /** Client to its own gateway: has a session ended? Answered OK (no) or ENDED (yes). */
  static final int TYPE_CLIENT_SESSION_STATE = 8;
  /** Client to its own gateway: release the messages of a finished operator. */
  static final int TYPE_CLIENT_RELEASE_OPERATOR = 9;
  /** Longest reason text of a CLIENT_STATUS frame. */
  static final int MAX_CLIENT_REASON_BYTES = 8192;
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

  /** A CLIENT_SEND frame up to (not including) its payload. */
  record ClientSendHeader(int to, MessageKey key, long length) {}

  /** A CLIENT_RECEIVE frame. */
  record ClientReceive(MessageKey key, long timeoutMillis) {}

  /** A CLIENT_RELEASE_OPERATOR frame. */
  record ClientRelease(String session, long operator) {}

  /**
   * The kind of a CLIENT_STATUS frame: success, or which exception the gateway's call threw (the
   * client rethrows the same type with the same message).
   */
  enum ClientStatus {
    OK(0), TIMEOUT(1), UNAVAILABLE(2), ABORTED(3), PROTOCOL(4), CHANNEL(5), INVALID(6), REFUSED(7),
    /** The answer to CLIENT_SESSION_STATE for a session that has ended at the gateway. */
    ENDED(8),
    /** {@link OperatorReleasedException}: the message's operator was released. */
    RELEASED(9);

    final int code;

    ClientStatus(int code) {
      this.code = code;
    }

    static ClientStatus fromCode(int code) {
      for (ClientStatus s : values()) {
        if (s.code == code) {
          return s;
        }
      }
      return null;
    }
  }

  /** A CLIENT_STATUS frame. */
  record ClientStatusReply(ClientStatus status, String reason) {}

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
    writeKey(out, key);
    out.writeLong(payload.length);
    out.write(payload);
  }

  private static void writeKey(DataOutputStream out, MessageKey key) throws IOException {
    out.writeInt(key.sender());
    writeSession(out, key.session());
    out.writeLong(key.operator());
    out.writeInt(key.partition());
    out.writeInt(key.round());
  }

  private static void writeSession(DataOutputStream out, String session) throws IOException {
    byte[] bytes = session.getBytes(StandardCharsets.UTF_8);
    if (bytes.length == 0 || bytes.length > MAX_SESSION_BYTES) {
      throw new IllegalArgumentException("session id of " + bytes.length + " UTF-8 bytes is outside 1.."
          + MAX_SESSION_BYTES);
    }
    out.writeShort(bytes.length);
    out.write(bytes);
  }

  /** CLIENT_SEND: {@code to} (int32), then the DATA frame's fields (key, length, payload). */
  static void writeClientSend(DataOutputStream out, int to, MessageKey key, byte[] payload) throws IOException {
    writeStart(out, TYPE_CLIENT_SEND);
    out.writeInt(to);
    writeKey(out, key);
    out.writeLong(payload.length);
    out.write(payload);
  }

  /** CLIENT_RECEIVE: the key's fields (as in DATA), then timeoutMillis (int64, >= 0). */
  static void writeClientReceive(DataOutputStream out, MessageKey key, long timeoutMillis) throws IOException {
    writeStart(out, TYPE_CLIENT_RECEIVE);
    writeKey(out, key);
    out.writeLong(timeoutMillis);
  }

  /** CLIENT_END_SESSION: sessionLen (uint16, 1..1024) and the session id in UTF-8. */
  static void writeClientEndSession(DataOutputStream out, String session) throws IOException {
    writeStart(out, TYPE_CLIENT_END_SESSION);
    writeSession(out, session);
  }

  /** CLIENT_SESSION_STATE: sessionLen (uint16, 1..1024) and the session id in UTF-8. */
  static void writeClientSessionState(DataOutputStream out, String session) throws IOException {
    writeStart(out, TYPE_CLIENT_SESSION_STATE);
    writeSession(out, session);
  }

  /** CLIENT_RELEASE_OPERATOR: the session id (as in CLIENT_END_SESSION), then the operator (int64). */
  static void writeClientReleaseOperator(DataOutputStream out, String session, long operator)
      throws IOException {
    writeStart(out, TYPE_CLIENT_RELEASE_OPERATOR);
    writeSession(out, session);
    out.writeLong(operator);
  }

  /** CLIENT_STATUS: status (uint8), reasonLen (uint16, 0..8192), reason (UTF-8). */
  static void writeClientStatus(DataOutputStream out, ClientStatus status, String reason) throws IOException {
    writeStart(out, TYPE_CLIENT_STATUS);
    out.writeByte(status.code);
    writeReason(out, reason, MAX_CLIENT_REASON_BYTES);
  }

  /**
   * Check a frame's magic and version and return its type; {@code firstByte} is the frame's first
   * byte, already read by the caller.
   */
  static int readFrameType(DataInputStream in, int firstByte) throws IOException, MalformedFrameException {
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
    return in.readUnsignedByte();
  }

  /** The rest of a DATA frame's header, after its type. */
  static DataHeader readDataBody(DataInputStream in) throws IOException, MalformedFrameException {
    MessageKey key = readKey(in);
    return new DataHeader(key, readLength(in));
  }

  /** The rest of a CLIENT_SEND frame's header, after its type. */
  static ClientSendHeader readClientSendBody(DataInputStream in) throws IOException, MalformedFrameException {
    int to = in.readInt();
    MessageKey key = readKey(in);
    return new ClientSendHeader(to, key, readLength(in));
  }

  /** The rest of a CLIENT_RECEIVE frame, after its type. */
  static ClientReceive readClientReceiveBody(DataInputStream in) throws IOException, MalformedFrameException {
    MessageKey key = readKey(in);
    long timeout = in.readLong();
    if (timeout < 0) {
      throw new MalformedFrameException("negative receive timeout " + timeout);
    }
    return new ClientReceive(key, timeout);
  }

  /** The rest of a CLIENT_END_SESSION or CLIENT_SESSION_STATE frame, after its type: the session id. */
  static String readClientEndSessionBody(DataInputStream in) throws IOException, MalformedFrameException {
    return readSession(in);
  }

  /** The rest of a CLIENT_RELEASE_OPERATOR frame, after its type. */
  static ClientRelease readClientReleaseOperatorBody(DataInputStream in)
      throws IOException, MalformedFrameException {
    String session = readSession(in);
    return new ClientRelease(session, in.readLong());
  }

  /** The rest of a CLIENT_STATUS frame, after its type. */
  static ClientStatusReply readClientStatusBody(DataInputStream in) throws IOException, MalformedFrameException {
    int code = in.readUnsignedByte();
    ClientStatus status = ClientStatus.fromCode(code);
    if (status == null) {
      throw new MalformedFrameException("unknown client status code " + code);
    }
    return new ClientStatusReply(status, readReason(in, MAX_CLIENT_REASON_BYTES));
  }

  /** The rest of a STATUS frame, after its type. */
  static StatusReply readStatusBody(DataInputStream in) throws IOException, MalformedFrameException {
    int code = in.readUnsignedByte();
    DeliveryStatus status = DeliveryStatus.fromCode(code);
    if (status == null) {
      throw new MalformedFrameException("unknown status code " + code);
    }
    return new StatusReply(status, readReason(in, MAX_REASON_BYTES));
  }

  /** A status frame's reason: length (uint16, at most {@code maxBytes}) and UTF-8 text. */
  private static String readReason(DataInputStream in, int maxBytes)
      throws IOException, MalformedFrameException {
    int len = in.readUnsignedShort();
    if (len > maxBytes) {
      throw new MalformedFrameException("reason length " + len + " exceeds " + maxBytes);
    }
    byte[] bytes = new byte[len];
    in.readFully(bytes);
    return decodeUtf8(bytes, "reason");
  }

  /**
   * Write a reason of at most {@code maxBytes} UTF-8 bytes: cut to {@code maxBytes / 3} UTF-16
   * units, which encode to at most that many bytes.
   */
  private static void writeReason(DataOutputStream out, String reason, int maxBytes)
      throws IOException {
    String r = reason == null ? "" : reason;
    int maxChars = maxBytes / 3;
    if (r.length() > maxChars) {
      r = r.substring(0, maxChars);
    }
    byte[] bytes = r.getBytes(StandardCharsets.UTF_8);
    out.writeShort(bytes.length);
    out.write(bytes);
  }

  private static String readSession(DataInputStream in) throws IOException, MalformedFrameException {
    int sessionLength = in.readUnsignedShort();
    if (sessionLength == 0 || sessionLength > MAX_SESSION_BYTES) {
      throw new MalformedFrameException("session length " + sessionLength + " is outside 1.." + MAX_SESSION_BYTES);
    }
    byte[] sessionBytes = new byte[sessionLength];
    in.readFully(sessionBytes);
    return decodeUtf8(sessionBytes, "session id");
  }

  private static MessageKey readKey(DataInputStream in) throws IOException, MalformedFrameException {
    int sender = in.readInt();
    String session = readSession(in);
    long operator = in.readLong();
    int partition = in.readInt();
    int round = in.readInt();
    try {
      return new MessageKey(session, operator, partition, round, sender);
    } catch (IllegalArgumentException e) {
      throw new MalformedFrameException("invalid message key: " + e.getMessage());
    }
  }

  private static long readLength(DataInputStream in) throws IOException, MalformedFrameException {
    long length = in.readLong();
    if (length < 0 || length > MAX_PAYLOAD_BYTES) {
      throw new MalformedFrameException("payload length " + length + " is outside 0.." + MAX_PAYLOAD_BYTES);
    }
    return length;
  }

  static void writeStatus(DataOutputStream out, DeliveryStatus status, String reason) throws IOException {
    writeStart(out, TYPE_STATUS);
    out.writeByte(status.code());
    writeReason(out, reason, MAX_REASON_BYTES);
  }

  static StatusReply readStatus(DataInputStream in) throws IOException, MalformedFrameException {
    readStart(in, in.readUnsignedByte(), TYPE_STATUS);
    return readStatusBody(in);
  }

  private static void writeStart(DataOutputStream out, int type) throws IOException {
    out.writeInt(MAGIC);
    out.writeByte(VERSION);
    out.writeByte(type);
  }

  private static void readStart(DataInputStream in, int firstByte, int expectedType)
      throws IOException, MalformedFrameException {
    int type = readFrameType(in, firstByte);
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
