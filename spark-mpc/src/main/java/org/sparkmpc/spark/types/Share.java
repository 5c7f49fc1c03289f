package org.sparkmpc.spark.types;

import java.io.Serializable;
import org.apache.spark.sql.types.SQLUserDefinedType;

/**
 * One party's additive share of one secure value, as the user class of {@link ShareType}. The check
 * rule refuses {@code collect()}, {@code javaRDD()} and {@code toJSON()} of share columns (a typed
 * map could serialise the share as a number), so user code does not normally hold one; should it,
 * a {@code Share} has no public accessor and prints as {@code share}, so it can neither be turned
 * back into a number by the public API nor leak through a log line or {@code show()}.
 */
@SQLUserDefinedType(udt = ShareType.class)
public final class Share implements Serializable {
  private static final long serialVersionUID = 1L;

  final long value;

  Share(long value) {
    this.value = value;
  }

  @Override
  public String toString() {
    return "share";
  }

  @Override
  public boolean equals(Object o) {
    return o == this; // a share is not comparable: equal shares say nothing about equal values
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }
}
