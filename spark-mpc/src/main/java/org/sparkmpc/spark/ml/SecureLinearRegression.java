package org.sparkmpc.spark.ml;

import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.protocol.FixedPointEngine;
import org.sparkmpc.protocol.SecureLinearSolve;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.share.Reveal;
import org.sparkmpc.spark.MpcConf;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.SecureColumns;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.table.SecureTable;

/**
 * Least-squares linear regression on a secure table whose features (and label) may sit at
 * different parties, shaped like a Spark ML estimator: setters for the columns and the recipients,
 * {@link #fit} returns a {@link SecureLinearRegressionModel}. Every party calls the same setters
 * and {@code fit} at the same point of its program. Raw columns as users have them (incomes in the
 * millions, years, amounts) give the model Spark ML's {@code LinearRegression} gives, or a clear
 * error naming the column: never a silently wrong model.
 *
 * <p><b>Standardization</b> (on by default, as in Spark ML; {@link #setStandardization}): the
 * features and the label are standardised inside MPC ({@link Standardizer}: means and spreads from
 * the same secure sums, never opened; 2 passes over the table and about 50 driver rounds), the
 * Gram of the standardised columns is computed per partition in one deep stage ({@link
 * LinearSteps.Gram}: 4 rounds, about {@code 40m} bytes per row to each other party with the dealer
 * for {@code m = d + 1} columns), the system (a correlation matrix) is solved inside MPC, and the
 * coefficients return to the original scale before they are opened ({@link
 * LinearSteps#originalScale}, 10 rounds). A column whose values or sums over the rows could pass
 * what the fixed point holds is refused before any share moves; a column without spread is refused
 * after its spread is computed. Standardization needs an intercept ({@link #setFitIntercept}).
 *
 * <p><b>Without standardization</b> the Gram of the raw columns ({@code Z = [features | label]}) is
 * computed per partition in one round (with the dealer's Gram triples {@code 8·m} bytes per row to
 * each other party; with the OT source one Beaver product per row and pair of columns), refused
 * when its sums could wrap ({@link #gramBounds}); the solve then wants entries of {@code ZᵀZ/n}
 * well below {@code 2^10} and {@code XᵀX/n} with a condition number below {@link
 * #setMaxCondition}, which raw data rarely has.
 *
 * <p><b>Solve</b> ({@code solver = "mpc"}, the default): {@link SecureLinearSolve} in fixed point
 * on shares, independent of the row count (about {@code 4·log2(15·k·maxCondition) + 70} rounds
 * of at most {@code 16k²} bytes); then <b>only the coefficients, the intercept and R² are opened,
 * to the recipients</b>. Every party keeps shares of the model, which {@link
 * SecureLinearRegressionModel#transform} uses. With {@code solver = "revealGram"} the recipients
 * are instead sent {@code XᵀX}, {@code Xᵀy}, {@code yᵀy} and the sums of the raw columns (the
 * standardization setting does not apply: the opened sums are exact, refused when they could wrap)
 * and solve in plaintext, standardising there: they learn those aggregates, not just the model.
 *
 * <p><b>Reveals</b>: the model and R² to the recipients; with standardization also one bit per
 * column (features and label) telling whether its spread is below {@code 2^-(U-4)} of its bound
 * (then the fit stops, naming it), and one bit telling whether the solve converged (it does not
 * when features are (nearly) collinear, the condition number beyond what {@link #setMaxCondition}
 * allows: then the fit stops). Needs a correlation source ({@code spark.mpc.correlations}).
 */
public final class SecureLinearRegression {
  /** Solve inside MPC and open only the model. */
  public static final String SOLVER_MPC = "mpc";
  /** Open XᵀX and Xᵀy to the recipients, who solve in plaintext. */
  public static final String SOLVER_REVEAL_GRAM = "revealGram";

  private final SparkMpc mpc;
  private String[] featureCols = new String[0];
  private String labelCol = "label";
  private String[] recipients = new String[0];
  private boolean fitIntercept = true;
  private String solver = SOLVER_MPC;
  private double maxCondition = 1e4;
  private boolean standardization = true;

  public SecureLinearRegression(SparkMpc mpc) {
    this.mpc = mpc;
  }

  public SecureLinearRegression setFeatureCols(String... cols) {
    this.featureCols = cols.clone();
    return this;
  }

  public SecureLinearRegression setLabelCol(String col) {
    this.labelCol = col;
    return this;
  }

  /** Parties that receive the model (all parties when none are named). */
  public SecureLinearRegression setRecipients(String... parties) {
    this.recipients = parties.clone();
    return this;
  }

