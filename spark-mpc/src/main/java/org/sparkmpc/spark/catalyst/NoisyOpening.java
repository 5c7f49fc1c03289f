package org.sparkmpc.spark.catalyst;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.execution.SparkPlan;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.correlation.Need;
import org.sparkmpc.protocol.DiscreteLaplace;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.spark.MpcConf;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.SecureColumns;
import org.sparkmpc.spark.dp.Noise;
import org.sparkmpc.spark.dp.PrivacyLedger;

/**
 * The differentially private opening of a revealed aggregate ({@link SecureHashAggregateExec} with
 * {@link Noise}): calibration from the columns' clipping bounds, the budget check before the
 * operator begins, the noise drawn inside MPC by {@link DiscreteLaplace} (one operator of its own,
 * 7 rounds per noisy quantity, on the driver's channel), and the charge to every party's ledger
 * before anything is opened. What the parties agree on includes the mechanism, epsilon, the
 * dataset and every party's bounds, so a party that declared other bounds is refused by name.
 */
final class NoisyOpening {
  private final Noise noise;
  private final double budget;
  private final PrivacyLedger ledger;
  /** Laplace scale (fixed-point units) per sum slot; 0 for a slot that is not opened noisily. */
  private final double[] slotScale;
  /** The largest magnitude of one row's value per sum slot (fixed-point units), by its bounds. */
  private final double[] slotBound;
  /** Laplace scale of the counts; 0 when no COUNT or AVG is opened. */
  private final double countScale;
  private final String description;

  private NoisyOpening(Noise noise, double budget, PrivacyLedger ledger, double[] slotScale,
      double[] slotBound, double countScale, String description) {
    this.noise = noise;
    this.budget = budget;
    this.ledger = ledger;
    this.slotScale = slotScale;
    this.slotBound = slotBound;
    this.countScale = countScale;
    this.description = description;
  }

  /**
   * Calibrate {@code noise} for the outputs {@code kinds} of {@code plan} and check this party's
   * budget, before the operator begins; a problem is refused through {@link MpcRuntime#refuse} so
   * that every party fails at once, before anything moves.
   *
   * @param shareSlot the sum slot of each output (as the aggregate numbers them), -1 for none
   */
  static NoisyOpening prepare(MpcRuntime rt, String kind, SparkPlan plan, Noise noise,
      List<String> kinds, List<Attribute> inputs, List<String> factors, int[] shareSlot,
      int sums) {
    try {
      return calibrate(rt, plan, noise, kinds, inputs, factors, shareSlot, sums);
    } catch (MpcInputException e) {
      throw rt.refuse(kind, e);
    } catch (IllegalArgumentException e) {
      throw rt.refuse(kind, new MpcInputException(e.getMessage()));
    }
  }

