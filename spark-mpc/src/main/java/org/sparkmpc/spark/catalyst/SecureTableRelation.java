package org.sparkmpc.spark.catalyst;

import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * A materialised secure table as a Catalyst leaf: the table id (the same at every party) and its
 * columns. The partitions live in this party's block manager and are found through the runtime.
 */
public final class SecureTableRelation extends SecureLogicalNode {
  private static final long serialVersionUID = 1L;

  private final String tableId;
  private final Seq<Attribute> output;

  public SecureTableRelation(String tableId, Seq<Attribute> output) {
    this.tableId = tableId;
    this.output = output;
  }

  public String tableId() {
    return tableId;
  }

  @Override
  public Seq<Attribute> output() {
    return output;
  }

  @Override
  public Seq<LogicalPlan> children() {
    return ScalaInterop.seqOf();
  }

  @Override
  public LogicalPlan withNewChildrenInternal(IndexedSeq<LogicalPlan> c) {
    return this;
  }

  @Override
  protected Object[] fields() {
    return new Object[] {tableId, output};
  }

  @Override
  public String simpleString(int maxFields) {
    return "SecureTable " + tableId + " " + ScalaInterop.list(output);
  }
}
