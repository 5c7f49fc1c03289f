package org.sparkmpc.share;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.sparkmpc.session.MpcContext;

/**
 * {@link AdditiveSharing} and {@link Reveal} over whole Arrow {@link BigIntVector} batches. Same
 * rounds, bytes and leakage as the array kernels; the returned vectors belong to the caller.
 */
public final class VectorSharing {
  private VectorSharing() {}

  /** Owner side: this party's share of the encoded values in {@code plain}. */
  public static BigIntVector shareOwn(MpcContext ctx, BufferAllocator alloc, long operator,
      int partition, int stream, BigIntVector plain, String column) {
    long[] v = ArrowLongs.toArray(plain, column);
    AdditiveSharing.shareOwnInPlace(ctx, operator, partition, stream, v, v.length);
    return ArrowLongs.fromArray(alloc, column, v, v.length);
  }

  /** Non-owner side: this party's share of {@code n} values {@code owner} shared. */
  public static BigIntVector peerShare(MpcContext ctx, BufferAllocator alloc, int owner,
      long operator, int partition, int stream, int n, String column) {
    long[] v = AdditiveSharing.peerShare(ctx, owner, operator, partition, stream, n);
    return ArrowLongs.fromArray(alloc, column, v, n);
  }

  /** Reveal a share vector to {@code recipients}; {@code null} at non-recipients. */
  public static BigIntVector reveal(MpcContext ctx, BufferAllocator alloc, long operator,
      int partition, int round, BigIntVector shares, int[] recipients, String column) {
    long[] s = ArrowLongs.toArray(shares, column);
    long[] v = Reveal.toParties(ctx, operator, partition, round, s, s.length, recipients);
    return v == null ? null : ArrowLongs.fromArray(alloc, column, v, v.length);
  }
}
