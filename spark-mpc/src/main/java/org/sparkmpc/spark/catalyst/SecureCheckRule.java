package org.sparkmpc.spark.catalyst;

import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.ToPrettyString;
import org.apache.spark.sql.catalyst.expressions.aggregate.AggregateExpression;
import org.apache.spark.sql.catalyst.plans.logical.Aggregate;
import org.apache.spark.sql.catalyst.plans.logical.Filter;
import org.apache.spark.sql.catalyst.plans.logical.LeafNode;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.plans.logical.SubqueryAlias;
import org.apache.spark.sql.catalyst.plans.logical.View;
import org.sparkmpc.spark.SecureColumns;
import org.sparkmpc.spark.types.ShareType;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

/**
 * Check rule: fails analysis for any operation on a secure column that has no secure
 * implementation, naming the operation and the column. Spark's analyzer already refuses arithmetic,
 * numeric aggregates and numeric casts on a {@link ShareType}; this rule refuses what Spark would
 * still accept on a user-defined type.
 *
 * <p>A secure column may flow only through the secure nodes, projections that select or rename it
 * (and {@code show()}'s pretty-printing, which prints {@code share}), filters on public columns, and
 * aliases of plans. Any other operator with a secure input (join, sort, repartition, distinct, union,
 * limit, sample, window, generate, a write) and any other expression that reads a share (equality,
 * ordering, hashing, casts, {@code to_json}, {@code collect_list}, UDFs, ...) fails here, so nothing
 * is ever computed on shares as if they were plaintext and no share reaches a public column.
 */
