package org.sparkmpc.spark.catalyst;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.types.DataType;
import org.sparkmpc.ring.ArrowRing64;
import org.sparkmpc.spark.table.SharePartition;

/**
 * The public groups of one partition of a secure table: each row's group id from its public key
 * columns' dictionary codes (in mixed radix when the key space is small, else compacted in order
 * of first appearance), rows a public filter drops in one extra group {@link #groups} that is never
 * output, and the group keys as UnsafeRow bytes, which every party computes alike.
 *
 * @param gid    group id of each row
 * @param groups number of groups (ids {@code 0..groups-1}; {@code groups} is the dropped rows')
 * @param radix  the mixed-radix code of each compacted group, or null when ids are the codes
 */
record PartitionGroups(int[] gid, int groups, long[] radix) {

  /** Group the rows of {@code p} by its public columns {@code keyColumns}; {@code keep} may be null. */
  static PartitionGroups of(SharePartition p, int[] keyColumns, boolean[] keep) {
    int n = p.rows();
    long span = 1;
    for (int k : keyColumns) {
      span = Math.min(Long.MAX_VALUE / 2, span * Math.max(1, p.dictionary(k).length));
    }
    int[] gid = new int[n];
    int groups;
    long[] radixOf;
    if (span <= 1 << 16) {
      for (int ki = 0; ki < keyColumns.length; ki++) {
        ArrowRing64.mixRadix(p.codeBuffer(keyColumns[ki]), p.dictionary(keyColumns[ki]).length,
            gid, n);
      }
      java.lang.ref.Reference.reachabilityFence(p);
      groups = (int) span;
      radixOf = null;
    } else {
      Map<Long, Integer> compact = new HashMap<>();
      List<Long> keys = new ArrayList<>();
      int[][] codes = new int[keyColumns.length][];
      for (int ki = 0; ki < keyColumns.length; ki++) {
        codes[ki] = p.codes(keyColumns[ki]);
      }
      for (int i = 0; i < n; i++) {
        long key = 0;
        for (int ki = 0; ki < keyColumns.length; ki++) {
          key = key * p.dictionary(keyColumns[ki]).length + codes[ki][i];
        }
        Integer g = compact.get(key);
        if (g == null) {
          g = keys.size();
          compact.put(key, g);
          keys.add(key);
        }
        gid[i] = g;
      }
      groups = keys.size();
      radixOf = keys.stream().mapToLong(Long::longValue).toArray();
    }
    if (keep != null) {
      for (int i = 0; i < n; i++) {
        if (!keep[i]) {
          gid[i] = groups;
        }
      }
    }
    return new PartitionGroups(gid, groups, radixOf);
  }

  /** Rows per group id, the dropped rows' last. */
  long[] counts() {
    long[] counts = new long[groups + 1];
    for (int g : gid) {
      counts[g]++;
    }
    return counts;
  }

  /** The ids of the groups that have rows, ascending. */
  int[] used(long[] counts) {
    return java.util.stream.IntStream.range(0, groups).filter(g -> counts[g] > 0).toArray();
  }

  /** The UnsafeRow bytes of the key of each group in {@code used}. */
  List<byte[]> keys(SharePartition p, int[] keyColumns, DataType[] keyTypes, int[] used) {
    UnsafeProjection toKey = UnsafeProjection.create(keyTypes);
    List<byte[]> keys = new ArrayList<>(used.length);
    for (int g : used) {
      long code = radix == null ? g : radix[g];
      Object[] values = new Object[keyColumns.length];
      for (int ki = keyColumns.length - 1; ki >= 0; ki--) {
        Object[] dict = p.dictionary(keyColumns[ki]);
        values[ki] = dict[(int) (code % dict.length)];
        code /= dict.length;
      }
      keys.add(toKey.apply(new GenericInternalRow(values)).copy().getBytes());
    }
    return keys;
  }
}
