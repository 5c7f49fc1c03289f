package org.sparkmpc.spark.catalyst;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.analysis.UnresolvedAttribute;
import org.apache.spark.sql.catalyst.analysis.UnresolvedHaving;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.ExprId;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.plans.logical.Aggregate;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.rules.Rule;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.sparkmpc.spark.SecureColumns;
import org.sparkmpc.spark.types.ShareType;

/**
 * Resolution rule: replaces the plaintext operators it has secure implementations for with
 * secure logical nodes, and {@code reveal(...)} calls with {@link SecureReveal}.
 *
 * <ul>
 *   <li>{@code Aggregate} over secure columns, grouped by public columns, whose outputs are grouping
 *       columns, {@code SUM(secure)}, {@code COUNT(x)}, {@code COUNT(*)}, {@code AVG(secure)},
 *       optionally each inside {@code reveal(...)} &rarr; {@link SecureAggregate} (under a
 *       {@link SecureReveal} when revealed);
 *   <li>{@code Project} of plain columns where secure ones sit inside {@code reveal(...)} &rarr;
 *       {@link SecureReveal} over the projection.
 * </ul>
 *
 * Anything else is left as it is, for {@link SecureCheckRule} to refuse with a precise error.
 */
public final class SecureRewriteRule extends Rule<LogicalPlan> {
  private static final long serialVersionUID = 1L;

  @Override
  public LogicalPlan apply(LogicalPlan plan) {
    if (aggregates) {
      // A secret HAVING first, while its aggregate is still the Aggregate Spark parsed.
      plan = plan.transformUp(ScalaInterop.rewrite(node -> node instanceof UnresolvedHaving h
          && h.child() instanceof Aggregate agg ? rewriteHaving(h, agg) : null));
    }
    return plan.transformUp(ScalaInterop.rewrite(node -> {
      if (node instanceof Aggregate agg && aggregates) {
        return rewriteAggregate(agg, null);
      }
      if (node instanceof org.apache.spark.sql.catalyst.plans.logical.Filter f && aggregates) {
        return DeepRewrite.filter(f);
      }
      if (node instanceof Project p && !aggregates) {
        return rewriteProject(p);
      }
      if (node instanceof Project p && aggregates && globalAggregate(p)) {
        // SELECT SUM(x * y) FROM t: Spark turns a projection of aggregates into an Aggregate only
        // once they resolve, which a call over shares never does; do it here.
        return rewriteAggregate(new Aggregate(ScalaInterop.seqOf(), p.projectList(), p.child(),
            scala.Option.empty()), null);
      }
      return null;
    }));
  }

  private final boolean aggregates;

  /**
   * @param aggregates true: the rule of the resolution batch, for aggregates (Spark cannot resolve
   *     SUM or AVG over shares, so queries over them resolve only once they are rewritten); false:
   *     the post-hoc rule, for reveals of rows in projections (after Spark has added what an outer
   *     ORDER BY or HAVING needs to the projection, so that the check rule names it)
   */
  public SecureRewriteRule(boolean aggregates) {
    this.aggregates = aggregates;
  }

  /**
   * {@code HAVING} on secure aggregates ({@code GROUP BY region HAVING SUM(amount) > 1000}): the
   * aggregate takes the deep path with the condition as a secret predicate per group; once its
   * columns resolve. A HAVING without an aggregate call, or over an aggregate that reads no
   * secure column, is left to Spark.
   */
  private static LogicalPlan rewriteHaving(UnresolvedHaving h, Aggregate agg) {
    if (!agg.child().resolved()) {
      return null;
    }
    // Spark resolves a HAVING's columns only once its Aggregate resolves, which one over shares
    // never does: resolve them here against the aggregate's input.
    Expression cond = h.havingCondition().transformUp(ScalaInterop.rewrite(x -> {
      if (x instanceof UnresolvedAttribute u) {
        scala.Option<NamedExpression> r = agg.child().resolve(u.nameParts(),
            org.apache.spark.sql.internal.SQLConf.get().resolver());
        return r.isDefined() ? (Expression) r.get() : null;
      }
      return null;
    }));
    // Any aggregate in it: over an aggregate of secure columns, even COUNT(*) must be compared
    // by the secure path (Spark cannot plan a HAVING over an aggregate it did not compute).
    if (cond.find(x -> x.children().isEmpty() && !x.resolved()).isDefined()
        || cond.find(x -> Calls.of(x) != null && DeepRewrite.isAggregate(Calls.of(x).name()))
            .isEmpty()) {
      return null;
    }
    return rewriteAggregate(agg, cond);
  }

