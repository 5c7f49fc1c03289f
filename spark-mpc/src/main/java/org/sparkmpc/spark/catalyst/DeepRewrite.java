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
    for (Expression c : conjuncts(SecureOperators.normalize(f.condition()))) {
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
    return aggregate(agg, grouping, null);
  }

  /**
   * As {@link #aggregate(Aggregate, List)}, with a secret {@code HAVING} condition (null: none):
   * its aggregates become hidden outputs of the deep aggregate, and the condition a secret
   * predicate over them.
   */
  static LogicalPlan aggregate(Aggregate agg, List<Attribute> grouping, Expression having) {
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
      ShareType type = entry(e, condition, kinds, args, false);
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
    List<Attribute> hidden = new ArrayList<>();
    SecureExpr secretHaving = null;
    if (having != null) {
      SecureExpr cond = condition;
      Expression over = having.transformUp(ScalaInterop.rewrite(x -> {
        Calls call = Calls.of(x);
        if (call == null || !isAggregate(call.name())) {
          return null;
        }
        ShareType type = entry(x, cond, kinds, args, true);
        Attribute a = new AttributeReference("having " + x.sql(), type, false, Metadata.empty(),
            NamedExpression.newExprId(), ScalaInterop.seqOf());
        hidden.add(a);
        return a;
      }));
      if (SecureOperators.secure(over) && over.references().exists(
          a -> hidden.stream().noneMatch(h -> h.exprId().equals(a.exprId())))) {
        throw SecureCheckRule.refuse("the HAVING condition " + having.sql() + " reads a column "
            + "outside an aggregate (a secure HAVING compares SUM, COUNT, MIN or MAX of secure "
            + "columns with constants or with each other; put conditions on rows in WHERE)");
      }
      secretHaving = SecureOperators.compile(over);
      if (!secretHaving.isBit(secretHaving.root())) {
        throw SecureCheckRule.refuse("the HAVING expression " + having.sql() + ", which is not "
            + "a condition");
      }
      if (!secretHaving.publicInputs.isEmpty()) {
        throw SecureCheckRule.refuse("the HAVING condition " + having.sql() + " mixes public "
            + "columns with secure aggregates (put conditions on public columns in WHERE)");
      }
    }
    SecureDeepAggregate deep = new SecureDeepAggregate(ScalaInterop.seq(grouping),
        ScalaInterop.seq(kinds), args, condition, secretHaving, ScalaInterop.seq(hidden),
        ScalaInterop.seq(output), child);
    return anyRevealed ? SecureReveal.of(recipients, deep, revealIds) : deep;
  }

  private static final List<String> AGGREGATES = List.of("sum", "count", "avg", "min", "max");

  /** Whether {@code name} (lower case) is an aggregate the deep path computes. */
  static boolean isAggregate(String name) {
    return AGGREGATES.contains(name);
  }

  /**
   * Add aggregate call {@code e} to {@code kinds} and {@code args}; its secure type, or null for a
   * public count. {@code forHaving}: the value feeds a secret comparison (HAVING), so counts are
   * shares too, and AVG is refused.
   */
  private static ShareType entry(Expression e, SecureExpr condition, List<String> kinds,
      List<SecureExpr> args, boolean forHaving) {
    Calls call = Calls.of(e);
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
      // a count compared in HAVING: at most 2^62 rows, as a comparison needs
      type = condition == null && !forHaving ? null : ShareType.column(0, true, "",
          forHaving ? 62 : 63);
    } else if (forHaving && kind.equals("AVG")) {
      throw SecureCheckRule.refuse("AVG in a HAVING condition (" + e.sql() + "): compare SUM "
          + "with a multiple of COUNT instead, e.g. HAVING SUM(x) > 100 * COUNT(*)");
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
      int bits = kind.equals("MIN") || kind.equals("MAX") ? x.bits.get(x.root())
          : forHaving ? 62 : 63;
      type = base.with(scale, integral, "1", bits);
    } else {
      throw SecureCheckRule.refuse("the aggregate " + kind + " (" + e.sql() + ") over a secret "
          + "predicate; " + SecureOperators.supported());
    }
    kinds.add(kind);
    return type;
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
