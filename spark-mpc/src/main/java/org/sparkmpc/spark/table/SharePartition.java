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

  public SharePartition(int rows, long[][] shares, int[][] codes, Object[][] dictionaries) {
    this.rows = rows;
    this.shares = shares;
    this.codes = codes;
    this.dictionaries = dictionaries;
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
