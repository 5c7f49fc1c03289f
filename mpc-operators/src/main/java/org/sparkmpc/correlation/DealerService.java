package org.sparkmpc.correlation;

import java.nio.ByteBuffer;
import java.time.Duration;
import org.sparkmpc.net.MessageKey;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.ring.LongCodec;
import org.sparkmpc.session.MpcContext;

/**
 * The dealer's loop: for operator 1, 2, 3, ... it waits for the last computing party's request,
 * computes the corrections of each requested batch and sends them to that party, until the session
 * ends. Stateless between operators: the material is a function of the pairwise keys and the
 * coordinates, so a repeated request gets the same answer.
 */
public final class DealerService {
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
    for (long op = 1; ; op++) {
      byte[] req = ctx.channel().receive(new MessageKey(ctx.sessionId(), op,
          DealerCorrelationSource.REQUEST_PARTITION, 0, last), idle);
      ByteBuffer b = ByteBuffer.wrap(req);
      if (req.length < 4) {
        throw new ProtocolException("malformed dealer request for operator " + op);
      }
      int count = b.getInt();
      if (count == -1) {
        return op - 1;
      }
      if (count < 0 || req.length != 4 + 12 * count) {
        throw new ProtocolException("malformed dealer request for operator " + op);
      }
      for (int i = 0; i < count; i++) {
        DealerCorrelationSource.Need need =
            new DealerCorrelationSource.Need(b.getInt(), b.getInt(), b.getInt());
        long[] corr = DealerCorrelationSource.corrections(ctx, op, need);
        ctx.channel().send(last, new MessageKey(ctx.sessionId(), op, need.partition(),
            DealerCorrelationSource.CORRECTION_ROUND + need.stream(), ctx.self()),
            LongCodec.encode(corr));
      }
    }
  }
}
