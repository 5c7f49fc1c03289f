package org.sparkmpc.spark.catalyst;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.sparkmpc.spark.SecureColumns;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * Turns this party's own rows ({@code child}) into its view of a horizontally split secure table:
 * the union of every party's rows, in party order, with the public columns as they are and the
 * secret columns replaced by this party's additive shares ({@code LongType} with share metadata).
 *
 * <p>Secret column types are validated when the operator runs (so that every party reaches the same
 * operator, and a party with a bad column can tell the others why it stops).
 */
public final class SecureShare extends SecureLogicalNode {
  private static final long serialVersionUID = 1L;

  private final LogicalPlan child;
  private final Seq<String> secretColumns;
  private final int scaleBits;
  private final String tableId;
  private final Seq<Attribute> output;

  public SecureShare(LogicalPlan child, Seq<String> secretColumns, int scaleBits, String tableId,
      Seq<Attribute> output) {
    this.child = child;
    this.secretColumns = secretColumns;
    this.scaleBits = scaleBits;
    this.tableId = tableId;
    this.output = output;
  }

  /** Build the node and its output attributes (fresh ids for the share columns). */
  public static SecureShare of(LogicalPlan child, List<String> secret, int scaleBits, String table) {
    List<Attribute> out = new ArrayList<>();
    for (Attribute a : ScalaInterop.list(child.output())) {
      if (secret.contains(a.name())) {
        boolean integral = SecureTypes.isIntegral(a.dataType());
        Metadata md = SecureColumns.metadata(integral ? 0 : scaleBits, integral ? "long" : "double",
            table);
        out.add(new AttributeReference(a.name(), DataTypes.LongType, false, md,
            NamedExpression.newExprId(), ScalaInterop.seqOf()));
      } else {
        out.add(a);
      }
    }
    return new SecureShare(child, ScalaInterop.seq(secret), scaleBits, table, ScalaInterop.seq(out));
  }

  public LogicalPlan child() {
    return child;
  }

  public List<String> secretColumns() {
    return ScalaInterop.list(secretColumns);
  }

  public int scaleBits() {
    return scaleBits;
  }

  public String tableId() {
    return tableId;
  }

  @Override
  public Seq<Attribute> output() {
    return output;
  }

  /** Reads every column of its child. */
  @Override
  public AttributeSet references() {
    return child.outputSet();
  }

  /** The share columns are new attributes; public ones pass through. */
  @Override
  public AttributeSet producedAttributes() {
    List<org.apache.spark.sql.catalyst.expressions.Expression> fresh = new ArrayList<>();
    for (Attribute a : ScalaInterop.list(output)) {
      if (!child.outputSet().contains(a)) {
        fresh.add(a);
      }
    }
    return AttributeSet.apply(ScalaInterop.seq(fresh));
  }

  @Override
  public Seq<LogicalPlan> children() {
    return ScalaInterop.seqOf(child);
  }

  @Override
  public LogicalPlan withNewChildrenInternal(IndexedSeq<LogicalPlan> newChildren) {
    return new SecureShare(newChildren.apply(0), secretColumns, scaleBits, tableId, output);
  }

  @Override
  protected Object[] fields() {
    return new Object[] {child, secretColumns, scaleBits, tableId, output};
  }
}
