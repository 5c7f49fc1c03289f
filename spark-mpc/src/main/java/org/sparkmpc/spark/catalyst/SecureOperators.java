package org.sparkmpc.spark.catalyst;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;
import java.util.stream.Collectors;
import org.apache.spark.sql.catalyst.expressions.And;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.BinaryComparison;
import org.apache.spark.sql.catalyst.expressions.CaseWhen;
import org.apache.spark.sql.catalyst.expressions.Cast;
import org.apache.spark.sql.catalyst.expressions.EqualTo;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GreaterThan;
import org.apache.spark.sql.catalyst.expressions.GreaterThanOrEqual;
import org.apache.spark.sql.catalyst.expressions.If;
import org.apache.spark.sql.catalyst.expressions.LessThan;
import org.apache.spark.sql.catalyst.expressions.LessThanOrEqual;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.catalyst.expressions.Not;
import org.apache.spark.sql.catalyst.expressions.Or;
import org.apache.spark.sql.types.BooleanType;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.spark.SecureColumns;
import org.sparkmpc.spark.catalyst.SecureExpr.Op;
import org.sparkmpc.spark.types.ShareType;

/**
 * The registry of secure operators: every Spark operator, aggregate and row expression that has a
 * secure implementation, in one place (Comet's {@code CometExecRule} and operator serde are the
 * model). Each entry says how it is recognised, what it computes, its cost and what it reveals, and
 * (for row expressions) how it compiles into a {@link SecureExpr} node, declining with a reason.
 * The rewrite rule compiles through it, the check rule's "Supported: ..." comes from it, and the
 * README's support table is {@link #markdownTable()} (a test keeps them in step).
 *
 * <p>Adding a secure row expression means adding one {@link Entry} here and, if it talks to the
 * peers, its kernel in {@link SecureExprEval}.
 */
public final class SecureOperators {
  private SecureOperators() {}

  /** What an entry is. */
  public enum Kind {
    OPERATOR, AGGREGATE, EXPRESSION
  }

  /**
   * One secure implementation.
   *
   * @param kind     operator, aggregate or row expression
   * @param sql      how a user writes it
   * @param matches  the Spark class or function name it is recognised by
   * @param cost     rounds and bytes per row (or per group)
   * @param reveals  what it opens
   * @param compile  row expressions: the compiler ({@code null} for the others)
   */
  public record Entry(Kind kind, String sql, String matches, String cost, String reveals,
      Compiler compile) {}

  /** Compiles one Spark expression node into a {@link SecureExpr} node, or declines. */
  @FunctionalInterface
  interface Compiler {
    /** The node index, or null when this entry does not take {@code e}. */
    Integer compile(Expression e, Context c);
  }

  private static final String CMP_COST = "one comparison: 8 rounds, about 40 bytes per row per "
      + "peer";

