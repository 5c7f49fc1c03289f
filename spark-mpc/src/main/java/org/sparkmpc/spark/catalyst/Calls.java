package org.sparkmpc.spark.catalyst;

import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.catalyst.analysis.UnresolvedAlias;
import org.apache.spark.sql.catalyst.analysis.UnresolvedFunction;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Multiply;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.aggregate.AggregateExpression;
import org.apache.spark.sql.catalyst.expressions.aggregate.AggregateFunction;
import org.apache.spark.sql.catalyst.expressions.aggregate.Average;
import org.apache.spark.sql.catalyst.expressions.aggregate.Count;
import org.apache.spark.sql.catalyst.expressions.aggregate.Sum;

/**
 * Function calls as the rewrite rule sees them, resolved or not. A call over a share stays an
 * {@link UnresolvedFunction} through analysis when its arguments fail Spark's type checks (as
 * {@code SUM(x * y)} of two shares does: Spark itself refuses {@code x * y}), so the rule recognises
 * {@code sum}, {@code avg}, {@code count}, {@code *} and {@code reveal} in both forms.
 *
 * @param name      lower-case function name ({@code sum}, {@code avg}, {@code count}, {@code *},
 *                  {@code reveal}, or another)
 * @param args      the arguments
 * @param plain     whether the call is a plain call: no DISTINCT, no FILTER
 */
record Calls(String name, List<Expression> args, boolean plain) {

  /** The call {@code e} is, or null. */
  static Calls of(Expression e) {
    if (e instanceof AggregateExpression ae) {
      AggregateFunction fn = ae.aggregateFunction();
      String n = fn instanceof Sum ? "sum" : fn instanceof Average ? "avg"
          : fn instanceof Count ? "count" : fn.prettyName().toLowerCase(Locale.ROOT);
      return new Calls(n, ScalaInterop.list(fn.children()), !ae.isDistinct()
          && ae.filter().isEmpty());
    }
    if (e instanceof UnresolvedFunction uf) {
      List<String> parts = ScalaInterop.list(uf.nameParts());
      String n = parts.get(parts.size() - 1).toLowerCase(Locale.ROOT);
      n = n.equals("mean") ? "avg" : n;
      return new Calls(n, ScalaInterop.list(uf.arguments()), !uf.isDistinct()
          && uf.filter().isEmpty());
    }
    if (e instanceof Multiply m) {
      return new Calls("*", List.of(m.left(), m.right()), true);
    }
    if (e instanceof RevealMarker r) {
      return new Calls("reveal", List.of(r.child()), true);
    }
    return null;
  }

  /** The reveal marker {@code e} is (resolved, or an unresolved call of {@code reveal}), or null. */
  static RevealMarker reveal(Expression e) {
    if (e instanceof RevealMarker r) {
      return r;
    }
    if (e instanceof UnresolvedFunction uf) {
      Calls c = of(uf);
      if (c.name.equals("reveal")) {
        return (RevealMarker) RevealMarker.build(uf.arguments());
      }
    }
    return null;
  }

  /**
   * The recipients of a query's reveals once one more reveal, to {@code to}, is added to those so
   * far ({@code before}, null when none): every reveal of a query must go to the same parties.
   */
  static List<String> sameRecipients(List<String> before, List<String> to) {
    if (before != null && !before.equals(to)) {
      throw SecureCheckRule.refuse("reveal() to different parties in one query (" + before
          + " and " + to + "): all reveals of a query must go to the same parties");
    }
    return to;
  }

  /** The refusal of an aggregate that reveals some of its secure outputs but not {@code kept}. */
  static RuntimeException partialReveal(String kept) {
    return SecureCheckRule.refuse("reveal() of some secure outputs of an aggregate but not of "
        + "others" + (kept == null ? "" : " (" + kept + ")") + ": if one output of an aggregate "
        + "is revealed every secure output must be");
  }

  /** Whether {@code e} contains a reveal, resolved or not. */
  static boolean hasReveal(Expression e) {
    return e.find(x -> reveal(x) != null).isDefined();
  }

  /** The expression a (possibly unresolved) output column computes. */
  static Expression body(NamedExpression ne) {
    if (ne instanceof Alias al) {
      return al.child();
    }
    if (ne instanceof UnresolvedAlias ua) {
      return ua.child();
    }
    return (Expression) ne;
  }

  /** The name of an output column: its alias, or the name Spark would generate. */
  static String name(NamedExpression ne) {
    if (ne instanceof UnresolvedAlias ua) {
      return org.apache.spark.sql.catalyst.util.package$.MODULE$.toPrettySQL(ua.child(), false);
    }
    return ne.name();
  }
}