  private static NoisyOpening calibrate(MpcRuntime rt, SparkPlan plan, Noise noise,
      List<String> kinds, List<Attribute> inputs, List<String> factors, int[] shareSlot,
      int sums) {
    String party = rt.context().directory().self().name();
    double[] sens = new double[sums];
    boolean counts = false;
    StringBuilder bounds = new StringBuilder();
    for (int i = 0; i < kinds.size(); i++) {
      String k = kinds.get(i);
      if (k.equals("GROUP")) {
        continue;
      }
      if (k.equals("COUNT")) {
        counts = true;
        continue;
      }
      if (k.endsWith("PROD")) {
        throw new MpcInputException("noisy reveal: " + k + " of '" + inputs.get(i).name()
            + "' is a sum of products, whose sensitivity is not calibrated here; noise applies "
            + "to SUM, COUNT and AVG of clipped columns");
      }
      if (!factors.get(i).equals("1")) {
        throw new MpcInputException("noisy reveal: " + k + " of '" + inputs.get(i).name()
            + "' times a literal: aggregate the clipped column itself");
      }
      double[] b = boundsOf(rt, plan, inputs.get(i));
      if (b == null) {
        throw new MpcInputException("noisy reveal: party " + party + " declared no clipping "
            + "bounds for column '" + inputs.get(i).name() + "', so the sensitivity of its " + k
            + " is unknown; clip it before sharing (SparkMpc.clip(rows, \""
            + inputs.get(i).name() + "\", lo, hi))");
      }
      counts |= k.equals("AVG");
      int scale = SecureColumns.type(inputs.get(i)).scale();
      if (sens[shareSlot[i]] == 0) { // SUM and AVG of one column share its slot
        bounds.append(inputs.get(i).name()).append(":[").append(b[0]).append(',').append(b[1])
            .append("] ");
      }
      sens[shareSlot[i]] = Math.ceil(Math.max(Math.abs(b[0]), Math.abs(b[1])) * Math.pow(2, scale));
    }
    int quantities = counts ? 1 : 0;
    for (double s : sens) {
      quantities += s > 0 ? 1 : 0;
    }
    if (quantities == 0) {
      throw new MpcInputException("noisy reveal: the query opens no SUM, COUNT or AVG");
    }
    double share = noise.epsilon() / quantities;
    double[] slotScale = new double[sums];
    for (int sl = 0; sl < sums; sl++) {
      slotScale[sl] = sens[sl] > 0 ? sens[sl] / share : 0;
      if (sens[sl] > 0) {
        DiscreteLaplace.bits(slotScale[sl]); // refuses a scale too large for the ring
      }
    }
    double countScale = counts ? 1 / share : 0;
    if (rt.correlationSource() == null) {
      throw MpcRuntime.noCorrelations("drawing noise inside MPC");
    }
    String ledgerFile = MpcConf.DP_LEDGER.parse(plan.conf().getConfString(MpcConf.DP_LEDGER.key(),
        ""));
    double budget = MpcConf.DP_BUDGET.parse(plan.conf().getConfString(MpcConf.DP_BUDGET.key(),
        ""));
    if (ledgerFile.isEmpty()) {
      throw new MpcInputException("noisy reveal: party " + party + " has no privacy ledger; set "
          + MpcConf.DP_LEDGER.key() + " to a file of its own storage");
    }
    if (Double.isNaN(budget)) {
      throw new MpcInputException("noisy reveal: party " + party + " has no privacy budget; set "
          + MpcConf.DP_BUDGET.key() + " (the total epsilon each dataset may spend)");
    }
    PrivacyLedger ledger = new PrivacyLedger(java.nio.file.Path.of(ledgerFile));
    ledger.check(party, noise.dataset(), noise.epsilon(), budget);
    String desc = "noise=" + noise + " bounds=[" + bounds.toString().trim() + "]";
    return new NoisyOpening(noise, budget, ledger, slotScale, sens, countScale, desc);
  }

  /** The clipping bounds this party declared for the scanned secure column {@code a}, or null. */
  private static double[] boundsOf(MpcRuntime rt, SparkPlan plan, Attribute a) {
    double[][] found = {null};
    plan.foreach(node -> {
      if (node instanceof SecureTableScanExec scan && found[0] == null) {
        for (Attribute o : ScalaInterop.list(scan.output())) {
          if (o.exprId().equals(a.exprId())) {
            found[0] = rt.clipBounds().of(scan.tableId(), o.name());
          }
        }
      }
      return scala.runtime.BoxedUnit.UNIT;
    });
    return found[0];
  }

  /** What every party must agree on: mechanism, epsilon, dataset, bounds. */
  String description() {
    return description;
  }

  /** The noise scale of each sum slot's outputs (0: none). */
  double slotScale(int slot) {
    return slotScale[slot];
  }

