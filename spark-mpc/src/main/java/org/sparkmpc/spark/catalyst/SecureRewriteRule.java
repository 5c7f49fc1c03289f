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
      if (e instanceof Attribute a && grouping.stream().anyMatch(g -> g.semanticEquals(a))) {
        kind = "GROUP";
        input = a;
      } else if (e instanceof AggregateExpression ae && !ae.isDistinct() && ae.filter().isEmpty()) {
        AggregateFunction fn = ae.aggregateFunction();
        List<Expression> args = ScalaInterop.list(fn.children());
        if (fn instanceof Sum && args.size() == 1 && args.get(0) instanceof Attribute a
            && SecureColumns.isSecure(a)) {
          kind = "SUM";
          input = a;
        } else if (fn instanceof Average && args.size() == 1 && args.get(0) instanceof Attribute a
            && SecureColumns.isSecure(a)) {
          kind = "AVG";
          input = a;
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
      boolean secretOut = kind.equals("SUM") || kind.equals("AVG");
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
        Metadata md = input.metadata();
        if (kind.equals("AVG")) {
          md = new MetadataBuilder().withMetadata(md).putString(SecureColumns.PLAIN_TYPE, "double")
              .build();
        }
        boolean revealed = to != null;
        out = new AttributeReference(ne.name(), DataTypes.LongType, false, md,
            revealed ? NamedExpression.newExprId() : id, ScalaInterop.seqOf());
        revealIds.add(revealed ? id : null);
      }
      kinds.add(kind);
      inputs.add(input);
      output.add(out);
    }
    if (anyRevealed && anySecretUnrevealed) {
      return null; // some outputs revealed, others not: the check rule explains
    }
    SecureAggregate sa = new SecureAggregate(ScalaInterop.seq(grouping), ScalaInterop.seq(kinds),
        ScalaInterop.seq(inputs), ScalaInterop.seq(output), agg.child());
    return anyRevealed ? SecureReveal.of(recipients, sa, revealIds) : sa;
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
