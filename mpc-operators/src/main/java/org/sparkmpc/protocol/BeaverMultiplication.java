package org.sparkmpc.protocol;

import org.sparkmpc.correlation.BeaverTriples;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.share.Reveal;

/**
 * Batched Beaver multiplication in Z(2^64): shares of {@code z = x * y}, elementwise, from shares of
 * {@code x} and {@code y} and one triple per element.
 *
 * <p>Each party opens {@code d = x - a} and {@code e = y - b} (both uniformly masked) in one
 * message to every other party; then {@code z = c + d*b + e*a + d*e}, the last term added by party
 * 0 only. Rounds: 1. Bytes sent per element: 16 to each other computing party, plus the correlation
 * source's own cost. Reveals: {@code d} and {@code e}, which are uniform and independent of the
 * inputs.
 *
 * <p>The round is split into {@link #send} (never waits) and {@link #finish} (waits for the peers),
 * so that Spark tasks can run them as separate stages.
 */
public final class BeaverMultiplication {
  private BeaverMultiplication() {}

  /** State between the two halves: the triples and this party's masked values. */
  public record Pending(BeaverTriples triples, long[] maskedDe, int n) {}

  /** Multiply in one call (both halves). */
  public static long[] multiply(MpcContext ctx, CorrelationSource source, long operator,
      int partition, int round, int stream, long[] x, long[] y, int n) {
    return finish(ctx, operator, partition, round,
        send(ctx, source, operator, partition, round, stream, x, y, n));
  }

  /** First half: fetch the triples, mask {@code x} and {@code y}, send the masked values. */
  public static Pending send(MpcContext ctx, CorrelationSource source, long operator,
      int partition, int round, int stream, long[] x, long[] y, int n) {
    Pending p = prepare(source, operator, partition, stream, x, y, n);
    sendMasked(ctx, operator, partition, round, p);
    return p;
  }

  /**
   * The local part of the first half: triples and masked values, nothing sent. Deterministic, so a
   * receive stage can recompute it instead of keeping it.
   */
  public static Pending prepare(CorrelationSource source, long operator, int partition,
      int stream, long[] x, long[] y, int n) {
    return mask(source.triples(operator, partition, stream, n), x, y, n);
  }

  /** Mask {@code x} and {@code y} with triples already at hand: {@code d = x - a}, {@code e = y - b}. */
  public static Pending mask(BeaverTriples t, long[] x, long[] y, int n) {
    long[] de = new long[2 * n];
    long[] a = t.a();
    long[] b = t.b();
    for (int i = 0; i < n; i++) {
      de[i] = x[i] - a[i];
      de[n + i] = y[i] - b[i];
    }
    return new Pending(t, de, n);
  }

  /** Send this party's masked values of a prepared multiplication to every other party. */
  public static void sendMasked(MpcContext ctx, long operator, int partition, int round,
      Pending p) {
    Reveal.send(ctx, operator, partition, round, p.maskedDe(), 2 * p.n(), Reveal.all(ctx));
  }

  /** Second half: open {@code d}, {@code e} and compute this party's share of {@code z}. */
  public static long[] finish(MpcContext ctx, long operator, int partition, int round,
      Pending p) {
    int n = p.n();
    long[] de = Reveal.receive(ctx, operator, partition, round, p.maskedDe(), 2 * n);
    long[] a = p.triples().a();
    long[] b = p.triples().b();
    long[] c = p.triples().c();
    long[] z = new long[n];
    boolean first = ctx.self() == 0;
    for (int i = 0; i < n; i++) {
      long d = de[i];
      long e = de[n + i];
      z[i] = c[i] + d * b[i] + e * a[i] + (first ? d * e : 0);
    }
    return z;
  }

  /**
   * Dot product {@code sum_i x_i * y_i} of two shared vectors: the products' shares summed locally.
   * Rounds: 1. Bytes per element: 16 to each other party.
   */
  public static long dot(MpcContext ctx, CorrelationSource source, long operator, int partition,
      int round, int stream, long[] x, long[] y, int n) {
    long[] z = multiply(ctx, source, operator, partition, round, stream, x, y, n);
    long s = 0;
    for (long v : z) {
      s += v;
    }
    return s;
  }
}