  public SecureLinearRegression setFitIntercept(boolean fit) {
    this.fitIntercept = fit;
    return this;
  }

  /**
   * Standardise the features and the label inside MPC before solving (default true, as Spark ML's
   * {@code standardization}); the model is returned on the original scale either way. With
   * {@code false} the raw Gram is solved, which wants standardised data (see the class comment).
   */
  public SecureLinearRegression setStandardization(boolean standardize) {
    this.standardization = standardize;
    return this;
  }

  /** {@value #SOLVER_MPC} (default) or {@value #SOLVER_REVEAL_GRAM}; see the class comment. */
  public SecureLinearRegression setSolver(String solver) {
    if (!SOLVER_MPC.equals(solver) && !SOLVER_REVEAL_GRAM.equals(solver)) {
      throw new MpcInputException("SecureLinearRegression solver must be '" + SOLVER_MPC
          + "' or '" + SOLVER_REVEAL_GRAM + "', not '" + solver + "'");
    }
    this.solver = solver;
    return this;
  }

  /**
   * The largest condition number of {@code XᵀX/n} the in-MPC solve handles to full precision
   * (default 10⁴); it sets the public number of Newton–Schulz steps. With standardization that is
   * the features' correlation matrix, and a system the steps do not invert (a condition number
   * more than about 3 times this) is refused.
   */
  public SecureLinearRegression setMaxCondition(double maxCondition) {
    if (!(maxCondition >= 1)) {
      throw new MpcInputException("SecureLinearRegression maxCondition must be >= 1");
    }
    this.maxCondition = maxCondition;
    return this;
  }

  /** Share-column indices, in the table's share arrays, of the named columns, and their scales. */
  record Columns(int[] index, int[] scale, int[] bits) {}

  static Columns columns(SecureTable t, String[] names, String caller) {
    int[] index = new int[names.length];
    int[] scale = new int[names.length];
    int[] bits = new int[names.length];
    for (int i = 0; i < names.length; i++) {
      int pos = -1;
      List<Attribute> out = t.output();
      for (int j = 0; j < out.size(); j++) {
        if (out.get(j).name().equalsIgnoreCase(names[i])) {
          pos = j;
        }
      }
      if (pos < 0) {
        throw new MpcInputException(caller + ": the secure table has no column '" + names[i]
            + "'");
      }
      if (!t.secure()[pos]) {
        throw new MpcInputException(caller + ": column '" + names[i] + "' is public; name "
            + "secure columns (shared with share() or shareAligned())");
      }
      index[i] = t.index()[pos];
      scale[i] = SecureColumns.type(out.get(pos)).scale();
      bits[i] = SecureColumns.type(out.get(pos)).bits();
    }
    return new Columns(index, scale, bits);
  }

  /**
   * Refuses, before any share moves, a fit whose Gram sums could wrap: every {@code Σ x_i x_j} over
   * the {@code n} rows, at the session's scale, must stay below 2^63 by the columns' public bounds.
   * Every party decides alike from public facts.
   */
  static void gramBounds(String[] names, Columns cols, int[] up, long n, int scale,
      String caller) {
    int rowBits = 64 - Long.numberOfLeadingZeros(n);
    int k = names.length;
    for (int i = 0; i < k; i++) {
      for (int j = i; j <= k; j++) { // j == k: the intercept's column of ones, 1 at the scale
        int other = j == k ? scale + 1 : cols.bits()[j] + up[j];
        int bits = cols.bits()[i] + up[i] + other;
        if (bits + rowBits > 63) {
          throw new MpcInputException(caller + ": the sum of '" + names[i] + "'"
              + (j == k ? "" : " * '" + names[j] + "'") + " over " + n + " rows could pass 2^63 "
              + "at scale 2^" + (2 * scale) + " (values reach 2^" + (cols.bits()[i] + up[i])
              + (j == k ? "" : " and 2^" + other) + " encoded), which would wrap: rescale the "
              + "column" + (i == j || j == k ? "" : "s") + " or lower "
              + "spark.mpc.fixedPoint.scaleBits");
        }
      }
    }
  }

  static int[] recipientIndices(MpcContext ctx, String[] names) {
    if (names.length == 0) {
      int[] all = new int[ctx.parties()];
      for (int i = 0; i < all.length; i++) {
        all[i] = i;
      }
      return all;
    }
    return Arrays.stream(names).mapToInt(n -> ctx.directory().indexOf(n)).distinct().sorted()
        .toArray();
  }

  static CorrelationSource requireSource(MpcRuntime rt) {
    CorrelationSource s = rt.correlationSource();
    if (s == null) {
      throw MpcRuntime.noCorrelations("secure regression");
    }
    return s;
  }

