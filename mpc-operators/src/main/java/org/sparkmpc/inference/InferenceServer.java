package org.sparkmpc.inference;

import java.time.Duration;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.net.PeerTimeoutException;
import org.sparkmpc.session.MpcContext;

/**
 * The server side of a secure inference session: the model's owner (with the plaintext model,
 * shared once when the session opens), or a holder of shares of a model trained secret-shared,
 * or a helper party with no part of the model. It answers the client's requests ({@link
 * InferenceClient}) until the client ends the session or the server is closed.
 *
 * <p>Per request it runs the same protocol as the client (see {@link InferenceClient} for the
 * rounds and bytes) on the next operator of the session, in lockstep, and sends its share of the
 * result to the client only.
 *
 * <p><b>What it reveals.</b> To this server: the mode (probability or label) and number of rows
 * of each request, and the model's public shape; everything it receives from the client and the
 * other parties is masked by fresh uniform randomness, so it learns nothing of the rows and
 * nothing of the outputs. To the client: each request's output only. Before the session starts,
 * the owner checks its model against the session's feature range ({@link
 * InferenceSettings#maxFeatureBits()}) and refuses, telling the peers, a model whose logit could
 * leave the ring's exact range; with a shared model the parties check it securely.
 *
 * <p>{@link #serve} runs on the calling thread; {@link #close} may be called from another.
 */
public final class InferenceServer implements AutoCloseable {
  private static final Duration POLL = Duration.ofMillis(250);

  private final InferenceSession session;
  private volatile boolean closed;
  private boolean serving;

  private InferenceServer(InferenceSession session) {
    this.session = session;
  }

  /**
   * Open the session as a server.
   *
   * @param client the name of the client party in {@code ctx}'s directory
   * @param model  the plaintext model (at the owner), this party's shares of it, or null for a
   *               party that holds no part of it
   */
  public static InferenceServer open(MpcContext ctx, CorrelationSource source,
      InferenceSettings settings, String client, InferenceModel model) {
    if (ctx.directory().self().name().equals(client)) {
      throw new MpcInputException("party '" + client + "' is the client; it opens an "
          + "InferenceClient");
    }
    return new InferenceServer(InferenceSession.open(ctx, source, settings, client, model));
  }

  /** Serve until the client ends the session or {@link #close} is called; no idle limit. */
  public long serve() {
    return serve(null);
  }

  /**
   * Serve requests until the client ends the session, {@link #close} is called, or no request
   * arrives for {@code idle} (null: no limit). Returns the number of requests served. A failed
   * request (the client or another party down, a protocol error) ends the session and is thrown.
   *
   * @throws PeerTimeoutException naming the client when it was idle for {@code idle}
   */
  public long serve(Duration idle) {
    synchronized (this) {
      if (closed) {
        return session.requests();
      }
      serving = true;
    }
    long last = System.nanoTime();
    try {
      while (!closed && !session.ended()) {
        if (session.serveOne(POLL)) {
          last = System.nanoTime();
        } else if (idle != null && System.nanoTime() - last > idle.toNanos()) {
          throw new PeerTimeoutException("the client '"
              + session.ctx.directory().name(session.client) + "' sent no request for "
              + idle.toSeconds() + " s; the inference session is closed");
        }
      }
      return session.requests();
    } finally {
      synchronized (this) {
        serving = false;
        if (!session.ended() && (closed || session.failure() != null)) {
          session.closeLocally();
        }
      }
    }
  }

  /** Whether the session has ended (the client ended it, or this server was closed). */
  public boolean ended() {
    return session.ended();
  }

  /** Requests served so far. */
  public long requests() {
    return session.requests();
  }

  /** The model's public shape: the number of features. */
  public int features() {
    return session.features;
  }

  /** Mean milliseconds per request of each phase at this server (see {@link InferenceClient}). */
  public java.util.Map<String, Double> phaseMillis() {
    return session.phaseMillis();
  }

  /**
   * Stop serving: {@link #serve} returns within a fraction of a second, and the session ends at
   * this party (the client's next request fails naming this party). Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      if (!serving && !session.ended()) {
        session.closeLocally();
      }
    }
  }
}
