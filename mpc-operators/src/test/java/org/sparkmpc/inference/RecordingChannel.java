package org.sparkmpc.inference;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.sparkmpc.net.Channel;
import org.sparkmpc.net.ChannelStats;
import org.sparkmpc.net.MessageKey;
import org.sparkmpc.net.PartyDirectory;

/** A channel that keeps a copy of every message its party sends and receives: a party's view. */
public final class RecordingChannel implements Channel {
  /** One message: its key (the sender in it), the peer it went to or came from, its bytes. */
  public record Message(MessageKey key, int peer, byte[] payload) {}

  private final Channel inner;
  final List<Message> sent = new ArrayList<>();
  final List<Message> received = new ArrayList<>();

  public RecordingChannel(Channel inner) {
    this.inner = inner;
  }

  @Override
  public PartyDirectory directory() {
    return inner.directory();
  }

  @Override
  public void send(int to, MessageKey key, byte[] payload) {
    byte[] copy = payload.clone();
    inner.send(to, key, payload);
    synchronized (this) {
      sent.add(new Message(key, to, copy));
    }
  }

  @Override
  public byte[] receive(MessageKey key, Duration timeout) {
    byte[] in = inner.receive(key, timeout);
    synchronized (this) {
      received.add(new Message(key, key.sender(), in.clone()));
    }
    return in;
  }

  @Override
  public void endSession(String session) {
    inner.endSession(session);
  }

  @Override
  public void releaseOperator(String session, long operator) {
    inner.releaseOperator(session, operator);
  }

  @Override
  public ChannelStats stats() {
    return inner.stats();
  }

  @Override
  public void close() {
    inner.close();
  }

  public synchronized List<Message> sentSnapshot() {
    return new ArrayList<>(sent);
  }

  public synchronized List<Message> receivedSnapshot() {
    return new ArrayList<>(received);
  }
}
