package org.sparkmpc.net;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A channel whose sends return at once and are delivered in the background, in order, by one
 * thread per peer. A round of an interactive protocol sends to every peer and then waits for every
 * peer's message; with the gateway's acknowledged sends that costs a round trip before the wait
 * even starts, and here the wait overlaps it, so a round costs about one message's way instead of
 * a round trip and a half. Used for the online rounds of inference requests and of mini-batch training.
 *
 * <p>Failures: a send that fails (the peer is down, refused the message) is thrown by the next
 * {@link #send} or {@link #receive} of this channel, and wakes a {@link #receive} that is waiting,
 * so a request fails at once naming the peer instead of waiting for a message that will not come.
 * Buffer ownership follows {@link Channel#send}: the payload must not be modified after the call.
 */
public final class SendAheadChannel implements Channel {
  private final Channel inner;
  private final ExecutorService[] senders;
  private final Set<Thread> waiting = new HashSet<>();
  private volatile RuntimeException failure;

  public SendAheadChannel(Channel inner) {
    this.inner = inner;
    PartyDirectory dir = inner.directory();
    this.senders = new ExecutorService[dir.size()];
    for (int q = 0; q < senders.length; q++) {
      if (q != dir.selfIndex()) {
        String name = "inference-send-" + dir.self().name() + "-to-" + dir.name(q);
        senders[q] = Executors.newSingleThreadExecutor(r -> {
          Thread t = new Thread(r, name);
          t.setDaemon(true);
          return t;
        });
      }
    }
  }

  @Override
  public PartyDirectory directory() {
    return inner.directory();
  }

  @Override
  public void send(int to, MessageKey key, byte[] payload) {
    checkFailure();
    if (to < 0 || to >= senders.length || senders[to] == null) {
      inner.send(to, key, payload); // let the channel refuse it with its own message
      return;
    }
    senders[to].execute(() -> {
      if (failure != null) {
        return;
      }
      try {
        inner.send(to, key, payload);
      } catch (RuntimeException e) {
        failed(e);
      }
    });
  }

  private void failed(RuntimeException e) {
    synchronized (waiting) {
      if (failure == null) {
        failure = e;
      }
      for (Thread t : waiting) {
        t.interrupt();
      }
    }
  }

  private void checkFailure() {
    RuntimeException f = failure;
    if (f != null) {
      throw f;
    }
  }

  @Override
  public byte[] receive(MessageKey key, Duration timeout) {
    checkFailure();
    Thread self = Thread.currentThread();
    synchronized (waiting) {
      waiting.add(self);
    }
    try {
      return inner.receive(key, timeout);
    } catch (MpcChannelException e) {
      checkFailure();
      throw e;
    } finally {
      synchronized (waiting) {
        waiting.remove(self);
        if (failure != null) {
          Thread.interrupted(); // the interrupt was ours
        }
      }
    }
  }

  /** Wait until every send made so far was delivered (or failed), up to {@code max}. */
  public void drain(Duration max) {
    long deadline = System.nanoTime() + max.toNanos();
    for (ExecutorService s : senders) {
      if (s == null || s.isShutdown()) {
        continue;
      }
      Future<?> done = s.submit(() -> { });
      try {
        done.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        return; // a send that does not finish fails on its own timeout
      }
    }
  }

  /** Stop the sender threads (after {@link #drain}); the inner channel stays open. */
  public void stop() {
    for (ExecutorService s : senders) {
      if (s != null) {
        s.shutdownNow();
      }
    }
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

  /** Stops the sender threads; the inner channel belongs to the caller and stays open. */
  @Override
  public void close() {
    stop();
  }
}
