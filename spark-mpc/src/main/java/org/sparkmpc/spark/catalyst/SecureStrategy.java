package org.sparkmpc.spark.catalyst;

import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.SparkStrategy;
import scala.collection.immutable.Seq;

/**
 * Planner strategy: secure logical nodes to secure physical operators. A reveal directly over a
 * secure aggregate is fused into one {@link SecureHashAggregateExec} (so AVG can be opened as a sum
 * over a public count).
 */
public final class SecureStrategy extends SparkStrategy {
  private static final long serialVersionUID = 1L;

  @Override
  public Seq<SparkPlan> apply(LogicalPlan plan) {
    if (plan instanceof SecureTableRelation t) {
      return ScalaInterop.seqOf(new SecureTableScanExec(t.tableId(), t.output()));
    }
    if (plan instanceof SecureReveal r && r.child() instanceof SecureAggregate a) {
      return ScalaInterop.seqOf(new SecureHashAggregateExec(ScalaInterop.seq(a.grouping()),
          ScalaInterop.seq(a.kinds()), ScalaInterop.seq(a.inputs()),
          ScalaInterop.seq(a.partners()), ScalaInterop.seq(a.factors()), r.output(), true,
          ScalaInterop.seq(r.recipients()), planLater(a.child())));
    }
    if (plan instanceof SecureAggregate a) {
      return ScalaInterop.seqOf(new SecureHashAggregateExec(ScalaInterop.seq(a.grouping()),
          ScalaInterop.seq(a.kinds()), ScalaInterop.seq(a.inputs()),
          ScalaInterop.seq(a.partners()), ScalaInterop.seq(a.factors()), a.output(), false,
          ScalaInterop.seqOf(), planLater(a.child())));
    }
    if (plan instanceof SecureReveal r) {
      return ScalaInterop.seqOf(new SecureRevealExec(ScalaInterop.seq(r.recipients()), r.output(),
          planLater(r.child())));
    }
    return ScalaInterop.seqOf();
  }
}
