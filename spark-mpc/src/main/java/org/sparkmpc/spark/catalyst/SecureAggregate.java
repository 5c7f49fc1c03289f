package org.sparkmpc.spark.catalyst;

import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * A secure aggregate grouped by public columns: {@code SUM} and {@code AVG} of secure columns, of
 * products of two secure columns and of either times a public constant, and {@code COUNT} of
 * anything. Output column {@code i} is described by {@code kinds[i]} ({@code GROUP}, {@code SUM},
 * {@code SUMPROD}, {@code AVG}, {@code AVGPROD}, {@code COUNT}) applied to {@code inputs[i]} (times
 * {@code partners[i]} for products, times {@code factors[i]}); SUM outputs are shares, COUNT and
 * GROUP outputs are public (group sizes follow from the public grouping columns), and AVG outputs
 * exist only under a reveal.
 */
public final class SecureAggregate extends SecureLogicalNode {
  private static final long serialVersionUID = 1L;

  private final Seq<Attribute> grouping;
  private final Seq<String> kinds;
  private final Seq<Attribute> inputs;
  private final Seq<Attribute> partners;
  private final Seq<String> factors;
  private final Seq<Attribute> output;
  private final LogicalPlan child;

  public SecureAggregate(Seq<Attribute> grouping, Seq<String> kinds, Seq<Attribute> inputs,
      Seq<Attribute> partners, Seq<String> factors, Seq<Attribute> output, LogicalPlan child) {
    this.grouping = grouping;
    this.kinds = kinds;
    this.inputs = inputs;
    this.partners = partners;
    this.factors = factors;
    this.output = output;
    this.child = child;
  }

  /** The second factor of {@code SUMPROD}/{@code AVGPROD} outputs (the input itself otherwise). */
  public List<Attribute> partners() {
    return ScalaInterop.list(partners);
  }

  /** A public constant each output is multiplied by ({@code "1"} when none). */
  public List<String> factors() {
    return ScalaInterop.list(factors);
  }

  public List<Attribute> grouping() {
    return ScalaInterop.list(grouping);
  }

  public List<String> kinds() {
    return ScalaInterop.list(kinds);
  }

  public List<Attribute> inputs() {
    return ScalaInterop.list(inputs);
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
    return AttributeSet.apply(ScalaInterop.<org.apache.spark.sql.catalyst.expressions.Expression>seq(
        new java.util.ArrayList<>(concat(concat(grouping(), inputs()), partners()))));
  }

  @Override
  public AttributeSet producedAttributes() {
    return AttributeSet.apply(ScalaInterop.<org.apache.spark.sql.catalyst.expressions.Expression>seq(new java.util.ArrayList<>(ScalaInterop.list(output))));
  }

  @Override
  public Seq<LogicalPlan> children() {
    return ScalaInterop.seqOf(child);
  }

  @Override
  public LogicalPlan withNewChildrenInternal(IndexedSeq<LogicalPlan> c) {
    return new SecureAggregate(grouping, kinds, inputs, partners, factors, output, c.apply(0));
  }

  @Override
  protected Object[] fields() {
    return new Object[] {grouping, kinds, inputs, partners, factors, output, child};
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    java.util.ArrayList<T> l = new java.util.ArrayList<>(a);
    l.addAll(b);
    return l;
  }
}
