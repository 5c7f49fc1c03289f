package org.sparkmpc.net;

import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.sparkmpc.net.MessageStore.Entry;

/**
 * The receiving side of one party's channel: keeps at most one payload per {@link MessageKey} until
 * the key's session ends or its operator is released, so a retried task can read a message again.
 * Used by {@link Gateway} (fed from TLS connections) and {@link LocalChannelHub} (fed by the other
 * party threads).
 *
 * <ul>
 *   <li>{@link #put}: a new key is stored ({@link DeliveryStatus#OK}); the same key with identical
 *       bytes is accepted once more without a second copy ({@code OK}); the same key with different
 *       bytes is {@link DeliveryStatus#CONFLICT} and the conflict is recorded, so whoever waits for
 *       or later asks for that key gets a {@link ProtocolException}; a key of an ended session is
 *       {@link DeliveryStatus#ENDED} (a replay); a key of a released operator is {@link
 *       DeliveryStatus#RELEASED}. Sessions never seen before are accepted: a peer may start a session
 *       earlier than this party.
 *   <li>{@link #releaseOperator}: drop the messages of an operator that has finished for good and
 *       refuse its later ones; a {@link #take} of them fails naming the operator.
 *   <li>Memory bound: the stored payload bytes (plus bytes reserved for frames being read) never
 *       exceed {@code maxBufferedBytes}. A put that does not fit waits up to the put timeout for
 *       {@link #endSession} or {@link #releaseOperator} to free space (back-pressure), then fails
 *       with {@link DeliveryStatus#OVER_CAPACITY} and a reason naming {@value
 *       #MAX_BUFFERED_BYTES_SETTING} and what the message's session holds.
 *   <li>{@link #take}: waits on a condition (no polling) and returns a copy of the stored payload.
 * </ul>
 *
 * <p>Buffer ownership: {@code put} takes ownership of the array it stores (callers must not modify it
 * afterwards); {@code take} returns a fresh copy the caller owns. Stored arrays are never modified.
 *
 * <p>What it reveals: reasons and exception messages name parties, sessions, operators, partitions,
 * rounds and byte counts, never payload bytes.
 *
 * <p>Thread-safe. The set of ended sessions remembers the most recent {@value #MAX_ENDED_SESSIONS}
 * sessions.
 */
public final class Mailbox implements AutoCloseable {

  /** The configuration key that bounds the receive buffer; named in over-capacity errors. */
  public static final String MAX_BUFFERED_BYTES_SETTING = "spark.mpc.gateway.maxBufferedBytes";

  /** How many ended sessions are remembered to refuse replays. */
  public static final int MAX_ENDED_SESSIONS = 100_000;

  /**
   * Outcome of a {@link #put}: the status and a short human-readable reason (coordinates and byte
   * counts only).
   */
  public record PutResult(DeliveryStatus status, String reason) {
    public PutResult {
      Objects.requireNonNull(status, "status");
      Objects.requireNonNull(reason, "reason");
    }

    /** Whether the message is (now) stored: {@link DeliveryStatus#OK}. */
    public boolean accepted() {
      return status == DeliveryStatus.OK;
    }
  }

  /** What {@link #admit} decided for a frame header, before its payload is read. */
  enum AdmissionKind {
    /** Space for the payload is reserved; finish with {@link #commit} or {@link #release}. */
    RESERVED,
    /** The key is already stored; compare and finish with {@link #resolveExisting}. */
    EXISTING,
    /** Refused; the payload must be discarded and {@code refusal} answered. */
    REFUSED
  }

  /** Decision of {@link #admit}. */
  record Admission(AdmissionKind kind, byte[] existing, PutResult refusal) {}

  private static final PutResult STORED = new PutResult(DeliveryStatus.OK, "stored");
  private static final PutResult DUPLICATE = new PutResult(DeliveryStatus.OK, "identical duplicate accepted");

  private final PartyDirectory directory;
  private final long maxBufferedBytes;
  private final Duration putTimeout;

  private final ReentrantLock lock = new ReentrantLock();
  /** Signalled on arrivals, conflicts, ended sessions and close. */
  private final Condition changed = lock.newCondition();
  /** Signalled when buffered bytes are freed. */
  private final Condition space = lock.newCondition();
  private final MessageStore store = new MessageStore();
  private long used;
  private boolean closed;

