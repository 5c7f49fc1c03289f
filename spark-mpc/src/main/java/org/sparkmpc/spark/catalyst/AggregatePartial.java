package org.sparkmpc.spark.catalyst;

import java.io.Serializable;
import java.util.List;

/**
 * One partition's partial aggregate, at this party: group keys (UnsafeRow bytes), this party's
 * shares of the group sums (low words), the high words of wide sums ({@code null} for a sum kept in
 * 64 bits), and the public row counts.
 */
final class AggregatePartial implements Serializable {
  private static final long serialVersionUID = 1L;
  final List<byte[]> keys;
  final long[][] sums;
  final long[][] highs;
  final long[] counts;

  AggregatePartial(List<byte[]> keys, long[][] sums, long[][] highs, long[] counts) {
    this.keys = keys;
    this.sums = sums;
    this.highs = highs;
    this.counts = counts;
  }
}