  private static LogicalPlan rewriteAggregate(Aggregate agg, Expression having) {
    List<Expression> groupingExprs = ScalaInterop.list(agg.groupingExpressions());
    List<NamedExpression> outs = ScalaInterop.list(agg.aggregateExpressions());
    boolean touchesSecure = agg.child().output().exists(a -> SecureColumns.isSecure(a)
        && agg.references().contains(a));
    boolean hasReveal = outs.stream().anyMatch(e -> Calls.hasReveal((Expression) e));
    boolean secretFilter = agg.child() instanceof SecureFilter;
    if (!touchesSecure && !hasReveal && !secretFilter || !leavesResolved(agg)) {
      return null; // nothing secure, or columns Spark has yet to resolve (or cannot: it explains)
    }
    List<Attribute> grouping = new ArrayList<>();
    for (Expression g : groupingExprs) {
      if (g instanceof Attribute a && SecureColumns.isSecure(a)) {
        throw SecureCheckRule.refuse("GROUP BY on secure column '" + a.name() + "'");
      } else if (!(g instanceof Attribute a)) {
        throw SecureCheckRule.refuse("GROUP BY the expression " + g.sql()
            + " in an aggregate of secure columns (group by public columns, or add the grouping "
            + "column before sharing)");
      } else {
        grouping.add(a);
      }
    }
    if (having != null || DeepRewrite.needed(agg)) {
      return DeepRewrite.aggregate(agg, grouping, having);
    }
    List<String> kinds = new ArrayList<>();
    List<Attribute> inputs = new ArrayList<>();
    List<Attribute> partners = new ArrayList<>();
    List<String> factors = new ArrayList<>();
    List<Attribute> output = new ArrayList<>();
    List<ExprId> revealIds = new ArrayList<>();
    List<String> recipients = null;
    boolean anyRevealed = false;
    boolean anySecretUnrevealed = false;
    for (NamedExpression ne : outs) {
      Expression e = Calls.body(ne);
      List<String> to = null;
      RevealMarker rm = Calls.reveal(e);
      if (rm != null) {
        to = rm.recipients();
        e = rm.child();
        recipients = Calls.sameRecipients(recipients, to);
        anyRevealed = true;
      }
      String kind;
      Attribute input;
      Attribute partner = null;
      String factor = "1";
      Calls call = Calls.of(e);
      if (e instanceof Attribute a && grouping.stream().anyMatch(g -> g.semanticEquals(a))) {
        kind = "GROUP";
        input = a;
      } else if (call != null && call.plain() && call.args().size() == 1
          && (call.name().equals("sum") || call.name().equals("avg"))) {
        Operand op = Operand.of(call.args().get(0));
        if (op == null) {
          throw SecureCheckRule.refuse("the aggregate " + call.name().toUpperCase(
              java.util.Locale.ROOT) + " of " + call.args().get(0).sql() + " over secure column '"
              + firstSecure(call.args().get(0)) + "' (a secure SUM or AVG takes a secure column, "
              + "a product of two, or one of those times a constant)");
        }
        kind = (call.name().equals("sum") ? "SUM" : "AVG") + (op.partner != null ? "PROD" : "");
        input = op.input;
        partner = op.partner != null ? op.partner : op.input;
        factor = op.factor;
      } else if (call != null && call.plain() && call.name().equals("count")
          && call.args().size() == 1 && (call.args().get(0) instanceof Attribute
              || call.args().get(0) instanceof Literal)) {
        kind = "COUNT";
        input = call.args().get(0) instanceof Attribute a ? a : agg.child().output().head();
      } else {
        throw SecureCheckRule.refuse(describeUnsupported(e, call));
      }
      boolean secretOut = kind.startsWith("SUM") || kind.startsWith("AVG");
      if (secretOut && to == null) {
        anySecretUnrevealed = true;
      }
      boolean resolvedName = !(ne instanceof org.apache.spark.sql.catalyst.analysis.UnresolvedAlias);
      ExprId id = resolvedName ? ne.exprId() : NamedExpression.newExprId();
      String name = Calls.name(ne);
      Attribute out;
      if (kind.equals("GROUP")) {
        if (ne instanceof Attribute a) {
          out = a;
        } else {
          out = new AttributeReference(name, input.dataType(), input.nullable(),
              input.metadata(), id, ScalaInterop.seqOf());
        }
        revealIds.add(null);
      } else if (kind.equals("COUNT")) {
        out = new AttributeReference(name, DataTypes.LongType, false, Metadata.empty(), id,
            ScalaInterop.seqOf());
        revealIds.add(null);
      } else {
        boolean revealed = to != null;
        out = new AttributeReference(name, outputType(kind, input, partner, factor), false,
            Metadata.empty(), revealed ? NamedExpression.newExprId() : id, ScalaInterop.seqOf());
        revealIds.add(revealed ? id : null);
      }
      kinds.add(kind);
      inputs.add(input);
      partners.add(partner == null ? input : partner);
      factors.add(factor);
      output.add(out);
    }
    if (anyRevealed && anySecretUnrevealed) {
      throw Calls.partialReveal(null);
    }
    SecureAggregate sa = new SecureAggregate(ScalaInterop.seq(grouping), ScalaInterop.seq(kinds),
        ScalaInterop.seq(inputs), ScalaInterop.seq(partners), ScalaInterop.seq(factors),
        ScalaInterop.seq(output), agg.child());
    return anyRevealed ? SecureReveal.of(recipients, sa, revealIds) : sa;
  }

