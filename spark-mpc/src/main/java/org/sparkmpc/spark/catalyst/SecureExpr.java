package org.sparkmpc.spark.catalyst;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.Expression;

/**
 * A row expression over secure columns, compiled by {@link SecureOperators} from the Spark
 * expression a query wrote ({@code amount > 10000 AND NOT flagged = 1}, {@code CASE WHEN x > 0
 * THEN x ELSE 0 END}), evaluated obliviously for every row of a partition by {@link
 * SecureExprEval}: no row is dropped and nothing about a row is opened.
 *
 * <p>Nodes are kept in post-order (children before parents); the root is the last node. Each node
 * is either a <em>bit</em> (arithmetic shares of 0 or 1, as a comparison gives) or a <em>value</em>
 * (arithmetic shares of a fixed-point number at {@link #scale}). Leaves are secure columns
 * ({@link #inputs}), public constants already encoded at the scale they meet, and predicates over
 * the table's public columns (evaluated in plaintext per row, since every party holds those
 * columns). The driver gives each node that talks to the peers its own block of rounds and streams
 * ({@link SecureExprEval.Layout}); a task evaluates the same nodes in the same order at every
 * party.
 */
final class SecureExpr implements Serializable {
  private static final long serialVersionUID = 1L;

  /** What a node computes. */
  enum Op {
    /** A secure column (a value). */
    COLUMN(0),
    /** A public constant, encoded at the node's scale (a value; party 0 holds it). */
    CONST(0),
    /** A predicate over public columns, evaluated per row in plaintext (a bit). */
    PUBLIC(0),
    /** {@code a + b} of two values at one scale (local). */
    ADD(0),
    /** {@code a - b} of two values at one scale (local). */
    SUB(0),
    /** {@code a < b} of two values at one scale. */
    LT(1),
    /** {@code a <= b} of two values at one scale. */
    LE(1),
    /** {@code a == b} of two values at one scale. */
    EQ(1),
    /** {@code a AND b} of two bits: one product. */
    AND(1),
    /** {@code a OR b} of two bits: {@code a + b - ab}, one product. */
    OR(1),
    /** {@code NOT a} of a bit: {@code 1 - a} (local). */
    NOT(0),
    /** {@code c ? a : b} for a bit {@code c} and two values or two bits: one product. */
    IF(1);

    /** Whether the node runs a protocol with the peers (and so needs rounds and material). */
    final boolean interactive;

    Op(int interactive) {
      this.interactive = interactive == 1;
    }
  }

  final List<Op> ops = new ArrayList<>();
  /** Child node indices per node (up to three), -1 where absent. */
  final List<int[]> args = new ArrayList<>();
  /** Scale of a value node in bits; -1 for a bit. */
  final List<Integer> scale = new ArrayList<>();
  /** CONST: the encoded constant; COLUMN: the index into {@link #inputs}. */
  final List<Long> constant = new ArrayList<>();
  /** PUBLIC: the predicate, over the attributes of the input it was written against. */
  final List<Expression> predicate = new ArrayList<>();
  /** The secure columns the expression reads, in first-use order. */
  final List<Attribute> inputs = new ArrayList<>();
  /** The public columns the expression's public predicates read. */
  final List<Attribute> publicInputs = new ArrayList<>();
  /** The Spark SQL the expression was compiled from, literals kept (for errors and EXPLAIN). */
  String sql = "";

  /** Public bound of each node's magnitude: {@code |v| < 2^bits} (1 for a bit). */
  final List<Integer> bits = new ArrayList<>();

  int size() {
    return ops.size();
  }

  int root() {
    return ops.size() - 1;
  }

  boolean isBit(int node) {
    return scale.get(node) < 0;
  }

  int add(Op op, int scaleBits, int magnitudeBits, long c, Expression pred, int... children) {
    int[] a = {-1, -1, -1};
    System.arraycopy(children, 0, a, 0, children.length);
    ops.add(op);
    args.add(a);
    scale.add(scaleBits);
    bits.add(magnitudeBits);
    constant.add(c);
    predicate.add(pred);
    return ops.size() - 1;
  }

  /** Index of {@code a} among {@link #inputs}, added if new. */
  int input(Attribute a) {
    for (int i = 0; i < inputs.size(); i++) {
      if (inputs.get(i).exprId().equals(a.exprId())) {
        return i;
      }
    }
    inputs.add(a);
    return inputs.size() - 1;
  }

  /** A structural description the same at every party (constants as digests). */
  String describe(String salt) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < ops.size(); i++) {
      sb.append(i == 0 ? "" : " ").append(ops.get(i)).append('(');
      switch (ops.get(i)) {
        case COLUMN -> sb.append(inputs.get(constant.get(i).intValue()).name());
        case CONST -> sb.append("literal#").append(SecureExec.digest(salt,
            Long.toString(constant.get(i))));
        case PUBLIC -> sb.append(SecureExec.publicSql(predicate.get(i), salt));
        default -> sb.append(args.get(i)[0]).append(',').append(args.get(i)[1]).append(',')
            .append(args.get(i)[2]);
      }
      sb.append(")@").append(scale.get(i));
    }
    return sb.toString();
  }
}