  /** Every entry, in the order the README lists them. */
  public static final List<Entry> ENTRIES = List.of(
      new Entry(Kind.OPERATOR, "GROUP BY public columns", "Aggregate",
          "local sums; 1 round to open", "the declared aggregates of each group", null),
      new Entry(Kind.OPERATOR, "WHERE / filter on secure columns", "Filter",
          "the predicate's rounds, then 1 product per aggregate", "nothing: the predicate becomes "
              + "a secret bit per row folded into the aggregates above it", null),
      new Entry(Kind.OPERATOR, "HAVING on SUM, COUNT, MIN, MAX of secure columns",
          "UnresolvedHaving over Aggregate", "the condition's comparisons, once per group, on "
              + "the driver", "whether each group meets the condition (to every party): the "
              + "groups that fail are left out, their values never opened", null),
      new Entry(Kind.OPERATOR, "WHERE / filter on public columns", "Filter",
          "local", "nothing (public columns are public)", null),
      new Entry(Kind.OPERATOR, "SELECT reveal(col)", "Project",
          "1 round", "the column's values to the named parties", null),
      new Entry(Kind.AGGREGATE, "SUM(x), SUM(x * y), SUM(c * x)", "Sum",
          "local; a product: 1 round, 16 bytes per row per peer", "the sum when revealed", null),
      new Entry(Kind.AGGREGATE, "COUNT(*), COUNT(x)", "Count",
          "local (public) or, under a secret predicate, a secret sum of bits",
          "the count (public without a secret predicate)", null),
      new Entry(Kind.AGGREGATE, "AVG(x)", "Average", "as SUM; must be revealed",
          "the average; under a secret predicate also the count", null),
      new Entry(Kind.AGGREGATE, "MIN(x), MAX(x)", "Min, Max",
          "a tournament per group: log2(rows) levels of one comparison and one product",
          "the minimum or maximum when revealed", null),
      new Entry(Kind.AGGREGATE, "any aggregate under a secret predicate, with "
          + "spark.mpc.reveal.minGroupSize", "Filter under Aggregate",
          "one comparison per group", "whether each group's secret count reaches the minimum "
              + "(and is not empty)", null),
      new Entry(Kind.EXPRESSION, "a < b, a <= b, a > b, a >= b", "BinaryComparison",
          CMP_COST, "nothing", SecureOperators::comparison),
      new Entry(Kind.EXPRESSION, "a = b, a <> b", "EqualTo, Not(EqualTo)",
          CMP_COST, "nothing", SecureOperators::comparison),
      new Entry(Kind.EXPRESSION, "p AND q, p OR q", "And, Or",
          "1 round, 16 bytes per row per peer", "nothing", SecureOperators::logic),
      new Entry(Kind.EXPRESSION, "NOT p", "Not", "local", "nothing", SecureOperators::logic),
      new Entry(Kind.EXPRESSION, "CASE WHEN p THEN a ELSE b END, IF(p, a, b)", "CaseWhen, If",
          "1 round per branch, 16 bytes per row per peer", "nothing", SecureOperators::select),
      new Entry(Kind.EXPRESSION, "a + b, a - b", "Add, Subtract", "local", "nothing",
          SecureOperators::arithmetic),
      new Entry(Kind.EXPRESSION, "secure column, numeric literal, predicate on public columns",
          "Attribute, Literal", "local", "nothing", SecureOperators::leaf));

  /** The sentence the check rule ends its refusals with. */
  public static String supported() {
    return "Supported: " + ENTRIES.stream().map(Entry::sql).collect(Collectors.joining("; "));
  }

  /** The README's support table (Markdown). */
  public static String markdownTable() {
    StringBuilder sb = new StringBuilder("| Kind | Spark SQL / DataFrame | Matched on | Cost | "
        + "Reveals |\n|---|---|---|---|---|\n");
    for (Entry e : ENTRIES) {
      sb.append("| ").append(e.kind().name().toLowerCase(Locale.ROOT)).append(" | ")
          .append(e.sql()).append(" | `").append(e.matches()).append("` | ").append(e.cost())
          .append(" | ").append(e.reveals()).append(" |\n");
    }
    return sb.toString();
  }

  /** Prints the README's support table. */
  public static void main(String[] args) {
    System.out.print(markdownTable());
  }

  /** Compilation state: the program being built and the public columns it may read. */
  static final class Context {
    final SecureExpr out = new SecureExpr();

    int compile(Expression e) {
      e = uncast(e);
      for (Entry entry : ENTRIES) {
        if (entry.compile() != null) {
          Integer node = entry.compile().compile(e, this);
          if (node != null) {
            return node;
          }
        }
      }
      String col = ScalaInterop.list(e.references().toSeq()).stream()
          .filter(SecureColumns::isSecure).map(Attribute::name).findFirst().orElse(null);
      throw SecureCheckRule.refuse("the expression " + e.prettyName() + " (" + e.sql() + ")"
          + (col == null ? "" : " on secure column '" + col + "'") + " in a secret predicate or "
          + "aggregate argument");
    }
  }

  /**
   * Compile {@code e} (a predicate, or an aggregate's argument) into a program; refuses, naming
   * the expression, what has no secure implementation.
   */
  static SecureExpr compile(Expression e) {
    e = normalize(e);
    Context c = new Context();
    c.compile(e);
    c.out.sql = e.sql();
    return c.out;
  }

