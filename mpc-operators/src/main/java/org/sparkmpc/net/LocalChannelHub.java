package org.sparkmpc.net;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The share-exchange channel for parties that run as threads in one JVM: the in-process transport
 * of protocol tests (not a mock). Every party has its own {@link Mailbox}, so duplicates, conflicts,
 * ended sessions, timeouts and the memory bound behave as with {@link Gateway}; only the transport
 * (a method call instead of a TLS connection) differs.
 *
 * <p>Buffer ownership: {@link Channel#send} hands the caller's array to the receiver's mailbox
 * without copying (the sender must not modify it afterwards, as the {@link Channel} contract says);
 * {@link Channel#receive} returns a copy.
 *
 * <p>Closing one party's channel makes it unavailable to the others (sends to it fail with {@link
 * PeerUnavailableException}), which lets tests simulate a party that went down. Closing the hub
 * closes every channel. Messages and errors reveal lengths and coordinates only.
 */
public final class LocalChannelHub implements AutoCloseable {

  /** The host shown for in-process parties. */
  static final String IN_PROCESS = "in-process";

  private final List<LocalChannel> channels = new ArrayList<>();
  private final Duration timeout;

  /**
   * Parties named {@code partyNames} (party index = position), receive buffers of {@link
   * GatewayConfig#DEFAULT_MAX_BUFFERED_BYTES} each.
   *
   * @param timeout how long a send waits for buffer space at the receiver
   */
  public LocalChannelHub(List<String> partyNames, Duration timeout) {
    this(partyNames, timeout, GatewayConfig.DEFAULT_MAX_BUFFERED_BYTES);
  }

  /** As {@link #LocalChannelHub(List, Duration)}, with a receive buffer bound per party. */
  public LocalChannelHub(List<String> partyNames, Duration timeout, long maxBufferedBytes) {
    Objects.requireNonNull(partyNames, "partyNames");
    this.timeout = ConfigValues.requirePositive(timeout, "timeout");
    List<PartyDirectory.Party> parties = new ArrayList<>();
    for (String name : partyNames) {
      parties.add(new PartyDirectory.Party(name, IN_PROCESS, 0));
    }
    PartyDirectory first = new PartyDirectory(parties, partyNames.get(0));
    for (String name : partyNames) {
      PartyDirectory dir = first.as(name);
      channels.add(new LocalChannel(dir, new Mailbox(dir, maxBufferedBytes, this.timeout)));
    }
  }

  /** Number of parties. */
  public int size() {
    return channels.size();
  }

  /** The channel of party {@code party} (the same instance on every call). */
  public Channel channel(int party) {
    if (party < 0 || party >= channels.size()) {
      throw new IllegalArgumentException("party index " + party + " is out of range 0.." + (channels.size() - 1));
    }
    return channels.get(party);
  }

  /** The channel of the party named {@code name}. */
  public Channel channel(String name) {
    return channel(channels.get(0).directory().indexOf(name));
  }

  /** Close every party's channel, waking all waiting receivers. */
  @Override
  public void close() {
    for (LocalChannel c : channels) {
      c.close();
    }
  }

  private final class LocalChannel implements Channel {
    private final PartyDirectory directory;
    private final Mailbox mailbox;
    private final ChannelStats stats = new ChannelStats();
    private volatile boolean closed;

    LocalChannel(PartyDirectory directory, Mailbox mailbox) {
      this.directory = directory;
      this.mailbox = mailbox;
    }

    @Override
    public PartyDirectory directory() {
      return directory;
    }

    @Override
    public void send(int to, MessageKey key, byte[] payload) {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(payload, "payload");
      checkSend(directory, to, key);
      if (closed) {
        throw new MpcChannelException("the channel of party '" + directory.self().name()
            + "' is closed; cannot send (" + key.describe() + ")");
      }
      LocalChannel target = channels.get(to);
      String targetName = directory.name(to);
      if (target.closed) {
        throw new PeerUnavailableException("party '" + targetName + "' (" + IN_PROCESS
            + ") is unavailable: its channel is closed; could not send (" + key.describe() + ")", null);
      }
      Mailbox.PutResult r = target.mailbox.put(key, payload);
      if (r.status() == DeliveryStatus.REFUSED && target.closed) {
        throw new PeerUnavailableException("party '" + targetName + "' (" + IN_PROCESS
            + ") is unavailable: its channel closed; could not send (" + key.describe() + ")", null);
      }
      if (!r.accepted()) {
        throw Mailbox.refusal(targetName, key, r);
      }
      stats.recordSent(payload.length);
    }

    @Override
    public byte[] receive(MessageKey key, Duration timeout) {
      byte[] out = mailbox.take(key, timeout);
      stats.recordReceived(out.length);
      return out;
    }

    @Override
    public void endSession(String session) {
      mailbox.endSession(session);
    }

    @Override
    public void releaseOperator(String session, long operator) {
      stats.recordReleased(mailbox.releaseOperator(session, operator));
    }

    @Override
    public ChannelStats stats() {
      return stats;
    }

    @Override
    public void close() {
      closed = true;
      mailbox.close();
    }

    @Override
    public String toString() {
      return "LocalChannel[" + directory.self().name() + "]";
    }
  }

  /** Checks shared by both channel implementations: a valid peer index and the sender is us. */
  static void checkSend(PartyDirectory directory, int to, MessageKey key) {
    if (to < 0 || to >= directory.size()) {
      throw new IllegalArgumentException("party index " + to + " is out of range 0.." + (directory.size() - 1));
    }
    if (to == directory.selfIndex()) {
      throw new IllegalArgumentException("party '" + directory.self().name() + "' cannot send to itself ("
          + key.describe() + ")");
    }
    if (key.sender() != directory.selfIndex()) {
      throw new IllegalArgumentException("message key names sender " + key.sender() + " but this is party "
          + directory.selfIndex() + " ('" + directory.self().name() + "')");
    }
  }
}