  /**
   * Draw the noise of the {@code open} groups inside MPC and add it to this party's shares of the
   * sums ({@code lo}: slot-major, {@code ng} groups); then charge the ledger.
   *
   * <p>A noisy sum is opened in 64 bits: by the clipping bounds, a group of at most {@code
   * largest} rows sums to less than 2^61 in magnitude (checked here, else refused at every party
   * alike), and the noise to less than 2^61, so the low words of a sum kept 128 bits wide share it
   * exactly, and {@code wideSlot} is cleared for every noisy slot. (The noise's shares live in
   * Z(2^64); adding them to the high words share by share would be wrong.)
   *
   * @return this party's shares of the noisy counts of the open groups, or null when no count is
   *     opened
   */
  long[] addNoise(MpcRuntime rt, long aggregateOp, long[] lo, int ng, boolean[] wideSlot,
      long largest, int[] open, String agreed) {
    MpcContext ctx = rt.context();
    int m = open.length;
    int sums = slotScale.length;
    for (int sl = 0; sl < sums; sl++) {
      if (slotScale[sl] > 0) {
        double reach = Math.max(1, largest) * (slotBound[sl] + 1);
        if (!(reach < 0x1p61) || DiscreteLaplace.bits(slotScale[sl]) > 61) {
          MpcInputException e = new MpcInputException("noisy reveal: a group of " + largest
              + " rows could sum past 2^61 at its fixed-point scale by the clipping bounds (or "
              + "its noise of scale " + slotScale[sl] + " could); lower "
              + "spark.mpc.fixedPoint.scaleBits or the clipping bounds");
          ctx.abort(aggregateOp, e);
          throw e;
        }
        wideSlot[sl] = false;
      }
    }
    long[] countShares = null;
    if (m > 0) {
      OperatorScope scope = rt.beginOperator("DpNoise");
      List<double[]> draws = new ArrayList<>(); // {slot or -1, scale}
      for (int sl = 0; sl < sums; sl++) {
        if (slotScale[sl] > 0) {
          draws.add(new double[] {sl, slotScale[sl]});
        }
      }
      if (countScale > 0) {
        draws.add(new double[] {-1, countScale});
      }
      RoundRange[] rounds = new RoundRange[draws.size()];
      StreamRange[] streams = new StreamRange[draws.size()];
      List<Need> needs = new ArrayList<>();
      for (int q = 0; q < draws.size(); q++) {
        rounds[q] = scope.rounds("noise " + q, DiscreteLaplace.ROUNDS);
        streams[q] = scope.streams("noise " + q, DiscreteLaplace.STREAMS);
        needs.addAll(DiscreteLaplace.needs(Coordinates.DRIVER_PARTITION, streams[q], m,
            draws.get(q)[1]));
      }
      rt.request(scope, needs);
      for (int q = 0; q < draws.size(); q++) {
        long[] z = DiscreteLaplace.sample(ctx, rt.correlationSource(), scope.id(),
            Coordinates.DRIVER_PARTITION, rounds[q], streams[q],
            ctx.keys().ownSecret("dp/" + scope.id() + "/" + q), m, draws.get(q)[1]);
        int sl = (int) draws.get(q)[0];
        if (sl < 0) {
          countShares = z;
          continue;
        }
        for (int j = 0; j < m; j++) {
          lo[sl * ng + open[j]] += z[j];
        }
      }
      rt.correlationSource().release(scope.id());
      rt.releaseMessages(scope);
    }
    // Charged at every party after the noise is drawn and before anything is opened.
    String party = ctx.directory().self().name();
    try {
      ledger.charge(party, noise.dataset(), noise.epsilon(), budget, digest(agreed));
    } catch (MpcInputException e) {
      ctx.abort(aggregateOp, e);
      throw e;
    }
    return countShares;
  }

  /** Whether the counts are opened with noise (a COUNT or an AVG is among the outputs). */
  boolean noisyCounts() {
    return countScale > 0;
  }

  private static String digest(String s) {
    try {
      return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(s.getBytes(StandardCharsets.UTF_8)), 0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