  /**
   * @param directory        the parties, seen from the receiving party (names senders in errors)
   * @param maxBufferedBytes bound on buffered payload bytes ({@value #MAX_BUFFERED_BYTES_SETTING})
   * @param putTimeout       how long a put waits for buffer space before {@code OVER_CAPACITY}
   */
  public Mailbox(PartyDirectory directory, long maxBufferedBytes, Duration putTimeout) {
    this.directory = Objects.requireNonNull(directory, "directory");
    if (maxBufferedBytes <= 0) {
      throw new IllegalArgumentException(
          MAX_BUFFERED_BYTES_SETTING + " must be positive, was " + maxBufferedBytes);
    }
    this.maxBufferedBytes = maxBufferedBytes;
    this.putTimeout = ConfigValues.requirePositive(putTimeout, "put timeout");
  }

  /** The bound on buffered payload bytes. */
  public long maxBufferedBytes() {
    return maxBufferedBytes;
  }

  /** Payload bytes currently stored or reserved for frames being read. */
  public long bufferedBytes() {
    lock.lock();
    try {
      return used;
    } finally {
      lock.unlock();
    }
  }

  /** Number of stored messages (all sessions). */
  public int messageCount() {
    lock.lock();
    try {
      return store.messages();
    } finally {
      lock.unlock();
    }
  }

  /** Released operators of {@code session} remembered one by one (outside a run of consecutive ids). */
  int scatteredReleases(String session) {
    lock.lock();
    try {
      return store.scatteredReleases(session);
    } finally {
      lock.unlock();
    }
  }

