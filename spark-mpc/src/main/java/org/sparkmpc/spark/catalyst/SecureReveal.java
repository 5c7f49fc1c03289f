package org.sparkmpc.spark.catalyst;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.ExprId;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.types.Metadata;
import org.sparkmpc.spark.SecureColumns;
import org.sparkmpc.spark.dp.Noise;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * The explicit opening of every secure column of {@code child} to {@code recipients} (party names;
 * empty means all parties). Public columns pass through. At a party that is not a recipient the
 * result has no rows. This node is the only way a secure value leaves MPC. With {@link Noise}
 * other than {@link Noise#NONE}, the aggregates below are opened with differentially private noise
 * drawn inside MPC (only SUM, COUNT and AVG by public groups take it; anything else is refused).
 */
public final class SecureReveal extends SecureLogicalNode {
  private static final long serialVersionUID = 1L;

  private final Seq<String> recipients;
  private final Seq<Attribute> output;
  private final LogicalPlan child;
  private final Noise noise;

  public SecureReveal(Seq<String> recipients, Seq<Attribute> output, LogicalPlan child,
      Noise noise) {
    this.recipients = recipients;
    this.output = output;
    this.child = child;
    this.noise = noise;
  }

  /** Reveal {@code child}'s secure columns; revealed columns get fresh expression ids. */
  public static SecureReveal of(List<String> recipients, LogicalPlan child) {
    return of(recipients, child, null);
  }

  /**
   * Reveal {@code child}'s secure columns; revealed column {@code i} of the child's output takes
   * expression id {@code ids.get(i)} when given (so that a parent plan that referred to the
   * pre-rewrite attribute still resolves), else a fresh one.
   */
  public static SecureReveal of(List<String> recipients, LogicalPlan child, List<ExprId> ids) {
    return of(recipients, child, ids, Noise.NONE);
  }

  /** As {@link #of(List, LogicalPlan, List)}, opening the aggregates below with {@code noise}. */
  public static SecureReveal of(List<String> recipients, LogicalPlan child, List<ExprId> ids,
      Noise noise) {
    List<Attribute> out = new ArrayList<>();
    List<Attribute> in = ScalaInterop.list(child.output());
    for (int i = 0; i < in.size(); i++) {
      Attribute a = in.get(i);
      if (SecureColumns.isSecure(a)) {
        ExprId id = ids != null && ids.get(i) != null ? ids.get(i) : NamedExpression.newExprId();
        out.add(new AttributeReference(a.name(), SecureColumns.revealedType(a), true,
            Metadata.empty(), id, a.qualifier()));
      } else {
        out.add(a);
      }
    }
    return new SecureReveal(ScalaInterop.seq(recipients), ScalaInterop.seq(out), child, noise);
  }

  /** The noise the aggregates below are opened with ({@link Noise#NONE}: exact). */
  public Noise noise() {
    return noise;
  }

  public List<String> recipients() {
    return ScalaInterop.list(recipients);
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
    return child.outputSet();
  }

  @Override
  public AttributeSet producedAttributes() {
    List<org.apache.spark.sql.catalyst.expressions.Expression> fresh = new ArrayList<>();
    for (Attribute a : ScalaInterop.list(output)) {
      if (!child.outputSet().contains(a)) {
        fresh.add(a);
      }
    }
    return AttributeSet.apply(ScalaInterop.seq(fresh));
  }

  @Override
  public Seq<LogicalPlan> children() {
    return ScalaInterop.seqOf(child);
  }

  @Override
  public LogicalPlan withNewChildrenInternal(IndexedSeq<LogicalPlan> c) {
    return new SecureReveal(recipients, output, c.apply(0), noise);
  }

  @Override
  protected Object[] fields() {
    return new Object[] {recipients, output, child, noise};
  }
}