  /**
   * {@code e} with the DataFrame API's calls of logic and comparison operators as the expressions
   * SQL parses them to: {@code Column.and}, {@code or}, {@code not} and some comparisons reach the
   * plan as unresolved function calls ({@code and(p, q)}, {@code !(p)}) that Spark would resolve
   * only once their arguments do, which arguments over shares never do.
   */
  static Expression normalize(Expression e) {
    return e.transformUp(ScalaInterop.rewrite(x -> {
      if (!(x instanceof org.apache.spark.sql.catalyst.analysis.UnresolvedFunction f)
          || f.isDistinct() || f.filter().isDefined()) {
        return null;
      }
      List<Expression> a = ScalaInterop.list(f.arguments());
      List<String> parts = ScalaInterop.list(f.nameParts());
      String n = parts.get(parts.size() - 1).toLowerCase(Locale.ROOT);
      if (a.size() == 1) {
        return n.equals("not") || n.equals("!") ? new Not(a.get(0)) : null;
      }
      if (a.size() != 2) {
        return null;
      }
      Expression l = a.get(0);
      Expression r = a.get(1);
      return switch (n) {
        case "and" -> new And(l, r);
        case "or" -> new Or(l, r);
        case "<" -> new LessThan(l, r);
        case "<=" -> new LessThanOrEqual(l, r);
        case ">" -> new GreaterThan(l, r);
        case ">=" -> new GreaterThanOrEqual(l, r);
        case "=", "==" -> new EqualTo(l, r);
        case "<>", "!=" -> new Not(new EqualTo(l, r));
        default -> null;
      };
    }));
  }

  /** Whether {@code e} reads a secure column. */
  static boolean secure(Expression e) {
    return e.references().exists(a -> SecureColumns.isSecure(a));
  }

  private static Expression uncast(Expression e) {
    while (e instanceof Cast c) {
      e = c.child();
    }
    return e;
  }

  private static Integer leaf(Expression e, Context c) {
    SecureExpr x = c.out;
    if (e instanceof Attribute a && a.dataType() instanceof ShareType t) {
      return x.add(Op.COLUMN, t.scale(), t.bits(), x.input(a), null);
    }
    if (!secure(e) && e.dataType() instanceof BooleanType) {
      for (Attribute a : ScalaInterop.list(e.references().toSeq())) {
        if (x.publicInputs.stream().noneMatch(b -> b.exprId().equals(a.exprId()))) {
          x.publicInputs.add(a);
        }
      }
      return x.add(Op.PUBLIC, -1, 1, 0, e);
    }
    return null; // a bare literal is compiled by the node that knows its scale
  }

  private static Integer logic(Expression e, Context c) {
    if (!secure(e)) {
      return null;
    }
    if (e instanceof And a) {
      return c.out.add(Op.AND, -1, 1, 0, null, bit(a.left(), c), bit(a.right(), c));
    }
    if (e instanceof Or o) {
      return c.out.add(Op.OR, -1, 1, 0, null, bit(o.left(), c), bit(o.right(), c));
    }
    if (e instanceof Not n && !(uncast(n.child()) instanceof EqualTo)) {
      return c.out.add(Op.NOT, -1, 1, 0, null, bit(n.child(), c));
    }
    return null;
  }

  private static int bit(Expression e, Context c) {
    int n = c.compile(e);
    if (!c.out.isBit(n)) {
      throw SecureCheckRule.refuse("the value " + e.sql() + " used as a condition (write a "
          + "comparison)");
    }
    return n;
  }

  private static Integer comparison(Expression e, Context c) {
    boolean negate = false;
    if (e instanceof Not n && uncast(n.child()) instanceof EqualTo eq) {
      e = eq;
      negate = true;
    }
    if (!(e instanceof BinaryComparison b) || !secure(e)) {
      return null;
    }
    Expression l = uncast(b.left());
    Expression r = uncast(b.right());
    // a > b is b < a; a >= b is b <= a
    boolean swap = e instanceof GreaterThan || e instanceof GreaterThanOrEqual;
    Op op = e instanceof EqualTo ? Op.EQ
        : e instanceof LessThan || e instanceof GreaterThan ? Op.LT
        : e instanceof LessThanOrEqual || e instanceof GreaterThanOrEqual ? Op.LE : null;
    if (op == null) {
      return null; // <=> has no secure form
    }
    if (swap) {
      Expression t = l;
      l = r;
      r = t;
    }
    int[] nodes = operands(l, r, op, c, e);
    if (nodes == null) { // x = c with c not on the column's grid: never equal
      return c.out.add(Op.PUBLIC, -1, 1, 0, Literal.create(negate, org.apache.spark.sql.types.DataTypes.BooleanType));
    }
    int node = c.out.add(op, -1, 1, 0, null, nodes[0], nodes[1]);
    return negate ? c.out.add(Op.NOT, -1, 1, 0, null, node) : node;
  }

