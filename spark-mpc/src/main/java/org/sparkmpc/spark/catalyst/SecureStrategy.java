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
    if (plan instanceof SecureReveal r && !r.noise().none()
        && !(r.child() instanceof SecureAggregate)) {
      throw new org.sparkmpc.MpcInputException("a noisy reveal opens SUM, COUNT and AVG grouped "
          + "by public columns (groupBy(...).agg(...) over a secure table); it is refused for "
          + "rows, MIN/MAX and aggregates under a secret predicate, whose noise is not "
          + "calibrated here");
    }
    if (plan instanceof SecureReveal r && r.child() instanceof SecureDeepAggregate d) {
      return ScalaInterop.seqOf(new SecureDeepAggregateExec(ScalaInterop.seq(d.grouping()),
          ScalaInterop.seq(d.kinds()), d.args(), d.condition(), d.having(),
          ScalaInterop.seq(d.hidden()), d.output(), r.output(),
          ScalaInterop.seq(r.recipients()), planLater(d.child())));
    }
    if (plan instanceof SecureDeepAggregate) {
      throw new org.sparkmpc.MpcInputException("an aggregate under a secret predicate, with "
          + "MIN/MAX or with a secret condition is opened by the query that computes it "
          + "(reveal() around its secure outputs, or SparkMpc.reveal/revealTo of it), so that "
          + "the minimum group size is enforced on its secret counts");
    }
    if (plan instanceof SecureFilter) {
      throw new org.sparkmpc.MpcInputException("the rows under a secret predicate are never "
          + "listed or counted in the clear: aggregate them (SUM, COUNT, AVG, MIN, MAX grouped by "
          + "public columns) inside reveal()");
    }
    if (plan instanceof SecureReveal r && r.child() instanceof SecureAggregate a) {
      return ScalaInterop.seqOf(new SecureHashAggregateExec(ScalaInterop.seq(a.grouping()),
          ScalaInterop.seq(a.kinds()), ScalaInterop.seq(a.inputs()),
          ScalaInterop.seq(a.partners()), ScalaInterop.seq(a.factors()), r.output(), true,
          ScalaInterop.seq(r.recipients()), r.noise(), planLater(a.child())));
    }
    if (plan instanceof SecureAggregate a) {
      return ScalaInterop.seqOf(new SecureHashAggregateExec(ScalaInterop.seq(a.grouping()),
          ScalaInterop.seq(a.kinds()), ScalaInterop.seq(a.inputs()),
          ScalaInterop.seq(a.partners()), ScalaInterop.seq(a.factors()), a.output(), false,
          ScalaInterop.seqOf(), org.sparkmpc.spark.dp.Noise.NONE, planLater(a.child())));
    }
    if (plan instanceof SecureReveal r) {
      return ScalaInterop.seqOf(new SecureRevealExec(ScalaInterop.seq(r.recipients()), r.output(),
          planLater(r.child())));
    }
    return ScalaInterop.seqOf();
  }
}