public final class SecureCheckRule extends AbstractFunction1<LogicalPlan, BoxedUnit>
    implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  @Override
  public BoxedUnit apply(LogicalPlan plan) {
    plan.foreach(node -> {
      check(node);
      return BoxedUnit.UNIT;
    });
    return BoxedUnit.UNIT;
  }

  private static void check(LogicalPlan node) {
    Optional<Expression> marker = ScalaInterop.list(node.expressions()).stream()
        .filter(e -> Calls.hasReveal((Expression) e)).findFirst();
    if (marker.isPresent()) {
      throw refuse("reveal() here: it must wrap a secure column, or SUM/COUNT/AVG of one grouped by "
          + "public columns; all reveals of a query must go to the same parties, and if one output "
          + "of an aggregate is revealed every secure output must be (" + marker.get().sql() + ")");
    }
    if (node instanceof SecureReveal r && r.child().find(x -> x instanceof SecureFilter)
        .isDefined()) {
      SecureFilter f = (SecureFilter) r.child().find(x -> x instanceof SecureFilter).get();
      throw refuse("reveal() of rows under the secret predicate " + f.condition().sql
          + ": the rows that meet a secret predicate are never listed; aggregate them (SUM, "
          + "COUNT, AVG, MIN, MAX grouped by public columns) inside reveal()");
    }
    if (node instanceof SecureTableRelation || node instanceof SecureAggregate
        || node instanceof SecureReveal || node instanceof SubqueryAlias
        || node instanceof View || node instanceof SecureDeepAggregate
        || node instanceof SecureFilter) {
      return;
    }
    if (node instanceof LeafNode) {
      ScalaInterop.list(node.output()).stream().filter(SecureColumns::isSecure).findFirst()
          .ifPresent(a -> {
            throw refuse("a relation (" + node.nodeName() + ") holding secure column '" + a.name()
                + "' outside a secure table; shares come only from SparkMpc.share or "
                + "shareAligned");
          });
      return;
    }
    if (node instanceof Project p) {
      for (NamedExpression ne : ScalaInterop.list(p.projectList())) {
        Expression e = Calls.body(ne);
        if (e instanceof Attribute
            || e instanceof ToPrettyString tp && tp.child() instanceof Attribute) {
          continue; // selecting or renaming a share; show() prints it as "share"
        }
        refuseExpression(e);
      }
      return;
    }
    if (node instanceof Filter f) {
      secureRef(f.condition()).ifPresent(a -> {
        throw refuse("a filter on secure column '" + a.name() + "' (" + f.condition().sql() + ")");
      });
      return;
    }
    if (node instanceof Aggregate agg) {
      for (Expression g : ScalaInterop.list(agg.groupingExpressions())) {
        secureRef(g).ifPresent(a -> {
          throw refuse("GROUP BY on secure column '" + a.name() + "'");
        });
      }
      for (NamedExpression ne : ScalaInterop.list(agg.aggregateExpressions())) {
        Optional<Expression> fn = find((Expression) ne, x -> (x instanceof AggregateExpression
            || x instanceof org.apache.spark.sql.catalyst.analysis.UnresolvedFunction)
            && secureRef(x).isPresent());
        if (fn.isPresent()) {
          Expression call = fn.get();
          String name = call instanceof AggregateExpression ae
              ? ae.aggregateFunction().prettyName() + (ae.isDistinct() ? " DISTINCT" : "")
              : call.prettyName();
          throw refuse("the aggregate " + name.toUpperCase(java.util.Locale.ROOT)
              + " on secure column '" + secureRef(call).get().name() + "' ("
              + ((Expression) ne).sql() + ")");
        }
        refuseExpression(Calls.body(ne));
      }
      return;
    }
    Optional<Attribute> used = ScalaInterop.list(node.references().toSeq()).stream()
        .filter(SecureColumns::isSecure).findFirst();
    used.or(() -> firstSecureInput(node)).ifPresent(a -> {
      throw refuse(operation(node) + " over secure column '" + a.name() + "'");
    });
  }

  /** Refuses an expression that reads a share other than as a bare column. */
  private static void refuseExpression(Expression e) {
    if (e instanceof Attribute) {
      return;
    }
    secureRef(e).ifPresent(a -> {
      Expression inner = innermost(e, a);
      throw refuse("the expression " + inner.prettyName() + " (" + e.sql()
          + ") on secure column '" + a.name() + "'");
    });
  }

  /** The deepest subexpression of {@code e} that takes {@code a} as a direct argument. */
  private static Expression innermost(Expression e, Attribute a) {
    for (Expression c : ScalaInterop.list(e.children())) {
      if (c.references().contains(a)) {
        return c instanceof Attribute ? e : innermost(c, a);
      }
    }
    return e;
  }

  /** How an operator is named in an error. */
  private static String operation(LogicalPlan node) {
    String n = node.nodeName();
    return switch (n) {
      case "Join" -> "a join";
      case "Sort" -> "ordering (ORDER BY / sort)";
      case "RepartitionByExpression", "Repartition", "RebalancePartitions" -> "repartition";
      case "Distinct", "Deduplicate", "DeduplicateWithinWatermark" -> "distinct";
      case "Window" -> "a window function";
      case "Generate" -> "a generator";
      case "Union" -> "a union";
      case "GlobalLimit", "LocalLimit", "Offset", "Tail" -> "a limit";
      case "Sample" -> "a sample";
      case "DeserializeToObject" -> "collecting or mapping rows (collect, javaRDD, toJSON, map)";
      default -> (n.contains("Insert") || n.contains("Write") || n.contains("Command")
          || n.contains("Append") || n.contains("Overwrite") ? "writing (" + n + ")"
          : "the operator " + n);
    };
  }

  /** The first secure attribute an expression reads. */
  private static Optional<Attribute> secureRef(Expression e) {
    return ScalaInterop.list(e.references().toSeq()).stream().filter(SecureColumns::isSecure)
        .findFirst();
  }

  private static Optional<Attribute> firstSecureInput(LogicalPlan node) {
    for (LogicalPlan c : ScalaInterop.list(node.children())) {
      for (Attribute a : ScalaInterop.list(c.output())) {
        if (SecureColumns.isSecure(a)) {
          return Optional.of(a);
        }
      }
    }
    return Optional.empty();
  }

  private static Optional<Expression> find(Expression e,
      java.util.function.Predicate<Expression> p) {
    scala.Option<Expression> o = e.find(x -> p.test(x));
    return o.isDefined() ? Optional.of(o.get()) : Optional.empty();
  }

  /** Throws the analysis error (checked in Java's eyes, so thrown through a generic helper). */
  static RuntimeException refuse(String what) {
    String msg = what + " has no secure implementation; Spark MPC never computes on shares in "
        + "plaintext. " + SecureOperators.supported();
    throw SecureCheckRule.<RuntimeException>sneaky(new AnalysisException("_LEGACY_ERROR_TEMP_0035",
        scala.collection.immutable.Map.from(
            scala.jdk.javaapi.CollectionConverters.asScala(Map.of("message", msg)))));
  }

  @SuppressWarnings("unchecked")
  private static <E extends Throwable> E sneaky(Throwable t) throws E {
    throw (E) t;
  }
}