  /**
   * Whether {@code p} projects an aggregate call over a secure column that Spark left unresolved
   * (a global aggregate, no GROUP BY).
   */
  private static boolean globalAggregate(Project p) {
    if (!leavesResolved(p) || p.projectList().exists(ne -> ((Expression) ne).find(
        e -> e instanceof org.apache.spark.sql.catalyst.expressions.WindowExpression
            || e instanceof org.apache.spark.sql.catalyst.expressions.UnresolvedWindowExpression)
        .isDefined())) {
      return false; // not yet resolvable, or a window function: the check rule explains
    }
    return p.projectList().exists(ne -> ((Expression) ne).find(e -> {
      Calls c = e instanceof org.apache.spark.sql.catalyst.analysis.UnresolvedFunction
          ? Calls.of(e) : null;
      return c != null && (c.name().equals("sum") || c.name().equals("avg")
          || c.name().equals("count"))
          && e.references().exists(a -> SecureColumns.isSecure(a));
    }).isDefined());
  }

  /**
   * Whether every leaf expression of {@code node} (columns, stars, ordinals, literals) is resolved:
   * the function calls above them may stay unresolved, as those over shares do.
   */
  private static boolean leavesResolved(LogicalPlan node) {
    return node.childrenResolved() && !node.expressions().exists(e -> e.find(
        x -> x.children().isEmpty() && !x.resolved()).isDefined());
  }

  /** Why an output of an aggregate over secure columns has no secure implementation. */
  private static String describeUnsupported(Expression e, Calls call) {
    String col = firstSecure(e);
    if (call != null && !call.name().equals("*") && !call.name().equals("reveal")) {
      return "the aggregate " + call.name().toUpperCase(java.util.Locale.ROOT)
          + (call.plain() ? "" : " with DISTINCT or FILTER") + " on " + (col == null
              ? "a secure table" : "secure column '" + col + "'") + " (" + e.sql() + ")";
    }
    return "the expression " + e.sql() + (col == null ? " over a secure aggregate"
        : " on secure column '" + col + "'");
  }

  /** The name of the first secure column {@code e} reads, or null. */
  private static String firstSecure(Expression e) {
    return ScalaInterop.list(e.references().toSeq()).stream().filter(SecureColumns::isSecure)
        .map(Attribute::name).findFirst().orElse(null);
  }