  /**
   * The two value nodes of {@code l op r}: literals are encoded at the other side's scale, rounded
   * so that the comparison of encoded integers is exact ({@code x < c} iff {@code x < ceil(c)},
   * {@code x <= c} iff {@code x <= floor(c)}); null for an equality with a literal off the grid.
   */
  private static int[] operands(Expression l, Expression r, Op op, Context c, Expression whole) {
    boolean lLit = l.foldable() && !secure(l);
    boolean rLit = r.foldable() && !secure(r);
    if (lLit && rLit) {
      throw SecureCheckRule.refuse("a comparison of two constants in a secret predicate ("
          + whole.sql() + ")");
    }
    int[] n = new int[2];
    if (!lLit) {
      n[0] = value(l, c);
    }
    if (!rLit) {
      n[1] = value(r, c);
    }
    if (lLit || rLit) {
      int other = lLit ? n[1] : n[0];
      Expression lit = lLit ? l : r;
      // left literal: c < x needs floor, c <= x needs ceil; right literal the opposite
      RoundingMode mode = op == Op.EQ ? RoundingMode.UNNECESSARY
          : (op == Op.LT) == lLit ? RoundingMode.FLOOR : RoundingMode.CEILING;
      Long k = encode(lit, c.out.scale.get(other), mode, whole);
      if (k == null) {
        return null;
      }
      n[lLit ? 0 : 1] = c.out.add(Op.CONST, c.out.scale.get(other), bitLength(k), k, null);
    }
    int sl = c.out.scale.get(n[0]);
    int sr = c.out.scale.get(n[1]);
    if (sl != sr) {
      throw new MpcInputException("the secret predicate " + whole.sql() + " compares values at "
          + "different fixed-point scales (2^" + sl + " and 2^" + sr + "): share both columns "
          + "with the same scale (an integer column has scale 0)");
    }
    for (int i = 0; i < 2; i++) {
      if (c.out.bits.get(n[i]) > 62) {
        throw new MpcInputException("the secret predicate " + whole.sql() + " compares "
            + (i == 0 ? l : r).sql() + ", whose values may reach 2^" + c.out.bits.get(n[i])
            + " encoded; comparisons need magnitudes below 2^62 (share the column with "
            + "spark.mpc.share.bounds=observed, or a narrower type)");
      }
    }
    return n;
  }

  private static int value(Expression e, Context c) {
    int n = c.compile(e);
    if (c.out.isBit(n)) {
      throw SecureCheckRule.refuse("the condition " + e.sql() + " used as a number");
    }
    return n;
  }

  /**
   * A literal encoded at {@code scale}, rounded by {@code mode}; null when {@code mode} is
   * UNNECESSARY and the literal is not on the grid.
   */
  static Long encode(Expression lit, int scale, RoundingMode mode, Expression whole) {
    Object v = lit.eval(null);
    if (v == null) {
      throw new MpcInputException("a NULL constant in " + whole.sql() + " over secure columns");
    }
    BigDecimal d;
    try {
      d = new BigDecimal(v.toString());
    } catch (NumberFormatException ex) {
      throw new MpcInputException("the constant " + lit.sql() + " in " + whole.sql()
          + " is not a number");
    }
    BigDecimal scaled = d.multiply(BigDecimal.valueOf(2).pow(scale));
    BigInteger k;
    try {
      k = scaled.setScale(0, mode).toBigIntegerExact();
    } catch (ArithmeticException off) {
      return null;
    }
    if (k.abs().bitLength() > 62) {
      throw new MpcInputException("the constant " + lit.sql() + " in " + whole.sql()
          + " is outside the fixed-point range at scale 2^" + scale + " (magnitude at most 2^"
          + (62 - scale) + ")");
    }
    return k.longValue();
  }

  private static int bitLength(long k) {
    return 64 - Long.numberOfLeadingZeros(Math.abs(k));
  }

