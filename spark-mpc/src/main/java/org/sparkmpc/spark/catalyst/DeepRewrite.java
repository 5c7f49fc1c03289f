package org.sparkmpc.spark.catalyst;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.catalyst.expressions.And;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.ExprId;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.plans.logical.Aggregate;
import org.apache.spark.sql.catalyst.plans.logical.Filter;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.sparkmpc.spark.SecureColumns;
import org.sparkmpc.spark.types.ShareType;

/**
 * The part of the rewrite that needs deep protocols: a filter on secure columns becomes a
 * {@link SecureFilter}, and an aggregate over one (or with MIN/MAX, or with a secret condition in
 * an argument) becomes a {@link SecureDeepAggregate} under its {@link SecureReveal}. Expressions are
 * compiled through the registry ({@link SecureOperators}).
 */
final class DeepRewrite {
  private DeepRewrite() {}

  /**
   * A filter whose condition reads secure columns, once its child and its condition's columns are
   * resolved (Spark cannot resolve the comparison itself: it refuses {@code share > 10000}): its
   * conjuncts on public columns stay a plain filter below; the others become a secret predicate.
   */
  static LogicalPlan filter(Filter f) {
    if (!f.child().resolved()
        || f.condition().find(x -> x.children().isEmpty() && !x.resolved()).isDefined()
        || !SecureOperators.secure(f.condition())
        || f.child().find(x -> x instanceof SecureAggregate || x instanceof SecureDeepAggregate
            || x instanceof SecureReveal).isDefined()) {
      return null;
    }
    List<Expression> pub = new ArrayList<>();
    List<Expression> sec = new ArrayList<>();
    for (Expression c : conjuncts(f.condition())) {
      (SecureOperators.secure(c) ? sec : pub).add(c);
    }
    LogicalPlan child = f.child();
    if (!pub.isEmpty()) {
      child = new Filter(pub.stream().reduce(And::new).get(), child);
    }
    Expression cond = sec.stream().reduce(And::new).get();
    return new SecureFilter(SecureOperators.compile(cond), child);
  }

  private static List<Expression> conjuncts(Expression e) {
    List<Expression> out = new ArrayList<>();
    if (e instanceof And a) {
      out.addAll(conjuncts(a.left()));
      out.addAll(conjuncts(a.right()));
    } else {
      out.add(e);
    }
    return out;
  }

  /** Whether an aggregate must take the deep path. */
  static boolean needed(Aggregate agg) {
    if (agg.child() instanceof SecureFilter) {
      return true;
    }
    for (NamedExpression ne : ScalaInterop.list(agg.aggregateExpressions())) {
      Expression e = Calls.body(ne);
      RevealMarker rm = Calls.reveal(e);
      Calls call = Calls.of(rm != null ? rm.child() : e);
      if (call == null || call.args().size() != 1) {
        continue;
      }
      Expression arg = call.args().get(0);
      if ((call.name().equals("min") || call.name().equals("max"))
          && SecureOperators.secure(arg)) {
        return true;
      }
      if ((call.name().equals("sum") || call.name().equals("avg"))
          && SecureOperators.secure(arg) && SecureRewriteRule.Operand.of(arg) == null) {
        return true;
      }
    }
    return false;
  }

