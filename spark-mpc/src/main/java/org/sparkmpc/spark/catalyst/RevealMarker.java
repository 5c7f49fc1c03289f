package org.sparkmpc.spark.catalyst;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenContext;
import org.apache.spark.sql.catalyst.expressions.codegen.ExprCode;
import org.apache.spark.sql.types.DataType;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * The SQL function {@code reveal(x)} / {@code reveal(x, 'party1,party2')}: marks a secure value as a
 * declared output of the query, to all parties or to the named ones. It never evaluates: the
 * {@link SecureRewriteRule} turns it into a {@link SecureReveal} node, and the check rule fails any
 * query where one is left.
 */
public final class RevealMarker extends Expression implements Serializable {
  private static final long serialVersionUID = 1L;

  private final Expression child;
  private final String recipients;

  public RevealMarker(Expression child, String recipients) {
    this.child = child;
    this.recipients = recipients == null ? "" : recipients.trim();
  }

  /** Build from SQL arguments: the value and an optional string literal of party names. */
  public static Expression build(Seq<Expression> args) {
    List<Expression> a = ScalaInterop.list(args);
    if (a.isEmpty() || a.size() > 2) {
      throw new IllegalArgumentException(
          "reveal takes a secure value and optionally a string of party names: reveal(x, 'a,b')");
    }
    String to = "";
    if (a.size() == 2) {
      Expression p = a.get(1);
      if (!p.foldable()) {
        throw new IllegalArgumentException("reveal: the recipients must be a string literal");
      }
      Object v = p.eval(null);
      to = v == null ? "" : v.toString();
    }
    return new RevealMarker(a.get(0), to);
  }

  public Expression child() {
    return child;
  }

  /** Recipient party names; empty means every party. */
  public List<String> recipients() {
    if (recipients.isEmpty()) {
      return List.of();
    }
    return java.util.Arrays.stream(recipients.split(",")).map(String::trim)
        .filter(s -> !s.isEmpty()).sorted().distinct().toList();
  }

  @Override
  public Seq<Expression> children() {
    return ScalaInterop.seqOf(child);
  }

  @Override
  public boolean nullable() {
    return true;
  }

  @Override
  public DataType dataType() {
    return child.dataType() instanceof org.sparkmpc.spark.types.ShareType t ? t.revealedType()
        : child.dataType();
  }

  @Override
  public Object eval(InternalRow input) {
    throw new IllegalStateException("reveal() is planned as a secure operator and never evaluated");
  }

  @Override
  public ExprCode doGenCode(CodegenContext ctx, ExprCode ev) {
    throw new IllegalStateException("reveal() is planned as a secure operator and never compiled");
  }

  @Override
  public Expression withNewChildrenInternal(IndexedSeq<Expression> c) {
    return new RevealMarker(c.apply(0), recipients);
  }

  @Override
  public String prettyName() {
    return "reveal";
  }

  @Override
  public int productArity() {
    return 2;
  }

  @Override
  public Object productElement(int n) {
    return n == 0 ? child : recipients;
  }

  @Override
  public boolean canEqual(Object that) {
    return that instanceof RevealMarker;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RevealMarker r && r.child.equals(child) && r.recipients.equals(recipients);
  }

  @Override
  public int hashCode() {
    return Objects.hash(child, recipients);
  }
}
