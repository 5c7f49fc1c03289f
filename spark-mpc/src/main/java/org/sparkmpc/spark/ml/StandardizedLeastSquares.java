package org.sparkmpc.spark.ml;

import java.util.Arrays;
import java.util.List;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.protocol.FixedPointEngine;
import org.sparkmpc.protocol.SecureLinearSolve;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.share.Reveal;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.table.SecureTable;

/**
 * The fit of {@link SecureLinearRegression} with standardization, as five secure operators that
 * every party runs alike: the {@link Standardizer} of the features and the label (a local sum, a
 * deep stage, a driver step), the Gram of the standardised columns ({@link LinearSteps.Gram}, one
 * deep stage), the solve ({@link SecureLinearSolve} on the driver), the return to the original
 * scale ({@link LinearSteps#originalScale} on the driver, after {@link LinearSteps#converged}) and
 * the opening of the model and R² to the recipients. Only that opening, the Standardizer's one bit
 * per column and the one bit of convergence are revealed.
 */
final class StandardizedLeastSquares {
  private static final String CALLER = "SecureLinearRegression.fit";
  /** Rows above this count could make the sums of the standardised Gram pass 2^63. */
  private static final int MAX_ROW_BITS = 29;

  private StandardizedLeastSquares() {}

  /**
   * Fit on the named columns of {@code t} (features, then the label last) with an intercept.
   *
   * @param up each column's shift to the session's scale
   * @param to the recipients of the model
   */
  static SecureLinearRegressionModel fit(MpcRuntime rt, SparkMpc mpc, SecureTable t,
      String[] names, SecureLinearRegression.Columns cols, int[] up, int[] to,
      double maxCondition, String what) {
    int m = names.length;
    int d = m - 1;
    int f = rt.defaultScaleBits();
    long n = t.rows();
    if (Standardizer.rowBits(n) > MAX_ROW_BITS) {
      throw new MpcInputException(CALLER + ": " + n + " rows; at most 2^" + MAX_ROW_BITS
          + " rows can be fitted at once (their Gram sums could wrap)");
    }
    int[] bound = new int[m];
    for (int i = 0; i < m; i++) {
      bound[i] = Math.max(cols.bits()[i] + up[i], 1);
    }
    long t0 = System.nanoTime();
    Standardizer std = Standardizer.fit(rt, t, CALLER, names, cols.index(), up, bound, what);
    List<long[]> parts = EngineRuns.onPartitions(rt, t, "SecureLinearRegression.gram", what,
        cols.index(), up, new LinearSteps.Gram(std));
    long[] g = new long[m * m];
    long[] sums = new long[m];
    for (long[] p : parts) {
      for (int i = 0; p != null && i < m * m; i++) {
        g[i] += p[i];
      }
      for (int i = 0; p != null && i < m; i++) {
        sums[i] += p[m * m + i];
      }
    }
    long gramMs = (System.nanoTime() - t0) / 1_000_000;
    long t1 = System.nanoTime();
    int aug = m + 1;
    long[] ga = SecureLinearRegression.augmented(g, sums, d, n, f, rt.context().self(), true);
    long[] solved = solve(rt, ga, aug, n, 2 * f, d, maxCondition, what);
    long[][] model = EngineRuns.onDriver(rt, "SecureLinearRegression.model", what, e -> {
      if (!LinearSteps.converged(e, solved[d + 2])) {
        throw new MpcInputException(CALLER + ": the features "
            + Arrays.toString(Arrays.copyOf(names, d)) + " are (nearly) collinear: the "
            + "standardised system's condition number is beyond what maxCondition ("
            + maxCondition + ") allows, so the solve did not converge; drop a feature that is "
            + "(nearly) a combination of the others, or raise setMaxCondition (more rounds)");
      }
      return LinearSteps.originalScale(e, Arrays.copyOf(solved, d + 1), std);
    });
    long[] out = Arrays.copyOf(model[0], d + 2);
    out[d + 1] = solved[d + 1]; // R², scale-free
    long[] open = open(rt, out, to, what);
    double[] coefficients = null;
    double intercept = Double.NaN;
    double r2 = Double.NaN;
    if (open != null) {
      coefficients = new double[d];
      for (int j = 0; j < d; j++) {
        coefficients[j] = Math.scalb((double) open[j], bound[d] - bound[j] - LinearSteps.OPEN);
      }
      intercept = Math.scalb((double) open[d], bound[d] - f - LinearSteps.OPEN);
      r2 = Math.scalb((double) open[d + 1], -SecureLinearSolve.SCALE);
    }
    Standardizer shape = Standardizer.shape(Arrays.copyOf(names, d), Arrays.copyOf(bound, d),
        std.unit, f);
    return SecureLinearRegressionModel.standardised(Arrays.copyOf(names, d), coefficients,
        intercept, r2, model[1], shape, bound[d], f, mpc)
        .timed(gramMs, (System.nanoTime() - t1) / 1_000_000);
  }

  /**
   * {@link SecureLinearSolve#solveChecked} as one driver operator: shares of
   * {@code [β..., R², ||I - C·X||²]}.
   */
  private static long[] solve(MpcRuntime rt, long[] ga, int aug, long n, int inScale,
      int intercept, double maxCondition, String what) {
    MpcContext ctx = rt.context();
    CorrelationSource source = SecureLinearRegression.requireSource(rt);
    FixedPointEngine counted = FixedPointEngine.counting(aug - 1);
    SecureLinearSolve.solveChecked(counted, new long[aug * aug], aug, n, inScale, intercept,
        maxCondition);
    OperatorScope scope = rt.beginOperator("SecureLinearRegression.solve");
    FixedPointEngine.Plan plan = counted.plan(scope, source);
    rt.request(scope, plan.needs());
    try {
      ctx.agree(scope.id(), "SecureLinearRegression.solve " + what);
      long[] out = SecureLinearSolve.solveChecked(FixedPointEngine.live(ctx, source, plan), ga,
          aug, n, inScale, intercept, maxCondition);
      source.release(scope.id());
      rt.releaseMessages(scope);
      return out;
    } catch (RuntimeException e) {
      ctx.abort(scope.id(), e);
      throw e;
    }
  }

  /** Open {@code v} to the recipients: the values there, null at the others. */
  private static long[] open(MpcRuntime rt, long[] v, int[] to, String what) {
    OperatorScope scope = rt.beginOperator("SecureLinearRegression.open");
    MpcContext ctx = rt.context();
    try {
      ctx.agree(scope.id(), "SecureLinearRegression.open " + what);
      long[] open = Reveal.toParties(ctx, scope.id(), Coordinates.DRIVER_PARTITION,
          scope.round("reveal model"), v, v.length, to);
      rt.releaseMessages(scope);
      return open;
    } catch (RuntimeException e) {
      ctx.abort(scope.id(), e);
      throw e;
    }
  }
}
