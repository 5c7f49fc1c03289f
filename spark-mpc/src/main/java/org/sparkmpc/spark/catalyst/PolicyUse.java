package org.sparkmpc.spark.catalyst;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.ExprId;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.execution.SparkPlan;
import org.sparkmpc.connectors.policy.ColumnUsage;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.PolicyGuard;

/**
 * Which of this party's policy-ruled secure columns an operation that opens values reads: the
 * columns of the secure tables scanned under it that any operator of the plan refers to (in its
 * Catalyst expressions or its secure expressions) or that the plan outputs. A column a query
 * scans but never uses is not counted, so a rule on it does not refuse the query.
 */
final class PolicyUse {
  private PolicyUse() {}

  /**
   * Check the opening of {@code plan}'s values before operator {@code kind} begins (see {@link
   * PolicyGuard#beforeOpening}).
   */
  static void check(MpcRuntime rt, String kind, SparkPlan plan, List<String> recipients,
      boolean rowByRow, long minGroup) {
    PolicyGuard g = rt.policy();
    Map<String, ColumnUsage> used = columns(g, plan);
    if (!used.isEmpty()) {
      g.beforeOpening(kind, used, recipients, rowByRow, minGroup);
    }
  }

  /**
   * Check that the columns {@code attributes} of the secure tables scanned under {@code plan} may
   * be opened row by row ({@code MIN} and {@code MAX} open one row's value), before operator
   * {@code kind} begins.
   */
  static void checkRows(MpcRuntime rt, String kind, SparkPlan plan, Set<ExprId> attributes,
      List<String> recipients) {
    if (attributes.isEmpty()) {
      return;
    }
    PolicyGuard g = rt.policy();
    Map<String, ColumnUsage> used = new LinkedHashMap<>();
    plan.foreach(node -> {
      if (node instanceof SecureTableScanExec scan) {
        for (Attribute a : ScalaInterop.list(scan.output())) {
          if (attributes.contains(a.exprId())) {
            used.putAll(g.uses(scan.tableId(), a.name()));
          }
        }
      }
      return scala.runtime.BoxedUnit.UNIT;
    });
    if (!used.isEmpty()) {
      g.beforeOpening(kind, used, recipients, true, 1);
    }
  }

  /** The usage rules of the ruled columns {@code plan} reads, labelled by column name. */
  static Map<String, ColumnUsage> columns(PolicyGuard g, SparkPlan plan) {
    Set<ExprId> used = new HashSet<>();
    for (Attribute a : ScalaInterop.list(plan.output())) {
      used.add(a.exprId());
    }
    plan.foreach(node -> {
      if (node instanceof SecureTableScanExec) {
        return scala.runtime.BoxedUnit.UNIT; // its output lists every column, used or not
      }
      scala.collection.Iterator<Object> it = node.productIterator();
      while (it.hasNext()) {
        collect(it.next(), used);
      }
      return scala.runtime.BoxedUnit.UNIT;
    });
    Map<String, ColumnUsage> out = new LinkedHashMap<>();
    plan.foreach(node -> {
      if (node instanceof SecureTableScanExec scan) {
        for (Attribute a : ScalaInterop.list(scan.output())) {
          if (used.contains(a.exprId())) {
            out.putAll(g.uses(scan.tableId(), a.name()));
          }
        }
      }
      return scala.runtime.BoxedUnit.UNIT;
    });
    return out;
  }

  private static void collect(Object o, Set<ExprId> used) {
    if (o instanceof Expression e) {
      e.foreach(x -> {
        if (x instanceof Attribute a) {
          used.add(a.exprId());
        }
        return scala.runtime.BoxedUnit.UNIT;
      });
    } else if (o instanceof SecureExpr s) {
      for (Attribute a : s.inputs) {
        used.add(a.exprId());
      }
    } else if (o instanceof scala.collection.Iterable<?> i) {
      i.foreach(x -> {
        collect(x, used);
        return scala.runtime.BoxedUnit.UNIT;
      });
    } else if (o instanceof Iterable<?> i) {
      for (Object x : i) {
        collect(x, used);
      }
    } else if (o instanceof scala.Option<?> opt && opt.isDefined()) {
      collect(opt.get(), used);
    }
  }
}
