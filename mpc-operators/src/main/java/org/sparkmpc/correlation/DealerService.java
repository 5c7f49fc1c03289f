package org.sparkmpc.correlation;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.sparkmpc.net.MessageKey;
import org.sparkmpc.net.OperatorReleasedException;
import org.sparkmpc.ring.LongCodec;
import org.sparkmpc.session.MpcContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dealer's loop: for each operator id of the session, in the order the session's
 * {@link org.sparkmpc.session.Coordinates} hands them out, it waits for the last computing party's
 * request, computes the corrections of each requested batch (Beaver, truncation, matrix and Gram triples)
 * and sends them to that party (one batch in flight while the next is computed), until the
 * session ends. Stateless between operators: the material
 * is a function of the pairwise keys, the dealer's private seed for this session and the
 * coordinates, so a repeated request gets the same answer.
 *
 * <p>A party may finish an operator before the dealer has sent all of its material: it refused the
 * query after asking (a plan or wave-width mismatch) or failed, and released the operator's
 * messages. Its gateway then refuses the late corrections ({@link OperatorReleasedException}); the
 * dealer drops the rest of that operator's material and serves the next one, since the party
 * will never read it.
 */
public final class DealerService {
  private static final Logger LOG = LoggerFactory.getLogger(DealerService.class);

  private DealerService() {}

  /**
   * Serve a session. {@code ctx} is the dealer's own context (it must be the dealer member).
   * Returns the number of operators served when the parties end the session.
   *
   * @param idle how long to wait for the next operator's request before giving up
   */
  public static long serve(MpcContext ctx, Duration idle) {
    if (ctx.self() != ctx.dealer()) {
      throw new IllegalArgumentException("serve runs at the dealer member of the session");
    }
    int last = ctx.parties() - 1;
    byte[] privateSeed = new byte[32];
    new java.security.SecureRandom().nextBytes(privateSeed);
    // One batch is sent while the next is computed: the send waits for the last party's gateway to
    // take the bytes, which is time the dealer can spend expanding the next batch.
    ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "dealer-send");
      t.setDaemon(true);
      return t;
    });
    try {
      for (long served = 0; ; served++) {
        // The parties ask for every operator in order, so the dealer follows the same sequence.
        long op = ctx.coordinates().operator("dealer request").id();
        byte[] req;
        try {
          req = ctx.channel().receive(ctx.dealerRequestKey(op).withSender(last), idle);
        } catch (org.sparkmpc.net.PeerAbortedException refused) {
          // The party stopped the operator before asking for anything (its input was refused):
          // there is nothing to serve, and the next operator is still to come.
          LOG.info("dealer: party '{}' stopped operator {} before asking for its material",
              ctx.directory().name(last), op);
          continue;
        }
        List<Need> needs = Need.decode(req, op);
        if (needs == null) {
          return served;
        }
        Future<?> inFlight = null;
        try {
          for (Need need : needs) {
            long[] corr = DealerCorrelationSource.corrections(ctx, privateSeed, op, need);
            if (corr.length > 0) {
              MessageKey key = ctx.key(op, need.partition(),
                  DealerCorrelationSource.correctionRound(need.stream()));
              byte[] payload = LongCodec.encode(corr);
              await(inFlight); // at most one batch in flight, in the order of the request
              inFlight = sender.submit(() -> ctx.channel().send(last, key, payload));
            }
          }
          await(inFlight);
        } catch (OperatorReleasedException finished) {
          LOG.info("dealer: party '{}' finished operator {} before its material was sent; "
              + "the rest of it is dropped", ctx.directory().name(last), op);
        }
      }
    } finally {
      sender.shutdownNow();
    }
  }

  /** Wait for a send to finish; its failure is rethrown as it was thrown. */
  private static void await(Future<?> send) {
    if (send == null) {
      return;
    }
    try {
      send.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException("sending the dealer's material failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while sending the dealer's material", e);
    }
  }
}
