package org.sparkmpc.net;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * What a {@link Mailbox} holds: the stored messages of each session, grouped by operator so that
 * the messages of an operator that has finished are dropped at once ({@link #releaseOperator}); the
 * operators released in each session, whose later messages are refused; and the sessions that have
 * ended (the most recent {@value Mailbox#MAX_ENDED_SESSIONS}), whose messages are refused as
 * replays. Counts the bytes and messages each session holds, for the over-capacity error.
 *
 * <p>Not thread-safe: the mailbox's lock guards it. Stored payload arrays are never modified.
 */
final class MessageStore {

  /** One stored message. */
  static final class Entry {
    final byte[] payload;
    final long arrivedNanos = System.nanoTime();
    /** A different payload arrived under the same key (see {@link Mailbox#put}). */
    boolean conflict;

    Entry(byte[] payload) {
      this.payload = payload;
    }
  }

  /** One session's messages by operator, its released operators, and what it holds. */
  private static final class Session {
    final Map<Long, Map<MessageKey, Entry>> byOperator = new HashMap<>();
    final ReleasedOperators released = new ReleasedOperators();
    long bytes;
    int messages;
  }

  /**
   * The operators released in a session: one run of consecutive ids {@code [runStart, runEnd)}
   * and a set of the others. A long session that releases its operators in order (a long-lived
   * inference session releases one per request) keeps two numbers, not one entry per operator.
   */
  static final class ReleasedOperators {
    private long runStart;
    private long runEnd;
    private final Set<Long> others = new HashSet<>();

    void add(long op) {
      if (contains(op)) {
        return;
      }
      if (runStart == runEnd) {
        runStart = op;
        runEnd = op + 1;
      } else if (op == runEnd) {
        runEnd++;
      } else if (op == runStart - 1) {
        runStart--;
      } else {
        others.add(op);
        return;
      }
      while (others.remove(runEnd)) {
        runEnd++;
      }
      while (others.remove(runStart - 1)) {
        runStart--;
      }
    }

    boolean contains(long op) {
      return (op >= runStart && op < runEnd) || others.contains(op);
    }

    /** Ids kept one by one (outside the run). */
    int scattered() {
      return others.size();
    }
  }

  private final Map<String, Session> sessions = new HashMap<>();
  private final LinkedHashSet<String> ended = new LinkedHashSet<>();

  /** The entry stored under {@code key}, or null. */
  Entry get(MessageKey key) {
    Session s = sessions.get(key.session());
    Map<MessageKey, Entry> m = s == null ? null : s.byOperator.get(key.operator());
    return m == null ? null : m.get(key);
  }

  /** Store {@code e} under {@code key}, which holds nothing yet. */
  void put(MessageKey key, Entry e) {
    Session s = sessions.computeIfAbsent(key.session(), x -> new Session());
    s.byOperator.computeIfAbsent(key.operator(), o -> new HashMap<>()).put(key, e);
    s.bytes += e.payload.length;
    s.messages++;
  }

  /** Remove {@code e} if it is still stored under {@code key}; whether it was. */
  boolean remove(MessageKey key, Entry e) {
    Session s = sessions.get(key.session());
    Map<MessageKey, Entry> m = s == null ? null : s.byOperator.get(key.operator());
    if (m == null || !m.remove(key, e)) {
      return false;
    }
    if (m.isEmpty()) {
      s.byOperator.remove(key.operator());
    }
    s.bytes -= e.payload.length;
    s.messages--;
    return true;
  }

  /**
   * Drop every message of {@code operator} in {@code session} and remember the operator as
   * released. Returns the payload bytes freed (0 if it held none or was released before).
   */
  long releaseOperator(String session, long operator) {
    Session s = sessions.computeIfAbsent(session, x -> new Session());
    s.released.add(operator);
    Map<MessageKey, Entry> m = s.byOperator.remove(operator);
    if (m == null) {
      return 0;
    }
    long freed = 0;
    for (Entry e : m.values()) {
      freed += e.payload.length;
    }
    s.bytes -= freed;
    s.messages -= m.size();
    return freed;
  }

  /** Released operators of {@code session} kept one by one (not in its run of consecutive ids). */
  int scatteredReleases(String session) {
    Session s = sessions.get(session);
    return s == null ? 0 : s.released.scattered();
  }

  /** Whether the operator of {@code key} was released in its session. */
  boolean isReleased(MessageKey key) {
    Session s = sessions.get(key.session());
    return s != null && s.released.contains(key.operator());
  }

  /** Drop every message of {@code session} and remember it as ended; returns the bytes freed. */
  long endSession(String session) {
    Session s = sessions.remove(session);
    ended.remove(session);
    ended.add(session);
    if (ended.size() > Mailbox.MAX_ENDED_SESSIONS) {
      Iterator<String> it = ended.iterator();
      it.next();
      it.remove();
    }
    return s == null ? 0 : s.bytes;
  }

  /** Whether {@code session} has ended (one of the most recent ones). */
  boolean isEnded(String session) {
    return ended.contains(session);
  }

  /** Drop every message of every session; returns the bytes freed. */
  long clear() {
    long freed = 0;
    for (Session s : sessions.values()) {
      freed += s.bytes;
    }
    sessions.clear();
    return freed;
  }

  /** Messages stored, all sessions. */
  int messages() {
    int n = 0;
    for (Session s : sessions.values()) {
      n += s.messages;
    }
    return n;
  }

  /** What {@code session} holds, for errors: bytes, messages and operators (no payload). */
  String holding(String session) {
    Session s = sessions.get(session);
    return s == null ? "session " + session + " holds nothing yet" : "session " + session + " holds "
        + s.bytes + " bytes in " + s.messages + " messages of " + s.byOperator.size() + " operators";
  }
}
