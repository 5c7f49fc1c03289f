package org.sparkmpc.spark.catalyst;

import java.io.Serializable;
import java.util.Arrays;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;

/**
 * Base of the secure logical nodes: Catalyst needs every node to be a Scala product (arity,
 * elements, equality), which case classes get for free and Java classes must spell out. A subclass
 * lists its constructor arguments, in constructor order, in {@link #fields()}, so that Catalyst's
 * reflective {@code makeCopy} and its expression transforms work on it.
 */
public abstract class SecureLogicalNode extends LogicalPlan implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The constructor arguments, in order. */
  protected abstract Object[] fields();

  @Override
  public int productArity() {
    return fields().length;
  }

  @Override
  public Object productElement(int n) {
    return fields()[n];
  }

  @Override
  public boolean canEqual(Object that) {
    return that != null && that.getClass() == getClass();
  }

  @Override
  public boolean equals(Object o) {
    return o != null && o.getClass() == getClass()
        && Arrays.equals(fields(), ((SecureLogicalNode) o).fields());
  }

  @Override
  public int hashCode() {
    return getClass().hashCode() * 31 + Arrays.hashCode(fields());
  }
}