  /** The Gram round as a send stage then a receive stage (two Spark jobs). */
  private static List<long[]> stagedGram(SecureTable t, RegressionTasks tasks) {
    t.partitions().mapPartitionsWithIndex(tasks::gramSend, false).count();
    return t.partitions().mapPartitionsWithIndex(tasks::gramFinish, false).collect();
  }

  /** Fit on a secure table; every party calls it at the same point of its program. */
  public SecureLinearRegressionModel fit(Dataset<Row> secureTable) {
    if (featureCols.length == 0) {
      throw new MpcInputException("SecureLinearRegression: set the feature columns");
    }
    MpcRuntime rt = mpc.runtime();
    MpcContext ctx = rt.context();
    SecureTable t = mpc.secureTable(secureTable, "SecureLinearRegression.fit");
    String[] names = Arrays.copyOf(featureCols, featureCols.length + 1);
    names[featureCols.length] = labelCol;
    Columns cols = columns(t, names, "SecureLinearRegression.fit");
    // The model is an aggregate of every row of the table, opened to the recipients.
    rt.policy().beforeOpening("SecureLinearRegression", rt.policy().rules(t.id(),
        Arrays.asList(names)), Arrays.asList(recipients), false, t.rows());
    int f = rt.defaultScaleBits();
    int[] up = new int[names.length];
    for (int i = 0; i < names.length; i++) {
      if (cols.scale()[i] > f) {
        throw new MpcInputException("SecureLinearRegression.fit: column '" + names[i]
            + "' has scale " + cols.scale()[i] + " bits, more than the session's " + f);
      }
      up[i] = f - cols.scale()[i];
    }
    int[] to = recipientIndices(ctx, recipients);
    CorrelationSource source = requireSource(rt);
    int d = featureCols.length;
    int m = d + 1;
    long n = t.rows();
    if (n < 2) {
      throw new MpcInputException("SecureLinearRegression.fit: the table has " + n + " rows");
    }
    boolean standardize = standardization && SOLVER_MPC.equals(solver);
    String what = "features=" + Arrays.toString(featureCols) + " label=" + labelCol
        + " intercept=" + fitIntercept + " solver=" + solver + " standardization="
        + standardize + " recipients=" + Arrays.toString(to) + " table=" + t.id() + " rows="
        + Arrays.toString(t.contract()) + " scale=" + f + " maxCondition=" + maxCondition;
    if (standardize) {
      if (!fitIntercept) {
        throw new MpcInputException("SecureLinearRegression.fit: standardization centres the "
            + "columns, which needs an intercept; call setStandardization(false) to fit without "
            + "one");
      }
      return StandardizedLeastSquares.fit(rt, mpc, t, names, cols, up, to, maxCondition, what);
    }
    gramBounds(names, cols, up, n, f, "SecureLinearRegression.fit");

    // Operator 1: shares of ZᵀZ and of the column sums.
    boolean gramTriples = source.hasMatrixTriples();
    long t0 = System.nanoTime();
    OperatorScope gramScope = rt.beginOperator("SecureLinearRegression.gram");
    long gramOp = gramScope.id();
    int products = RegressionTasks.gramProducts(m, gramTriples);
    RoundRange gramRounds = gramScope.rounds("Gram products", products);
    StreamRange gramStreams = gramScope.streams("Gram products", products);
    rt.request(gramScope, RegressionTasks.gramNeeds(t.contract(), m, gramTriples, gramStreams));
    long[] g = new long[m * m];
    long[] sums = new long[m];
    try {
      ctx.agree(gramOp, "SecureLinearRegression.gram " + what + " rounds="
          + (org.sparkmpc.spark.exec.DeepStage.STAGED ? "staged" : "deep"));
      RegressionTasks tasks = RegressionTasks.gram(ctx.sessionId(), gramOp, gramRounds,
          gramStreams, cols.index(), up, gramTriples);
      // The Gram round inside one task per partition: one Spark job, triples prepared once
      // (or, for the benchmark's comparison, a send stage and a receive stage).
      List<long[]> perPartition = org.sparkmpc.spark.exec.DeepStage.STAGED
          ? stagedGram(t, tasks) : org.sparkmpc.spark.exec.DeepStage.run(rt, t, gramScope,
              tasks::gramDeep);
      for (long[] part : perPartition) {
        if (part == null) {
          continue; // a partition without rows
        }
        for (int i = 0; i < m * m; i++) {
          g[i] += part[i];
        }
        for (int i = 0; i < m; i++) {
          sums[i] += part[m * m + i];
        }
      }
    } catch (RuntimeException e) {
      ctx.abort(gramOp, e);
      throw e;
    }
    source.release(gramOp);
    rt.releaseMessages(gramScope);

    long gramMs = (System.nanoTime() - t0) / 1_000_000;
    long t1 = System.nanoTime();
    int aug = fitIntercept ? m + 1 : m;
    long[] ga = augmented(g, sums, d, n, f, ctx.self(), fitIntercept);

    long solveOp;
    if (SOLVER_REVEAL_GRAM.equals(solver)) {
      OperatorScope scope = rt.beginOperator("SecureLinearRegression.revealGram");
      solveOp = scope.id();
      try {
        ctx.agree(solveOp, "SecureLinearRegression.revealGram " + what);
        long[] open = Reveal.toParties(ctx, solveOp, Coordinates.DRIVER_PARTITION,
            scope.round("reveal Gram"), ga, ga.length, to);
        rt.releaseMessages(scope);
        return (open == null ? SecureLinearRegressionModel.notRecipient(featureCols, mpc)
            : SecureLinearRegressionModel.fromGram(featureCols, open, aug, 2 * f, fitIntercept,
                n, mpc)).timed(gramMs, (System.nanoTime() - t1) / 1_000_000);
      } catch (RuntimeException e) {
        ctx.abort(solveOp, e);
        throw e;
      }
    }
    FixedPointEngine counted = FixedPointEngine.counting(aug - 1);
    solveAndScale(counted, new long[aug * aug], aug, n, 2 * f, f);
    OperatorScope solveScope = rt.beginOperator("SecureLinearRegression.solve");
    solveOp = solveScope.id();
    FixedPointEngine.Plan plan = counted.plan(solveScope, source);
    rt.request(solveScope, plan.needs());
    try {
      ctx.agree(solveOp, "SecureLinearRegression.solve " + what);
      FixedPointEngine live = FixedPointEngine.live(ctx, source, plan);
      long[][] res = solveAndScale(live, ga, aug, n, 2 * f, f);
      source.release(solveOp);
      long[] open = Reveal.toParties(ctx, solveOp, Coordinates.DRIVER_PARTITION,
          solveScope.round("reveal model"), res[0], res[0].length, to);
      rt.releaseMessages(solveScope);
      double[] model = null;
      if (open != null) {
        model = new double[open.length];
        for (int i = 0; i < open.length; i++) {
          model[i] = Math.scalb((double) open[i], -SecureLinearSolve.SCALE);
        }
      }
      long[] shares = res[1];
      long[] w = Arrays.copyOf(shares, d);
      long b = fitIntercept ? shares[d] : 0;
      return SecureLinearRegressionModel.fromSolve(featureCols, model, fitIntercept, w, b, f,
          mpc).timed(gramMs, (System.nanoTime() - t1) / 1_000_000);
    } catch (RuntimeException e) {
      ctx.abort(solveOp, e);
      throw e;
    }
  }

