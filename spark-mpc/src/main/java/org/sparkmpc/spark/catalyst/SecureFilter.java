package org.sparkmpc.spark.catalyst;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * A filter whose condition reads secure columns ({@code WHERE amount > 10000}): it drops no row and
 * opens nothing. Its condition, compiled to a {@link SecureExpr}, becomes a secret bit per row that
 * a secure aggregate directly above folds into its sums, counts, minima and maxima
 * ({@link SecureDeepAggregate}); anything else over it is refused when planned, since the rows that
 * meet a secret predicate are never listed.
 */
public final class SecureFilter extends SecureLogicalNode {
  private static final long serialVersionUID = 1L;

  private final SecureExpr condition;
  private final LogicalPlan child;

  public SecureFilter(SecureExpr condition, LogicalPlan child) {
    this.condition = condition;
    this.child = child;
  }

  SecureExpr condition() {
    return condition;
  }

  public LogicalPlan child() {
    return child;
  }

  @Override
  public Seq<Attribute> output() {
    return child.output();
  }

  @Override
  public AttributeSet references() {
    List<Expression> refs = new ArrayList<>(condition.inputs);
    refs.addAll(condition.publicInputs);
    return AttributeSet.apply(ScalaInterop.seq(refs));
  }

  @Override
  public Seq<LogicalPlan> children() {
    return ScalaInterop.seqOf(child);
  }

  @Override
  public LogicalPlan withNewChildrenInternal(IndexedSeq<LogicalPlan> c) {
    return new SecureFilter(condition, c.apply(0));
  }

  @Override
  public String simpleString(int maxFields) {
    return "SecureFilter " + condition.sql;
  }

  @Override
  protected Object[] fields() {
    return new Object[] {condition, child};
  }
}
