package org.sparkmpc.spark.table;

import java.io.Serializable;

/**
 * One partition of a secure table as this party holds it, in the form the kernels loop over: the
 * secure columns as {@code long[]} shares, and the public columns dictionary-coded ({@code int}
 * codes into a small array of Spark internal values). Kept in Spark's block manager (memory, then
 * this party's local disk), never sent anywhere.
 */
public final class SharePartition implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int rows;
  private final long[][] shares;
  private final int[][] codes;
  private final Object[][] dictionaries;
  private final long[][] highs;
  private final int[] bits;

  public SharePartition(int rows, long[][] shares, int[][] codes, Object[][] dictionaries) {
    this(rows, shares, null, null, codes, dictionaries);
  }

  /**
   * @param highs high words of wide shares per secure column ({@code null}, or a null entry, for a
   *     column with 64-bit shares only)
   * @param bits  per secure column, the magnitude bound {@code |v| < 2^bits} of the values this
   *     party owns in this partition (0 where it owns none); {@code null} for all 0
   */
  public SharePartition(int rows, long[][] shares, long[][] highs, int[] bits, int[][] codes,
      Object[][] dictionaries) {
    this.rows = rows;
    this.shares = shares;
    this.codes = codes;
    this.dictionaries = dictionaries;
    this.highs = highs == null ? new long[shares.length][] : highs;
    this.bits = bits == null ? new int[shares.length] : bits;
  }

  /**
   * High words of this party's wide shares of secure column {@code c}, or {@code null} (a narrow
   * column, or one whose values another party owns here: a peer's high words are all 0). With
   * {@link #shares(int)} as low words they are shares in Z(2^128), whose sums never wrap.
   */
  public long[] highs(int c) {
    return highs[c];
  }

  /** The magnitude bound of the values of column {@code c} this party owns here (0: none). */
  public int bits(int c) {
    return bits[c];
  }

  public int rows() {
    return rows;
  }

  /** This party's shares of secure column {@code c}. */
  public long[] shares(int c) {
    return shares[c];
  }

  /** Dictionary codes of public column {@code p}. */
  public int[] codes(int p) {
    return codes[p];
  }

  /** Distinct values of public column {@code p} (Spark internal values; {@code null} allowed). */
  public Object[] dictionary(int p) {
    return dictionaries[p];
  }

  public int secureColumns() {
    return shares.length;
  }

  public int publicColumns() {
    return codes.length;
  }
}