  /**
   * The augmented matrix of {@code [features, (1), label]} at twice the scale {@code f}, from
   * shares of the Gram {@code g} of {@code [features, label]} (m×m) at {@code 2f} bits and of the
   * column sums at {@code f} bits: the column of ones (with an intercept) sits before the label.
   */
  static long[] augmented(long[] g, long[] sums, int d, long n, int f, int self,
      boolean intercept) {
    int m = d + 1;
    int aug = intercept ? m + 1 : m;
    int[] at = new int[m];
    for (int i = 0; i < d; i++) {
      at[i] = i;
    }
    at[d] = aug - 1;
    long[] ga = new long[aug * aug];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        ga[at[i] * aug + at[j]] = g[i * m + j];
      }
    }
    if (intercept) {
      for (int i = 0; i < m; i++) {
        long s = sums[i] << f;
        ga[at[i] * aug + d] = s;
        ga[d * aug + at[i]] = s;
      }
      ga[d * aug + d] = self == 0 ? n << (2 * f) : 0;
    }
    return ga;
  }

  /** The solve, then the coefficients again at the table's scale (for predictions). */
  private long[][] solveAndScale(FixedPointEngine e, long[] ga, int aug, long n, int inScale,
      int f) {
    long[] out = SecureLinearSolve.solve(e, ga, aug, n, inScale, fitIntercept ? aug - 2 : -1,
        maxCondition);
    long[] w = Arrays.copyOf(out, aug - 1);
    if (SecureLinearSolve.SCALE > f) {
      e.truncate(w, SecureLinearSolve.SCALE - f);
    } else {
      for (int i = 0; i < w.length; i++) {
        w[i] <<= f - SecureLinearSolve.SCALE;
      }
    }
    return new long[][] {out, w};
  }
}
