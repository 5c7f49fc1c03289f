package org.sparkmpc.protocol;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.util.MemoryUtil;
import org.sparkmpc.correlation.BeaverTriples;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.ring.LongCodec;
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
 *
 * <p>When only the sum of the products is wanted ({@code SUM(x * y)}, per group), {@link
 * #maskForSum} and {@link #finishSum} run the same round (the same messages, byte for byte) without
 * materialising the products: the inputs are read from their Arrow buffers and masked straight
 * into the message, and each party's share of {@code z} is added into its group's sum as it is
 * computed, {@code sum z = sum (c + d*b + e*a) (+ sum d*e at party 0)}.
 */
public final class BeaverMultiplication {
  private BeaverMultiplication() {}

  private static final VarHandle LE = MethodHandles.byteArrayViewVarHandle(long[].class,
      ByteOrder.LITTLE_ENDIAN);

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
   * A batch of products that are only summed: its triples and this party's message, {@code d =
   * x - a} for every element then {@code e = y - b}, as little-endian longs: exactly the payload
   * {@link #sendMasked} sends for the same inputs and triples.
   */
  public record SumPending(BeaverTriples triples, byte[] message, int n) {}

  /**
   * The local part of the first half for a sum of products: mask {@code x} and {@code y}, read
   * from Arrow data buffers of {@code n} little-endian longs (a {@code BigIntVector}'s), straight
   * into the message, in one pass and without copying the inputs to the heap. Nothing is sent.
   * The caller keeps the buffers' owner open for the call.
   */
  public static SumPending maskForSum(BeaverTriples t, ArrowBuf x, ArrowBuf y, int n) {
    if (t.size() < n) {
      throw new IllegalArgumentException(t.size() + " triples for " + n + " products");
    }
    long xa = address(x, n);
    long ya = address(y, n);
    byte[] m = new byte[16 * n];
    long[] a = t.a();
    long[] b = t.b();
    for (int i = 0; i < n; i++) {
      LE.set(m, 8 * i, MemoryUtil.getLong(xa + 8L * i) - a[i]);
    }
    int eOff = 8 * n;
    for (int i = 0; i < n; i++) {
      LE.set(m, eOff + 8 * i, MemoryUtil.getLong(ya + 8L * i) - b[i]);
    }
    return new SumPending(t, m, n);
  }

  private static long address(ArrowBuf buf, int n) {
    if (buf.refCnt() <= 0) {
      throw new IllegalStateException("the Arrow buffer was already freed");
    }
    if (buf.capacity() < 8L * n) {
      throw new IllegalArgumentException("Arrow buffer of " + buf.capacity() + " bytes read for "
          + n + " longs");
    }
    return buf.memoryAddress();
  }

  /** Send this party's message of a sum of products to every other party (never waits for one). */
  public static void sendForSum(MpcContext ctx, long operator, int partition, int round,
      SumPending p) {
    org.sparkmpc.net.MessageKey key = ctx.key(operator, partition, round);
    for (int q = 0; q < ctx.parties(); q++) {
      if (q != ctx.self()) {
        ctx.channel().send(q, key, p.message());
      }
    }
  }

  /**
   * Second half for a sum of products: open {@code d} and {@code e} (wait for every peer's
   * message) and add this party's share of each product {@code z[i]} into {@code acc[group[i]]}
   * ({@code acc[0]} for every element when {@code group} is null). The products themselves are
   * never stored. A peer whose message has another length fails with an error naming it.
   */
  public static void finishSum(MpcContext ctx, long operator, int partition, int round,
      SumPending p, int[] group, long[] acc) {
    int n = p.n();
    org.sparkmpc.net.MessageKey key = ctx.key(operator, partition, round);
    byte[][] in = new byte[ctx.parties() - 1][];
    int j = 0;
    for (int q = 0; q < ctx.parties(); q++) {
      if (q == ctx.self()) {
        continue;
      }
      byte[] m = ctx.channel().receive(key.withSender(q), ctx.timeout());
      if (m.length != 16L * n) {
        throw new ProtocolException("party '" + ctx.directory().name(q) + "' sent " + m.length
            + " bytes of shares for " + (2 * n) + " values (" + key.describe()
            + "): the parties disagree on the number of rows");
      }
      in[j++] = m;
    }
    long[] a = p.triples().a();
    long[] b = p.triples().b();
    long[] c = p.triples().c();
    byte[] own = p.message();
    // Party 0 adds d*e: a mask instead of a branch in the loop.
    long de = ctx.self() == 0 ? -1L : 0L;
    if (in.length == 1) {
      byte[] peer = in[0];
      int eOff = 8 * n;
      if (group == null) {
        long s = 0;
        for (int i = 0; i < n; i++) {
          long d = (long) LE.get(own, 8 * i) + (long) LE.get(peer, 8 * i);
          long e = (long) LE.get(own, eOff + 8 * i) + (long) LE.get(peer, eOff + 8 * i);
          s += c[i] + d * b[i] + e * a[i] + (d * e & de);
        }
        acc[0] += s;
      } else {
        for (int i = 0; i < n; i++) {
          long d = (long) LE.get(own, 8 * i) + (long) LE.get(peer, 8 * i);
          long e = (long) LE.get(own, eOff + 8 * i) + (long) LE.get(peer, eOff + 8 * i);
          acc[group[i]] += c[i] + d * b[i] + e * a[i] + (d * e & de);
        }
      }
      return;
    }
    // Three or more parties: the opened d and e first, then the same sum.
    long[] open = LongCodec.decode(own, 0, 2 * n, "own masked values");
    for (byte[] m : in) {
      LongCodec.addInto(m, 0, open, 2 * n);
    }
    long s = 0;
    for (int i = 0; i < n; i++) {
      long d = open[i];
      long e = open[n + i];
      long z = c[i] + d * b[i] + e * a[i] + (d * e & de);
      if (group == null) {
        s += z;
      } else {
        acc[group[i]] += z;
      }
    }
    acc[0] += s;
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
