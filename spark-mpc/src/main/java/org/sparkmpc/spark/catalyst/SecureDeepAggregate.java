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
 * A secure aggregate grouped by public columns that needs deep protocols: under a secret predicate
 * ({@code condition}, from a {@link SecureFilter}), over row expressions with secret conditions
 * ({@code SUM(CASE WHEN amount > 1000 THEN amount ELSE 0 END)}), or with {@code MIN}/{@code MAX}.
 * Output {@code i} is {@code kinds[i]} ({@code GROUP}, {@code SUM}, {@code AVG}, {@code COUNT},
 * {@code MIN}, {@code MAX}) of {@code args[i]} (null for GROUP and COUNT; GROUP's column is
 * {@code output[i]} itself). Counts under a secret predicate are secret. Always revealed in the
 * same query ({@link SecureReveal} directly above), so the minimum group size can be enforced.
 *
 * <p>A secret {@code HAVING} condition ({@code having}) reads the group's secure aggregates
 * {@code hidden}: outputs {@code output.size()..} of {@code kinds} and {@code args}, computed like
 * the others but never opened; only the condition's bit per group is, and a group whose bit is 0
 * is left out of the result.
 */
public final class SecureDeepAggregate extends SecureLogicalNode {
  private static final long serialVersionUID = 1L;

  private final Seq<Attribute> grouping;
  private final Seq<String> kinds;
  private final List<SecureExpr> args;
  private final SecureExpr condition;
  private final SecureExpr having;
  private final Seq<Attribute> hidden;
  private final Seq<Attribute> output;
  private final LogicalPlan child;

  public SecureDeepAggregate(Seq<Attribute> grouping, Seq<String> kinds, List<SecureExpr> args,
      SecureExpr condition, SecureExpr having, Seq<Attribute> hidden, Seq<Attribute> output,
      LogicalPlan child) {
    this.grouping = grouping;
    this.kinds = kinds;
    this.args = args;
    this.condition = condition;
    this.having = having;
    this.hidden = hidden;
    this.output = output;
    this.child = child;
  }

  /** The secret HAVING condition over {@link #hidden}, or null. */
  SecureExpr having() {
    return having;
  }

  /** The secure aggregates only the HAVING condition reads (outputs past {@link #output}). */
  List<Attribute> hidden() {
    return ScalaInterop.list(hidden);
  }

  List<Attribute> grouping() {
    return ScalaInterop.list(grouping);
  }

  List<String> kinds() {
    return ScalaInterop.list(kinds);
  }

  List<SecureExpr> args() {
    return args;
  }

  /** The secret predicate, or null. */
  SecureExpr condition() {
    return condition;
  }

  public LogicalPlan child() {
    return child;
  }

  @Override
  public Seq<Attribute> output() {
    return output;
  }

  @Override
  public AttributeSet references() {
    List<Expression> refs = new ArrayList<>(grouping());
    List<SecureExpr> all = new ArrayList<>(args);
    all.add(condition);
    for (SecureExpr e : all) {
      if (e != null) {
        refs.addAll(e.inputs);
        refs.addAll(e.publicInputs);
      }
    }
    return AttributeSet.apply(ScalaInterop.seq(refs));
  }

  @Override
  public AttributeSet producedAttributes() {
    List<Expression> all = new ArrayList<>(ScalaInterop.list(output));
    all.addAll(hidden());
    return AttributeSet.apply(ScalaInterop.seq(all));
  }

  @Override
  public Seq<LogicalPlan> children() {
    return ScalaInterop.seqOf(child);
  }

  @Override
  public LogicalPlan withNewChildrenInternal(IndexedSeq<LogicalPlan> c) {
    return new SecureDeepAggregate(grouping, kinds, args, condition, having, hidden, output,
        c.apply(0));
  }

  @Override
  protected Object[] fields() {
    return new Object[] {grouping, kinds, args, condition, having, hidden, output, child};
  }
}