  /**
   * The argument of a secure SUM or AVG: a secure column, a product of two secure columns, or a
   * secure column (or product) times a public constant. Casts are looked through (Spark wraps
   * constants in them), since the secure operator works on the shares' plaintext type.
   */
  static final class Operand {
    final Attribute input;
    final Attribute partner;
    final String factor;

    private Operand(Attribute input, Attribute partner, String factor) {
      this.input = input;
      this.partner = partner;
      this.factor = factor;
    }

    static Operand of(Expression e) {
      e = uncast(e);
      if (e instanceof Attribute a && SecureColumns.isSecure(a)) {
        return a.dataType() instanceof ShareType ? new Operand(a, null, "1") : null;
      }
      Calls call = Calls.of(e);
      if (call != null && call.name().equals("*") && call.args().size() == 2) {
        Expression l = uncast(call.args().get(0));
        Expression r = uncast(call.args().get(1));
        if (r.foldable() && !l.foldable()) {
          Expression t = l;
          l = r;
          r = t;
        }
        if (l.foldable() && l.resolved()) {
          Object v = l.eval(null);
          Operand inner = of(r);
          if (v == null || inner == null || !inner.factor.equals("1")) {
            return null;
          }
          return new Operand(inner.input, inner.partner, new java.math.BigDecimal(v.toString())
              .stripTrailingZeros().toPlainString());
        }
        if (l instanceof Attribute a && r instanceof Attribute b
            && a.dataType() instanceof ShareType && b.dataType() instanceof ShareType) {
          return new Operand(a, b, "1");
        }
      }
      return null;
    }

    private static Expression uncast(Expression e) {
      while (e instanceof org.apache.spark.sql.catalyst.expressions.Cast c) {
        e = c.child();
      }
      return e;
    }
  }

  /**
   * The share type of a secure SUM/AVG output: the scale of the summed values (a product's is the
   * sum of its factors' scales; a public factor is applied when the value is decoded), whether the
   * plaintext is an integer; its magnitude bound is the ring's.
   */
  static ShareType outputType(String kind, Attribute input, Attribute partner, String factor) {
    ShareType in = SecureColumns.type(input);
    int scale = in.scale();
    boolean integral = in.integral();
    if (kind.endsWith("PROD")) {
      ShareType with = SecureColumns.type(partner);
      scale += with.scale();
      integral &= with.integral();
    }
    integral &= kind.startsWith("SUM") && new java.math.BigDecimal(factor).scale() <= 0;
    // A sum's own magnitude is not known when the query is planned (it depends on the group
    // sizes): its bound is the ring's, so a sum over secret-shared sums is checked as such.
    return in.with(scale, integral, factor, 63);
  }

  private static LogicalPlan rewriteProject(Project p) {
    List<NamedExpression> list = ScalaInterop.list(p.projectList());
    if (list.stream().noneMatch(e -> Calls.hasReveal((Expression) e)) || !leavesResolved(p)) {
      return null;
    }
    List<NamedExpression> inner = new ArrayList<>();
    List<ExprId> ids = new ArrayList<>();
    List<String> recipients = null;
    for (NamedExpression ne : list) {
      Expression e = Calls.body(ne);
      RevealMarker rm = Calls.reveal(e);
      if (rm != null) {
        if (!(rm.child() instanceof Attribute a) || !(a.dataType() instanceof ShareType)) {
          return null;
        }
        if (recipients != null && !recipients.equals(rm.recipients())) {
          return null;
        }
        recipients = rm.recipients();
        inner.add(new Alias(a, Calls.name(ne), NamedExpression.newExprId(), ScalaInterop.seqOf(),
            scala.Option.empty(), ScalaInterop.seqOf()));
        ids.add(ne instanceof org.apache.spark.sql.catalyst.analysis.UnresolvedAlias ? null
            : ne.exprId());
      } else if (ne instanceof Attribute a && !SecureColumns.isSecure(a)) {
        inner.add(a);
        ids.add(null);
      } else {
        return null;
      }
    }
    Project innerProject = new Project(ScalaInterop.seq(inner), p.child());
    return SecureReveal.of(recipients, innerProject, ids);
  }
}