  private static Integer select(Expression e, Context c) {
    if (!secure(e)) {
      return null;
    }
    List<Expression> conds = new java.util.ArrayList<>();
    List<Expression> vals = new java.util.ArrayList<>();
    Expression otherwise;
    Calls call = e instanceof org.apache.spark.sql.catalyst.analysis.UnresolvedFunction
        ? Calls.of(e) : null;
    if (call != null && call.name().equals("if") && call.args().size() == 3) {
      // IF(p, a, b) stays an unresolved call when Spark cannot type it (a share in a branch)
      conds.add(call.args().get(0));
      vals.add(call.args().get(1));
      otherwise = call.args().get(2);
    } else if (e instanceof If i) {
      conds.add(i.predicate());
      vals.add(i.trueValue());
      otherwise = i.falseValue();
    } else if (e instanceof CaseWhen cw) {
      for (scala.Tuple2<Expression, Expression> b : ScalaInterop.list(cw.branches())) {
        conds.add(b._1());
        vals.add(b._2());
      }
      otherwise = cw.elseValue().isDefined() ? cw.elseValue().get() : null;
    } else {
      return null;
    }
    // CASE WHEN c1 THEN v1 WHEN c2 THEN v2 ELSE e = IF(c1, v1, IF(c2, v2, e)); values meet at
    // one scale, a literal taking the others'.
    int scale = -2;
    for (Expression v : vals) {
      scale = scaleOf(v, scale, e);
    }
    if (otherwise != null) {
      scale = scaleOf(otherwise, scale, e);
    }
    if (scale == -2) {
      throw SecureCheckRule.refuse("a CASE WHEN whose branches are all constants over a secret "
          + "condition (" + e.sql() + "): write the condition itself, or a column in a branch");
    }
    int acc = otherwise == null ? constant(Literal.create(0, org.apache.spark.sql.types
        .DataTypes.IntegerType), scale, c, e) : branch(otherwise, scale, c, e);
    for (int b = conds.size() - 1; b >= 0; b--) {
      int cond = bit(conds.get(b), c);
      int v = branch(vals.get(b), scale, c, e);
      int bitsMax = Math.max(c.out.bits.get(v), c.out.bits.get(acc));
      acc = c.out.add(Op.IF, scale, bitsMax, 0, null, cond, v, acc);
    }
    return acc;
  }

  private static int scaleOf(Expression v, int known, Expression whole) {
    Expression u = uncast(v);
    if (u.foldable() && !secure(u)) {
      return known;
    }
    int s = u instanceof Attribute a && a.dataType() instanceof ShareType t ? t.scale() : -2;
    if (s == -2) {
      return known; // computed later, from the compiled node
    }
    if (known != -2 && known != s) {
      throw new MpcInputException("the branches of " + whole.sql() + " are at different "
          + "fixed-point scales (2^" + known + " and 2^" + s + ")");
    }
    return s;
  }

  private static int branch(Expression v, int scale, Context c, Expression whole) {
    Expression u = uncast(v);
    if (u.foldable() && !secure(u)) {
      return constant(u, scale, c, whole);
    }
    int n = c.compile(u);
    if (c.out.scale.get(n) != scale) {
      throw new MpcInputException("the branches of " + whole.sql() + " are at different "
          + "fixed-point scales (2^" + c.out.scale.get(n) + " and 2^" + scale + ")");
    }
    return n;
  }

  private static int constant(Expression lit, int scale, Context c, Expression whole) {
    Long k = encode(lit, scale, RoundingMode.HALF_EVEN, whole);
    return c.out.add(Op.CONST, scale, bitLength(k), k, null);
  }

  private static Integer arithmetic(Expression e, Context c) {
    BiFunction<Expression, Expression, int[]> both = (l, r) -> {
      Expression ul = uncast(l);
      Expression ur = uncast(r);
      boolean lLit = ul.foldable() && !secure(ul);
      int a = lLit ? -1 : value(ul, c);
      int b = ur.foldable() && !secure(ur) ? constant(ur, c.out.scale.get(a), c, e)
          : value(ur, c);
      if (lLit) {
        a = constant(ul, c.out.scale.get(b), c, e);
      }
      if (!c.out.scale.get(a).equals(c.out.scale.get(b))) {
        throw new MpcInputException(e.sql() + " adds values at different fixed-point scales "
            + "(2^" + c.out.scale.get(a) + " and 2^" + c.out.scale.get(b) + ")");
      }
      return new int[] {a, b};
    };
    if (!secure(e)) {
      return null;
    }
    if (e instanceof org.apache.spark.sql.catalyst.expressions.Add add) {
      int[] n = both.apply(add.left(), add.right());
      return c.out.add(Op.ADD, c.out.scale.get(n[0]), 1 + Math.max(c.out.bits.get(n[0]),
          c.out.bits.get(n[1])), 0, null, n[0], n[1]);
    }
    if (e instanceof org.apache.spark.sql.catalyst.expressions.Subtract sub) {
      int[] n = both.apply(sub.left(), sub.right());
      return c.out.add(Op.SUB, c.out.scale.get(n[0]), 1 + Math.max(c.out.bits.get(n[0]),
          c.out.bits.get(n[1])), 0, null, n[0], n[1]);
    }
    return null;
  }
}