  /** Whether {@code session} has ended here (messages for it are refused as replays). */
  public boolean isEnded(String session) {
    lock.lock();
    try {
      return store.isEnded(session);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Store {@code payload} under {@code key}, taking ownership of the array. Waits up to the put
   * timeout for buffer space. Never throws for the outcomes listed in the class comment: they are
   * returned as a {@link PutResult}.
   */
  public PutResult put(MessageKey key, byte[] payload) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(payload, "payload");
    checkSender(key);
    Admission a = admit(key, payload.length);
    switch (a.kind()) {
      case REFUSED:
        return a.refusal();
      case EXISTING:
        return resolveExisting(key, a.existing(), Arrays.equals(a.existing(), payload));
      case RESERVED:
      default:
        return commit(key, payload);
    }
  }

  /**
   * Wait up to {@code timeout} for the payload party {@code key.sender()} sent under {@code key} and
   * return a copy of it.
   *
   * @throws PeerTimeoutException naming the sender and the coordinates, after {@code timeout}
   * @throws ProtocolException if the sender sent conflicting payloads, or the session has ended
   * @throws MpcChannelException if the mailbox is closed or the waiting thread is interrupted
   */
  public byte[] take(MessageKey key, Duration timeout) {
    Objects.requireNonNull(key, "key");
    checkSender(key);
    long waitNanos = Objects.requireNonNull(timeout, "timeout").isNegative() ? 0
        : ConfigValues.saturatedNanos(timeout);
    long start = System.nanoTime();
    long deadline = start + waitNanos;
    byte[] stored;
    lock.lock();
    try {
      while (true) {
        if (closed) {
          throw new MpcChannelException("the channel of party '" + selfName()
              + "' is closed; stopped waiting for party '" + senderName(key) + "' (" + key.describe() + ")");
        }
        if (store.isEnded(key.session())) {
          throw new ProtocolException("session " + key.session() + " has ended at party '" + selfName()
              + "'; cannot receive from party '" + senderName(key) + "' (" + key.describe() + ")");
        }
        if (store.isReleased(key)) {
          throw new OperatorReleasedException(releasedText(key) + "; a task of the finished operator"
              + " cannot receive the message from party '" + senderName(key) + "' again");
        }
        Entry e = entry(key);
        if (e != null && key.renewable() && start - e.arrivedNanos > waitNanos) {
          // A hello older than a whole wait belongs to a run that has given up: drop it and wait
          // for this run's.
          removeLocked(key, e);
          e = null;
        }
        if (e != null) {
          if (e.conflict) {
            throw new ProtocolException(conflictText(key));
          }
          stored = e.payload;
          if (key.renewable()) {
            removeLocked(key, e); // consumed: a re-run's hello will take its place
          }
          break;
        }
        Entry abort = key.partition() == Channel.ABORT_PARTITION ? null
            : entry(new MessageKey(key.session(), key.operator(), Channel.ABORT_PARTITION, 0,
                key.sender()));
        if (abort != null) {
          throw new PeerAbortedException("party '" + senderName(key) + "' stopped operator "
              + key.operator() + ": " + new String(abort.payload,
                  java.nio.charset.StandardCharsets.UTF_8) + " (" + key.describe() + ")");
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new PeerTimeoutException("timed out after " + ConfigValues.human(timeout)
              + " waiting for party '" + senderName(key) + "' (" + key.describe() + ")");
        }
        try {
          changed.awaitNanos(left);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new MpcChannelException("interrupted while waiting for party '" + senderName(key)
              + "' (" + key.describe() + ")");
        }
      }
    } finally {
      lock.unlock();
    }
    // Stored arrays are never modified, so the copy can be made outside the lock.
    return stored.clone();
  }

  /**
   * Drop every message of {@code session}, free their bytes (waking puts that wait for space) and
   * remember the session as ended, so later messages for it are refused as replays.
   */
  public void endSession(String session) {
    Objects.requireNonNull(session, "session");
    lock.lock();
    try {
      used -= store.endSession(session);
      changed.signalAll();
      space.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Drop every message of {@code operator} in {@code session}, free their bytes (waking puts that
   * wait for space) and remember the operator as released: its later messages are refused ({@link
   * DeliveryStatus#RELEASED}) and a {@link #take} of one fails with an {@link
   * OperatorReleasedException} naming the operator. For an operator that has finished for good: no
   * task of it can run again. Nothing happens for an ended session. Returns the bytes freed.
   */
  public long releaseOperator(String session, long operator) {
    Objects.requireNonNull(session, "session");
    lock.lock();
    try {
      if (closed || store.isEnded(session)) {
        return 0;
      }
      long freed = store.releaseOperator(session, operator);
      used -= freed;
      changed.signalAll();
      space.signalAll();
      return freed;
    } finally {
      lock.unlock();
    }
  }

  /** Drop all messages and wake every waiter; later puts are refused and takes fail. */
  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      used -= store.clear();
      changed.signalAll();
      space.signalAll();
    } finally {
      lock.unlock();
    }
  }

  // ---- two-phase put, for the gateway: decide on the header, then read the payload ----

  /**
   * Decide on a message of {@code length} bytes before reading it: refuse it, point at the stored
   * copy to compare against, or reserve {@code length} bytes (waiting up to the put timeout).
   */
  Admission admit(MessageKey key, long length) {
    checkSender(key);
    long deadline = System.nanoTime() + ConfigValues.saturatedNanos(putTimeout);
    lock.lock();
    try {
      while (true) {
        if (closed) {
          return refused(DeliveryStatus.REFUSED, "the channel of party '" + selfName() + "' is closed");
        }
        if (store.isEnded(key.session())) {
          return refused(DeliveryStatus.ENDED, endedText(key));
        }
        if (store.isReleased(key)) {
          return refused(DeliveryStatus.RELEASED, releasedRefusal(key));
        }
        Entry e = storedForPut(key);
        if (e != null) {
          return new Admission(AdmissionKind.EXISTING, e.payload, null);
        }
        if (length > maxBufferedBytes) {
          return refused(DeliveryStatus.OVER_CAPACITY, "a message of " + length + " bytes from party '"
              + senderName(key) + "' (" + key.describe() + ") exceeds the receive buffer of party '"
              + selfName() + "' (" + maxBufferedBytes + " bytes); raise " + MAX_BUFFERED_BYTES_SETTING);
        }
        if (used + length <= maxBufferedBytes) {
          used += length;
          return new Admission(AdmissionKind.RESERVED, null, null);
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return refused(DeliveryStatus.OVER_CAPACITY, "the receive buffer of party '" + selfName()
              + "' is full (" + used + " of " + maxBufferedBytes + " bytes in use, "
              + store.holding(key.session()) + "); a message of " + length + " bytes from party '"
              + senderName(key) + "' (" + key.describe() + ") did not fit within "
              + ConfigValues.human(putTimeout) + "; raise " + MAX_BUFFERED_BYTES_SETTING
              + " above what the session holds, or end finished sessions");
        }
        try {
          space.awaitNanos(left);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return refused(DeliveryStatus.REFUSED, "party '" + selfName() + "' was interrupted");
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** Store {@code payload}, whose length was reserved by {@link #admit}; releases the reservation. */
  PutResult commit(MessageKey key, byte[] payload) {
    lock.lock();
    try {
      if (closed) {
        // close() does not count reservations; nothing to release.
        return new PutResult(DeliveryStatus.REFUSED, "the channel of party '" + selfName() + "' is closed");
      }
      if (store.isEnded(key.session())) {
        releaseLocked(payload.length);
        return new PutResult(DeliveryStatus.ENDED, endedText(key));
      }
      if (store.isReleased(key)) {
        releaseLocked(payload.length);
        return new PutResult(DeliveryStatus.RELEASED, releasedRefusal(key));
      }
      Entry e = storedForPut(key);
      if (e != null) {
        // Another connection stored the same key while this payload was read.
        releaseLocked(payload.length);
        return resolveLocked(key, e, Arrays.equals(e.payload, payload));
      }
      store.put(key, new Entry(payload));
      changed.signalAll();
      return STORED;
    } finally {
      lock.unlock();
    }
  }

  /** Give back a reservation made by {@link #admit} whose payload was not read. */
  void release(long length) {
    lock.lock();
    try {
      if (!closed) {
        releaseLocked(length);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Finish a put whose key was already stored: {@code identical} says whether the arrived bytes equal
   * {@code existing}, the stored array {@link #admit} returned.
   */
  PutResult resolveExisting(MessageKey key, byte[] existing, boolean identical) {
    lock.lock();
    try {
      if (closed) {
        return new PutResult(DeliveryStatus.REFUSED, "the channel of party '" + selfName() + "' is closed");
      }
      Entry e = entry(key);
      if (e == null || e.payload != existing) {
        // A stored entry disappears only when its operator is released or its session ends.
        return store.isReleased(key) ? new PutResult(DeliveryStatus.RELEASED, releasedRefusal(key))
            : new PutResult(DeliveryStatus.ENDED, endedText(key));
      }
      return resolveLocked(key, e, identical);
    } finally {
      lock.unlock();
    }
  }

  /** Error text for a refused delivery as the sender sees it; names receiver and coordinates only. */
  static MpcChannelException refusal(String receiverName, MessageKey key, PutResult result) {
    String text = "party '" + receiverName + "' refused the message (" + key.describe() + "): "
        + result.status() + ": " + result.reason();
    if (result.status() == DeliveryStatus.OVER_CAPACITY) {
      return new MpcChannelException(text);
    }
    if (result.status() == DeliveryStatus.RELEASED) {
      return new OperatorReleasedException(text);
    }
    return new ProtocolException(text);
  }

  private PutResult resolveLocked(MessageKey key, Entry e, boolean identical) {
    if (identical) {
      return DUPLICATE;
    }
    e.conflict = true;
    changed.signalAll();
    return new PutResult(DeliveryStatus.CONFLICT, conflictText(key));
  }

  /**
   * The entry an arriving message under {@code key} is checked against; a renewable one (a hello)
   * is dropped instead, so the newer message replaces it.
   */
  private Entry storedForPut(MessageKey key) {
    Entry e = entry(key);
    if (e != null && key.renewable()) {
      removeLocked(key, e);
      return null;
    }
    return e;
  }

  private void removeLocked(MessageKey key, Entry e) {
    if (store.remove(key, e)) {
      releaseLocked(e.payload.length);
    }
  }

  private void releaseLocked(long length) {
    used -= length;
    space.signalAll();
  }

  private Entry entry(MessageKey key) {
    return store.get(key);
  }

  private static Admission refused(DeliveryStatus status, String reason) {
    return new Admission(AdmissionKind.REFUSED, null, new PutResult(status, reason));
  }

  private void checkSender(MessageKey key) {
    if (key.sender() >= directory.size()) {
      throw new IllegalArgumentException("sender index " + key.sender() + " is not a party; there are "
          + directory.size() + " parties");
    }
    if (key.sender() == directory.selfIndex()) {
      throw new IllegalArgumentException("party '" + selfName() + "' cannot exchange messages with itself ("
          + key.describe() + ")");
    }
  }

  private String conflictText(MessageKey key) {
    return "conflicting duplicate: party '" + senderName(key) + "' sent two different payloads for the same"
        + " message (" + key.describe() + "); a re-sent message must be byte-identical";
  }

  private String releasedText(MessageKey key) {
    return "operator " + key.operator() + " of session " + key.session() + " has finished at party '"
        + selfName() + "' and its messages were released (" + key.describe() + ")";
  }

  private String releasedRefusal(MessageKey key) {
    return releasedText(key) + "; a late message from party '" + senderName(key) + "' is refused";
  }

  private String endedText(MessageKey key) {
    return "session " + key.session() + " has ended at party '" + selfName() + "'; message from party '"
        + senderName(key) + "' (" + key.describe() + ") refused as a replay";
  }

  private String selfName() {
    return directory.self().name();
  }

  private String senderName(MessageKey key) {
    return directory.name(key.sender());
  }
}
