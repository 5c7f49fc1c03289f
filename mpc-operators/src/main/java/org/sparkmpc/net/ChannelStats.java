package org.sparkmpc.net;

import java.util.concurrent.atomic.LongAdder;

/** Running totals of what a channel moved; read by the Spark operators' SQL metrics and the benchmark. */
public final class ChannelStats {
  private final LongAdder bytesSent = new LongAdder();
  private final LongAdder bytesReceived = new LongAdder();
  private final LongAdder messagesSent = new LongAdder();
  private final LongAdder messagesReceived = new LongAdder();
  private final LongAdder bytesReleased = new LongAdder();

  public void recordSent(long bytes) {
    bytesSent.add(bytes);
    messagesSent.increment();
  }

  public void recordReceived(long bytes) {
    bytesReceived.add(bytes);
    messagesReceived.increment();
  }

  /** Payload bytes a release of finished operators dropped from this channel's receive buffer. */
  public void recordReleased(long bytes) {
    bytesReleased.add(bytes);
  }

  public long bytesSent() {
    return bytesSent.sum();
  }

  public long bytesReceived() {
    return bytesReceived.sum();
  }

  public long messagesSent() {
    return messagesSent.sum();
  }

  public long messagesReceived() {
    return messagesReceived.sum();
  }

  /**
   * Payload bytes dropped by {@link Channel#releaseOperator} at this party's receive buffer (0 at a
   * {@link GatewayClient}, whose gateway holds the buffer).
   */
  public long bytesReleased() {
    return bytesReleased.sum();
  }
}