  /** The deep aggregate for {@code agg}, grouped by {@code grouping}, under its reveal. */
  static LogicalPlan aggregate(Aggregate agg, List<Attribute> grouping) {
    SecureExpr condition = null;
    LogicalPlan child = agg.child();
    if (child instanceof SecureFilter sf) {
      condition = sf.condition();
      child = sf.child();
    }
    List<String> kinds = new ArrayList<>();
    List<SecureExpr> args = new ArrayList<>();
    List<Attribute> output = new ArrayList<>();
    List<ExprId> revealIds = new ArrayList<>();
    List<String> recipients = null;
    boolean anyRevealed = false;
    String unrevealed = null;
    for (NamedExpression ne : ScalaInterop.list(agg.aggregateExpressions())) {
      Expression e = Calls.body(ne);
      RevealMarker rm = Calls.reveal(e);
      List<String> to = null;
      if (rm != null) {
        to = rm.recipients();
        e = rm.child();
        recipients = Calls.sameRecipients(recipients, to);
        anyRevealed = true;
      }
      String name = Calls.name(ne);
      boolean resolvedName =
          !(ne instanceof org.apache.spark.sql.catalyst.analysis.UnresolvedAlias);
      ExprId id = resolvedName ? ne.exprId() : NamedExpression.newExprId();
      Calls call = Calls.of(e);
      int g = indexOf(grouping, e);
      if (g >= 0) {
        kinds.add("GROUP:" + g);
        args.add(null);
        Attribute in = grouping.get(g);
        output.add(ne instanceof Attribute a ? a : new AttributeReference(name, in.dataType(),
            in.nullable(), in.metadata(), id, ScalaInterop.seqOf()));
        revealIds.add(null);
        continue;
      }
      if (call == null || !call.plain() || call.args().size() != 1) {
        throw SecureCheckRule.refuse("the expression " + e.sql() + " in an aggregate over a "
            + "secret predicate or with MIN/MAX (write SUM, COUNT, AVG, MIN or MAX of secure "
            + "columns, each inside reveal())");
      }
      String kind = call.name().toUpperCase(Locale.ROOT);
      Expression arg = call.args().get(0);
      ShareType type;
      if (kind.equals("COUNT") && (arg instanceof Literal || arg instanceof Attribute)) {
        args.add(null);
        type = condition == null ? null : ShareType.column(0, true, "", 63);
      } else if (List.of("SUM", "AVG", "MIN", "MAX").contains(kind)) {
        SecureExpr x = SecureOperators.compile(arg);
        if (x.isBit(x.root())) {
          throw SecureCheckRule.refuse("the aggregate " + kind + " of the condition " + arg.sql()
              + " (write SUM(CASE WHEN ... THEN 1 ELSE 0 END) or COUNT under a WHERE)");
        }
        if (x.inputs.isEmpty()) {
          throw SecureCheckRule.refuse("the aggregate " + kind + " of " + arg.sql()
              + ", which reads no secure column");
        }
        args.add(x);
        ShareType base = SecureColumns.type(x.inputs.get(0));
        int scale = x.scale.get(x.root());
        boolean integral = scale == 0 && x.inputs.stream()
            .allMatch(a -> SecureColumns.type(a).integral()) && !kind.equals("AVG");
        int bits = kind.equals("MIN") || kind.equals("MAX") ? x.bits.get(x.root()) : 63;
        type = base.with(scale, integral, "1", bits);
      } else {
        throw SecureCheckRule.refuse("the aggregate " + kind + " (" + e.sql() + ") over a secret "
            + "predicate; " + SecureOperators.supported());
      }
      kinds.add(kind);
      if (type == null) { // a public count
        output.add(new AttributeReference(name, DataTypes.LongType, false, Metadata.empty(), id,
            ScalaInterop.seqOf()));
        revealIds.add(null);
      } else {
        if (to == null) {
          unrevealed = e.sql();
        }
        output.add(new AttributeReference(name, type, false, Metadata.empty(),
            to != null ? NamedExpression.newExprId() : id, ScalaInterop.seqOf()));
        revealIds.add(to != null ? id : null);
      }
    }
    if (unrevealed != null && anyRevealed) {
      throw Calls.partialReveal(unrevealed);
    }
    SecureDeepAggregate deep = new SecureDeepAggregate(ScalaInterop.seq(grouping),
        ScalaInterop.seq(kinds), args, condition, ScalaInterop.seq(output), child);
    return anyRevealed ? SecureReveal.of(recipients, deep, revealIds) : deep;
  }

  private static int indexOf(List<Attribute> grouping, Expression e) {
    if (e instanceof Attribute a) {
      for (int i = 0; i < grouping.size(); i++) {
        if (grouping.get(i).semanticEquals(a)) {
          return i;
        }
      }
    }
    return -1;
  }
}
