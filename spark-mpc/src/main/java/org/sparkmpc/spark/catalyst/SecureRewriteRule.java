package org.sparkmpc.spark.catalyst;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.ExprId;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.aggregate.AggregateExpression;
import org.apache.spark.sql.catalyst.expressions.aggregate.AggregateFunction;
import org.apache.spark.sql.catalyst.expressions.aggregate.Average;
import org.apache.spark.sql.catalyst.expressions.aggregate.Count;
import org.apache.spark.sql.catalyst.expressions.aggregate.Sum;
import org.apache.spark.sql.catalyst.plans.logical.Aggregate;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.rules.Rule;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.sparkmpc.spark.SecureColumns;

/**
 * Post-hoc resolution rule: replaces the plaintext operators it has secure implementations for with
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
    return plan.transformUp(ScalaInterop.rewrite(node -> {
      if (node instanceof Aggregate agg) {
        return rewriteAggregate(agg);
      }
      if (node instanceof Project p) {
        return rewriteProject(p);
      }
      return null;
    }));
  }

  private static LogicalPlan rewriteAggregate(Aggregate agg) {
    List<Expression> groupingExprs = ScalaInterop.list(agg.groupingExpressions());
    List<NamedExpression> outs = ScalaInterop.list(agg.aggregateExpressions());
    boolean touchesSecure = agg.child().output().exists(a -> SecureColumns.isSecure(a)
        && agg.references().contains(a));
    boolean hasReveal = outs.stream().anyMatch(e -> ((Expression) e).find(x -> x instanceof RevealMarker).isDefined());
    if (!touchesSecure && !hasReveal) {
      return null;
    }
    List<Attribute> grouping = new ArrayList<>();
    for (Expression g : groupingExprs) {
      if (!(g instanceof Attribute a) || SecureColumns.isSecure(a)) {
        return null; // grouping by an expression or a secure column: the check rule explains
      }
      grouping.add(a);
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
      Expression e = ne instanceof Alias al ? al.child() : (Expression) ne;
      List<String> to = null;
      if (e instanceof RevealMarker rm) {
        to = rm.recipients();
        e = rm.child();
        if (recipients != null && !recipients.equals(to)) {
          return null; // reveals to different parties in one query: the check rule explains
        }
        recipients = to;
        anyRevealed = true;
      }
      String kind;
      Attribute input;
      Attribute partner = null;
      String factor = "1";
      if (e instanceof Attribute a && grouping.stream().anyMatch(g -> g.semanticEquals(a))) {
        kind = "GROUP";
        input = a;
      } else if (e instanceof AggregateExpression ae && !ae.isDistinct() && ae.filter().isEmpty()) {
        AggregateFunction fn = ae.aggregateFunction();
        List<Expression> args = ScalaInterop.list(fn.children());
        Operand op = (fn instanceof Sum || fn instanceof Average) && args.size() == 1
            ? Operand.of(args.get(0)) : null;
        if (op != null) {
          kind = (fn instanceof Sum ? "SUM" : "AVG") + (op.partner != null ? "PROD" : "");
          input = op.input;
          partner = op.partner != null ? op.partner : op.input;
          factor = op.factor;
        } else if (fn instanceof Count && args.size() == 1
            && (args.get(0) instanceof Attribute || args.get(0) instanceof Literal)) {
          kind = "COUNT";
          input = args.get(0) instanceof Attribute a ? a : agg.child().output().head();
        } else {
          return null;
        }
      } else {
        return null;
      }
      boolean secretOut = kind.startsWith("SUM") || kind.startsWith("AVG");
      if (secretOut && to == null) {
        anySecretUnrevealed = true;
      }
      ExprId id = ne.exprId();
      Attribute out;
      if (kind.equals("GROUP")) {
        if (ne instanceof Attribute a) {
          out = a;
        } else {
          out = new AttributeReference(ne.name(), input.dataType(), input.nullable(),
              input.metadata(), id, ScalaInterop.seqOf());
        }
        revealIds.add(null);
      } else if (kind.equals("COUNT")) {
        out = new AttributeReference(ne.name(), DataTypes.LongType, false, Metadata.empty(), id,
            ScalaInterop.seqOf());
        revealIds.add(null);
      } else {
        Metadata md = outputMetadata(kind, input, partner, factor);
        boolean revealed = to != null;
        out = new AttributeReference(ne.name(), DataTypes.LongType, false, md,
            revealed ? NamedExpression.newExprId() : id, ScalaInterop.seqOf());
        revealIds.add(revealed ? id : null);
      }
      kinds.add(kind);
      inputs.add(input);
      partners.add(partner == null ? input : partner);
      factors.add(factor);
      output.add(out);
    }
    if (anyRevealed && anySecretUnrevealed) {
      return null; // some outputs revealed, others not: the check rule explains
    }
    SecureAggregate sa = new SecureAggregate(ScalaInterop.seq(grouping), ScalaInterop.seq(kinds),
        ScalaInterop.seq(inputs), ScalaInterop.seq(partners), ScalaInterop.seq(factors),
        ScalaInterop.seq(output), agg.child());
    return anyRevealed ? SecureReveal.of(recipients, sa, revealIds) : sa;
  }

  /**
   * The argument of a secure SUM or AVG: a secure column, a product of two secure columns, or a
   * secure column (or product) times a public constant. Spark's type coercion wraps share columns
   * (which are {@code LongType}) and constants in casts; those are looked through, since the
   * secure operator works on the shares' plaintext type, not on the cast.
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
        return new Operand(a, null, "1");
      }
      if (e instanceof org.apache.spark.sql.catalyst.expressions.Multiply m) {
        Expression l = uncast(m.left());
        Expression r = uncast(m.right());
        if (r.foldable() && !l.foldable()) {
          Expression t = l;
          l = r;
          r = t;
        }
        if (l.foldable()) {
          Object v = l.eval(null);
          Operand inner = of(r);
          if (v == null || inner == null || !inner.factor.equals("1")) {
            return null;
          }
          return new Operand(inner.input, inner.partner, new java.math.BigDecimal(v.toString())
              .stripTrailingZeros().toPlainString());
        }
        if (l instanceof Attribute a && r instanceof Attribute b && SecureColumns.isSecure(a)
            && SecureColumns.isSecure(b)) {
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
   * Share metadata of a secure SUM/AVG output: the scale of the summed values (a product's is the
   * sum of its factors' scales; a public factor is applied when the value is decoded) and whether
   * the plaintext is an integer.
   */
  static Metadata outputMetadata(String kind, Attribute input, Attribute partner, String factor) {
    int scale = SecureColumns.scale(input.metadata());
    boolean integral = "long".equals(SecureColumns.plainType(input.metadata()));
    if (kind.endsWith("PROD")) {
      scale += SecureColumns.scale(partner.metadata());
      integral &= "long".equals(SecureColumns.plainType(partner.metadata()));
    }
    integral &= kind.startsWith("SUM") && new java.math.BigDecimal(factor).scale() <= 0;
    return new MetadataBuilder().withMetadata(input.metadata()).putLong(SecureColumns.SCALE, scale)
        .putString(SecureColumns.PLAIN_TYPE, integral ? "long" : "double")
        .putString(SecureColumns.FACTOR, factor).build();
  }

  private static LogicalPlan rewriteProject(Project p) {
    List<NamedExpression> list = ScalaInterop.list(p.projectList());
    if (list.stream().noneMatch(e -> ((Expression) e).find(x -> x instanceof RevealMarker).isDefined())) {
      return null;
    }
    List<NamedExpression> inner = new ArrayList<>();
    List<ExprId> ids = new ArrayList<>();
    List<String> recipients = null;
    for (NamedExpression ne : list) {
      Expression e = ne instanceof Alias al ? al.child() : (Expression) ne;
      if (e instanceof RevealMarker rm) {
        if (!(rm.child() instanceof Attribute a) || !SecureColumns.isSecure(a)) {
          return null;
        }
        if (recipients != null && !recipients.equals(rm.recipients())) {
          return null;
        }
        recipients = rm.recipients();
        inner.add(new Alias(a, ne.name(), NamedExpression.newExprId(), ScalaInterop.seqOf(),
            scala.Option.empty(), ScalaInterop.seqOf()));
        ids.add(ne.exprId());
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
