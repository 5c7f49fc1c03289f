package org.sparkmpc.spark.catalyst;

import java.io.Serializable;
import java.util.List;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.protocol.BeaverMultiplication;
import org.sparkmpc.protocol.Comparison;
import org.sparkmpc.protocol.Equality;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.spark.catalyst.SecureExpr.Op;

/**
 * Evaluates a {@link SecureExpr} over every row of one partition, in one task, all rounds in a
 * row: nodes in post-order, each over the whole partition at once (one message per peer per round).
 *
 * <p>Per node: {@code LT}/{@code LE} one {@link Comparison#ltz} ({@value Comparison#ROUNDS}
 * rounds), {@code EQ} one {@link Equality#isZero} ({@value Equality#ROUNDS} rounds), {@code AND},
 * {@code OR} and {@code IF} one Beaver product (1 round, 16 bytes per row per peer), the rest
 * local. Reveals nothing: every opened value is masked by fresh correlated randomness.
 */
final class SecureExprEval {
  private SecureExprEval() {}

  /**
   * The rounds and streams the driver gave each interactive node of an expression: the same at
   * every party (allocated in node order) and in every partition.
   */
  record Layout(RoundRange[] rounds, StreamRange[] streams) implements Serializable {}

  /** Rounds the layout's nodes take, in all. */
  static int rounds(Layout l) {
    int r = 0;
    for (RoundRange x : l.rounds()) {
      r += x == null ? 0 : x.count();
    }
    return r;
  }

  /** Where a task evaluates: its session, material, operator and partition. */
  record Env(MpcContext ctx, CorrelationSource source, long op, int partition) {}

  /** Give every interactive node of {@code e} its rounds and streams in {@code scope}. */
  static Layout layout(SecureExpr e, OperatorScope scope, String name) {
    RoundRange[] r = new RoundRange[e.size()];
    StreamRange[] s = new StreamRange[e.size()];
    for (int i = 0; i < e.size(); i++) {
      Op op = e.ops.get(i);
      if (op.interactive) {
        String what = name + " node " + i + " " + op;
        r[i] = scope.rounds(what, rounds(op));
        s[i] = scope.streams(what, streams(op));
      }
    }
    return new Layout(r, s);
  }

  private static int rounds(Op op) {
    return op == Op.LT || op == Op.LE ? Comparison.ROUNDS : op == Op.EQ ? Equality.ROUNDS : 1;
  }

  private static int streams(Op op) {
    return op == Op.LT || op == Op.LE ? Comparison.STREAMS : op == Op.EQ ? Equality.STREAMS : 1;
  }

  /** The correlated material evaluating {@code e} over {@code n} rows of a partition consumes. */
  static void needs(SecureExpr e, Layout l, int partition, int n, List<Need> out) {
    for (int i = 0; i < e.size(); i++) {
      Op op = e.ops.get(i);
      if (op == Op.LT || op == Op.LE) {
        out.addAll(Comparison.needs(partition, l.streams()[i], n));
      } else if (op == Op.EQ) {
        out.addAll(Equality.needs(partition, l.streams()[i], n));
      } else if (op.interactive) {
        out.add(Need.triples(partition, l.streams()[i].stream(0), n));
      }
    }
  }

  /**
   * This party's shares of the root's value for every row.
   *
   * @param columns the shares of each of {@code e.inputs}, {@code n} rows each
   * @param publicBits per node, for {@code PUBLIC} nodes, the plaintext predicate per row
   */
  static long[] eval(SecureExpr e, Layout l, Env env, long[][] columns, boolean[][] publicBits,
      int n) {
    long[][] v = new long[e.size()][];
    boolean first = env.ctx().self() == 0;
    for (int i = 0; i < e.size(); i++) {
      int[] a = e.args.get(i);
      Op op = e.ops.get(i);
      v[i] = switch (op) {
        case COLUMN -> columns[e.constant.get(i).intValue()];
        case CONST -> {
          long[] c = new long[n];
          if (first) {
            java.util.Arrays.fill(c, e.constant.get(i));
          }
          yield c;
        }
        case PUBLIC -> {
          long[] c = new long[n];
          boolean[] bits = publicBits[i];
          for (int r = 0; first && r < n; r++) {
            c[r] = bits[r] ? 1 : 0;
          }
          yield c;
        }
        case ADD -> combine(v[a[0]], v[a[1]], 1, n);
        case SUB -> combine(v[a[0]], v[a[1]], -1, n);
        // a < b is [a - b < 0]; a <= b is 1 - [b - a < 0]
        case LT -> Comparison.ltz(env.ctx(), env.source(), env.op(), env.partition(),
            l.rounds()[i], l.streams()[i], combine(v[a[0]], v[a[1]], -1, n));
        case LE -> not(Comparison.ltz(env.ctx(), env.source(), env.op(), env.partition(),
            l.rounds()[i], l.streams()[i], combine(v[a[1]], v[a[0]], -1, n)), first);
        case EQ -> Equality.isZero(env.ctx(), env.source(), env.op(), env.partition(),
            l.rounds()[i], l.streams()[i], combine(v[a[0]], v[a[1]], -1, n));
        case NOT -> not(v[a[0]], first);
        case AND -> multiply(env, l, i, v[a[0]], v[a[1]], n);
        case OR -> {
          long[] ab = multiply(env, l, i, v[a[0]], v[a[1]], n);
          long[] x = v[a[0]];
          long[] y = v[a[1]];
          for (int r = 0; r < n; r++) {
            ab[r] = x[r] + y[r] - ab[r];
          }
          yield ab;
        }
        case IF -> { // b + c * (a - b)
          long[] d = multiply(env, l, i, v[a[0]], combine(v[a[1]], v[a[2]], -1, n), n);
          long[] b = v[a[2]];
          for (int r = 0; r < n; r++) {
            d[r] += b[r];
          }
          yield d;
        }
      };
    }
    return v[e.root()];
  }

  private static long[] multiply(Env env, Layout l, int node, long[] x, long[] y, int n) {
    return BeaverMultiplication.multiply(env.ctx(), env.source(), env.op(), env.partition(),
        l.rounds()[node].first(), l.streams()[node].stream(0), x, y, n);
  }

  /** {@code x + sign * y}, elementwise. */
  static long[] combine(long[] x, long[] y, int sign, int n) {
    long[] z = new long[n];
    for (int r = 0; r < n; r++) {
      z[r] = x[r] + sign * y[r];
    }
    return z;
  }

  /** Shares of {@code 1 - a}: party 0 adds the 1. */
  static long[] not(long[] a, boolean first) {
    long[] z = new long[a.length];
    for (int r = 0; r < a.length; r++) {
      z[r] = (first ? 1 : 0) - a[r];
    }
    return z;
  }
}
