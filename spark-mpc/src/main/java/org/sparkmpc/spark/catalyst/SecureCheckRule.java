package org.sparkmpc.spark.catalyst;

import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.aggregate.AggregateExpression;
import org.apache.spark.sql.catalyst.plans.logical.Aggregate;
import org.apache.spark.sql.catalyst.plans.logical.Filter;
import org.apache.spark.sql.catalyst.plans.logical.Join;
import org.apache.spark.sql.catalyst.plans.logical.LeafNode;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.plans.logical.SubqueryAlias;
import org.apache.spark.sql.catalyst.plans.logical.View;
import org.sparkmpc.spark.SecureColumns;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

/**
 * Check rule: fails analysis for any operation on a secure column that has no secure
 * implementation, naming the operation and the column. Secure columns can flow only through the
 * secure nodes, plain column projections and renames, filters on public columns, and aliases; every
 * other operator that would read a share fails here, so nothing is ever computed on shares as if they
 * were plaintext.
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
        .filter(e -> ((Expression) e).find(x -> x instanceof RevealMarker).isDefined()).findFirst();
    if (marker.isPresent()) {
      throw refuse("reveal() here: it must wrap a secure column, or SUM/COUNT/AVG of one grouped by "
          + "public columns; all reveals of a query must go to the same parties, and if one output "
          + "of an aggregate is revealed every secure output must be (" + marker.get().sql() + ")");
    }
    if (node instanceof SecureTableRelation || node instanceof SecureAggregate
        || node instanceof SecureReveal || node instanceof LeafNode
        || node instanceof SubqueryAlias || node instanceof View) {
      return;
    }
    if (node instanceof Project p) {
      for (NamedExpression ne : ScalaInterop.list(p.projectList())) {
        Expression e = ne instanceof Alias al ? al.child() : (Expression) ne;
        if (e instanceof Attribute) {
          continue;
        }
        secureRef(e).ifPresent(a -> {
          throw refuse("the expression " + e.sql() + " on secure column '" + a.name() + "'");
        });
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
        Optional<Expression> fn = find((Expression) ne, x -> x instanceof AggregateExpression ae
            && secureRef(ae).isPresent());
        if (fn.isPresent()) {
          AggregateExpression ae = (AggregateExpression) fn.get();
          Attribute a = secureRef(ae).get();
          throw refuse("the aggregate " + ae.aggregateFunction().prettyName().toUpperCase()
              + (ae.isDistinct() ? " DISTINCT" : "") + " on secure column '" + a.name() + "' ("
              + ((Expression) ne).sql() + ")");
        }
        secureRef((Expression) ne).ifPresent(a -> {
          throw refuse("the expression " + ((Expression) ne).sql() + " on secure column '" + a.name() + "'");
        });
      }
      return;
    }
    if (node instanceof Join j) {
      if (j.condition().isDefined()) {
        secureRef(j.condition().get()).ifPresent(a -> {
          throw refuse("a join key on secure column '" + a.name() + "'");
        });
      }
      firstSecureInput(node).ifPresent(a -> {
        throw refuse("a join of a secure table (column '" + a.name() + "') with another table");
      });
      return;
    }
    Optional<Attribute> used = ScalaInterop.list(node.references().toSeq()).stream()
        .filter(SecureColumns::isSecure).findFirst();
    used.or(() -> firstSecureInput(node)).ifPresent(a -> {
      throw refuse("the operator " + node.nodeName() + " over secure column '" + a.name() + "'");
    });
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
        + "plaintext. Supported: SUM/COUNT/AVG of secure columns grouped by public columns, "
        + "filters on public columns, projections, and reveal()";
    throw SecureCheckRule.<RuntimeException>sneaky(new AnalysisException("_LEGACY_ERROR_TEMP_0035",
        scala.collection.immutable.Map.from(
            scala.jdk.javaapi.CollectionConverters.asScala(Map.of("message", msg)))));
  }

  @SuppressWarnings("unchecked")
  private static <E extends Throwable> E sneaky(Throwable t) throws E {
    throw (E) t;
  }
}
