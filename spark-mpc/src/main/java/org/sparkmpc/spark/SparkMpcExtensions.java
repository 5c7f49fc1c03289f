package org.sparkmpc.spark;

import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.SparkSessionExtensionsProvider;
import org.apache.spark.sql.catalyst.FunctionIdentifier;
import org.apache.spark.sql.catalyst.expressions.ExpressionInfo;
import org.sparkmpc.spark.catalyst.RevealMarker;
import org.sparkmpc.spark.catalyst.SecureCheckRule;
import org.sparkmpc.spark.catalyst.SecureRewriteRule;
import org.sparkmpc.spark.catalyst.SecureStrategy;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

/**
 * The Spark MPC session extension: {@code spark.sql.extensions=org.sparkmpc.spark.SparkMpcExtensions}.
 *
 * <p>Order in a query's life: the parser sees {@code reveal(...)} as a function call (injected
 * function); analysis resolves columns, and a resolution rule rewrites aggregates and reveals over
 * secure columns into secure nodes as soon as their columns are resolved; the check rule then refuses whatever still reads a secure column;
 * the optimizer leaves the secure nodes alone (it has no rule for them); the planner strategy turns
 * them into secure operators.
 */
public final class SparkMpcExtensions extends AbstractFunction1<SparkSessionExtensions, BoxedUnit>
    implements SparkSessionExtensionsProvider {

  @Override
  public BoxedUnit apply(SparkSessionExtensions ext) {
    // The SQL function reveal(x[, 'party,...']): a marker the rewrite rule consumes; it is never
    // evaluated, so a reveal the rules cannot place fails analysis instead of running.
    ext.injectFunction(new scala.Tuple3<>(FunctionIdentifier.apply("reveal"),
        new ExpressionInfo(RevealMarker.class.getName(), "reveal"),
        (scala.Function1<scala.collection.immutable.Seq<
            org.apache.spark.sql.catalyst.expressions.Expression>,
            org.apache.spark.sql.catalyst.expressions.Expression>) RevealMarker::build));
    // Resolution rule: runs in the analyzer's fixed-point resolution batch, as soon as an
    // aggregate's or projection's columns are resolved. Spark cannot resolve SUM, AVG or * over
    // shares (their type is a share), so without the rewrite a query over the secure node (an
    // outer filter on a revealed total, say) could never resolve its references to it.
    ext.injectResolutionRule(session -> new SecureRewriteRule(true));
    // Post-hoc resolution: reveals of rows in projections, once the plan around them is resolved
    // (reveal(x) already has the revealed type, so an outer query resolves against it).
    ext.injectPostHocResolutionRule(session -> new SecureRewriteRule(false));
    // Check rule: any remaining operation on a secure column fails analysis, naming the operation
    // and the column. This is what keeps shares from ever being computed on as plaintext.
    ext.injectCheckRule(session -> new SecureCheckRule());
    // Planner strategy: secure logical nodes to secure physical operators.
    ext.injectPlannerStrategy(session -> new SecureStrategy());
    return BoxedUnit.UNIT;
  }
}
