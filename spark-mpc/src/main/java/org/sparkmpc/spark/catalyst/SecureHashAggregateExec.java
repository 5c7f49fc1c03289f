package org.sparkmpc.spark.catalyst;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.BoundReference;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.catalyst.plans.physical.Partitioning;
import org.apache.spark.sql.catalyst.plans.physical.SinglePartition$;
import org.apache.spark.sql.execution.ColumnarToRowExec;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.ring.Ring64;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.session.RoundRange;
import org.sparkmpc.session.StreamRange;
import org.sparkmpc.share.Reveal;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.SecureColumns;
import org.sparkmpc.spark.types.ShareType;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * Physical operator of {@link SecureAggregate}, optionally fused with the {@link SecureReveal} above
 * it: {@code SUM}, {@code COUNT} and {@code AVG} of secure columns grouped by public columns.
 *
 * <p>Local phase, per partition, on columnar batches: each row's public group key is looked up once,
 * then every share column is summed into its group with one pass over a {@code long[]} (ring
 * addition). Partials are merged on the driver, again by ring addition, and groups are ordered by the
 * bytes of their key, which is the same order at every party.
 *
 * <p>Rounds: the plan agreement, then 1 (the reveal) when revealed, 0 otherwise. Bytes: 8 per group
 * and secure output to each recipient. Reveals: the declared sums (and the averages, as sum over the
 * public group size); group keys and sizes are public already, since grouping columns are public.
 * With {@code spark.mpc.reveal.minGroupSize} set, a group smaller than it is never opened: its secure
 * values come back NULL when revealed, and it is left out of a secret-shared result.
 */
public final class SecureHashAggregateExec extends SecureExec {
  private static final long serialVersionUID = 1L;

  /** Products inside one task per partition, unless the benchmark asks for the staged path. */
  static final boolean DEEP_PRODUCTS = !org.sparkmpc.spark.exec.DeepStage.STAGED;

  private final Seq<Attribute> grouping;
  private final Seq<String> kinds;
  private final Seq<Attribute> inputs;
  private final Seq<Attribute> partners;
  private final Seq<String> factors;
  private final Seq<Attribute> output;
  private final boolean reveal;
  private final Seq<String> recipients;
  private final org.sparkmpc.spark.dp.Noise noise;
  private final SparkPlan child;

  public SecureHashAggregateExec(Seq<Attribute> grouping, Seq<String> kinds, Seq<Attribute> inputs,
      Seq<Attribute> partners, Seq<String> factors, Seq<Attribute> output, boolean reveal,
      Seq<String> recipients, org.sparkmpc.spark.dp.Noise noise, SparkPlan child) {
    this.grouping = grouping;
    this.kinds = kinds;
    this.inputs = inputs;
    this.partners = partners;
    this.factors = factors;
    this.output = output;
    this.reveal = reveal;
    this.recipients = recipients;
    this.noise = noise;
    this.child = child;
  }

  @Override
  public Seq<Attribute> output() {
    return output;
  }

  @Override
  public Seq<SparkPlan> children() {
    return ScalaInterop.seqOf(child);
  }

  @Override
  public SparkPlan withNewChildrenInternal(IndexedSeq<SparkPlan> c) {
    return new SecureHashAggregateExec(grouping, kinds, inputs, partners, factors, output, reveal,
        recipients, noise, c.apply(0));
  }

  @Override
  protected Object[] fields() {
    return new Object[] {grouping, kinds, inputs, partners, factors, output, reveal, recipients,
        noise, child};
  }

  @Override
  public Partitioning outputPartitioning() {
    return SinglePartition$.MODULE$;
  }

  @Override
  public RDD<InternalRow> doExecute() {
    MpcRuntime rt = runtime();
    MpcContext ctx = rt.context();
    List<String> k = ScalaInterop.list(kinds);
    List<Attribute> in = ScalaInterop.list(inputs);
    List<Attribute> with = ScalaInterop.list(partners);
    List<Attribute> groups = ScalaInterop.list(grouping);
    List<Attribute> out = ScalaInterop.list(output);
    List<String> to = ScalaInterop.list(recipients);

    // Which values are summed: distinct secure inputs, then distinct products of two of them.
    List<Attribute> childOut = ScalaInterop.list(child.output());
    List<Integer> shareOrdinals = new ArrayList<>();
    List<int[]> productOrdinals = new ArrayList<>();
    int[] shareSlot = new int[k.size()];
    for (int i = 0; i < k.size(); i++) {
      shareSlot[i] = -1;
      if (k.get(i).equals("SUM") || k.get(i).equals("AVG")) {
        int ord = ordinal(childOut, in.get(i));
        if (!shareOrdinals.contains(ord)) {
          shareOrdinals.add(ord);
        }
      }
    }
    for (int i = 0; i < k.size(); i++) {
      if (k.get(i).equals("SUM") || k.get(i).equals("AVG")) {
        shareSlot[i] = shareOrdinals.indexOf(ordinal(childOut, in.get(i)));
      } else if (k.get(i).endsWith("PROD")) {
        int[] pair = {ordinal(childOut, in.get(i)), ordinal(childOut, with.get(i))};
        int found = -1;
        for (int p = 0; p < productOrdinals.size(); p++) {
          if (java.util.Arrays.equals(productOrdinals.get(p), pair)) {
            found = p;
          }
        }
        if (found < 0) {
          found = productOrdinals.size();
          productOrdinals.add(pair);
        }
        shareSlot[i] = -2 - found; // resolved below, once the number of plain sums is known
      }
    }
    for (int i = 0; i < k.size(); i++) {
      if (shareSlot[i] <= -2) {
        shareSlot[i] = shareOrdinals.size() + (-2 - shareSlot[i]);
      }
    }
    int[] keyOrdinals = groups.stream().mapToInt(g -> ordinal(childOut, g)).toArray();
    DataType[] keyTypes = groups.stream().map(Attribute::dataType).toArray(DataType[]::new);
    int[] shareOrds = shareOrdinals.stream().mapToInt(Integer::intValue).toArray();
    int sums = shareOrds.length + productOrdinals.size();

    SQLMetric rowsMetric = metric("rows");
    TablePartials direct = TablePartials.over(child, groups,
        shareOrdinals.stream().map(childOut::get).toList(),
        productOrdinals.stream().map(pr -> new Attribute[] {childOut.get(pr[0]),
            childOut.get(pr[1])}).toList(), keyTypes, rowsMetric);
    if (reveal) {
      // This party's data policy, before anything of the aggregate moves.
      PolicyUse.check(rt, nodeName(), this, to, false, minGroupSize(this));
    }
    // Differential privacy: calibration and this party's budget, before anything moves.
    NoisyOpening dp = noise.none() ? null : NoisyOpening.prepare(rt, nodeName(), this, noise, k,
        in, ScalaInterop.list(factors), shareSlot, sums);
    OperatorScope scope = rt.beginOperator(nodeName());
    long op = scope.id();
    StreamRange productStreams = scope.streams("products", productOrdinals.size());
    RoundRange productRounds = scope.rounds("products", productOrdinals.size());
    StreamRange truncationStreams = scope.streams("truncations", productOrdinals.size());
    RoundRange truncationRounds = scope.rounds("truncations", productOrdinals.size());
    // A revealed sum of products of two fractional columns that could pass 2^63 at the product's
    // scale (by the columns' public bounds and the row count) is truncated per row back to the
    // larger of the two scales (when the source has truncation pairs), so it cannot wrap. A sum
    // that fits is opened at the product's scale, exactly, without the truncation round.
    int[] shifts = new int[productOrdinals.size()];
    boolean pairs = rt.correlationSource() != null && rt.correlationSource().hasTruncationPairs();
    for (int p = 0; p < shifts.length && reveal && pairs && direct != null; p++) {
      ShareType tx = SecureColumns.type(childOut.get(productOrdinals.get(p)[0]));
      ShareType ty = SecureColumns.type(childOut.get(productOrdinals.get(p)[1]));
      boolean fits = tx.bits() + ty.bits() + bitLength(direct.table.rows()) <= 63;
      shifts[p] = tx.scale() > 0 && ty.scale() > 0 && !fits ? Math.min(tx.scale(), ty.scale()) : 0;
    }
    List<org.sparkmpc.correlation.Need> needs = new ArrayList<>();
    if (direct != null) {
      long[] rows = direct.table.contract();
      for (int p = 0; p < productOrdinals.size(); p++) {
        for (int j = 0; j < rows.length; j++) {
          needs.add(org.sparkmpc.correlation.Need.triples(j, productStreams.stream(p),
              (int) rows[j]));
          if (shifts[p] > 0) {
            needs.add(org.sparkmpc.correlation.Need.truncation(j, truncationStreams.stream(p),
                (int) rows[j], shifts[p]));
          }
        }
      }
    }
    rt.request(scope, needs);
    String problem = null;
    if (!reveal && (k.contains("AVG") || k.contains("AVGPROD"))) {
      problem = "AVG of a secure column must be revealed in the same query (reveal(AVG(x)) or "
          + "SparkMpc.reveal(df)); a secret-shared average would need secure division";
    } else if (!productOrdinals.isEmpty() && direct == null) {
      problem = "products of secure columns are computed directly over a secure table (or a "
          + "projection of its columns); filter or join before sharing instead";
    } else if (!productOrdinals.isEmpty() && rt.correlationSource() == null) {
      problem = MpcRuntime.noCorrelations("multiplying secure columns").getMessage();
    } else if (!productOrdinals.isEmpty()) {
      problem = productBoundProblem(productOrdinals, shifts, childOut, direct.table.rows());
    }
    if (problem != null) {
      MpcInputException e = new MpcInputException(problem);
      ctx.abort(op, e);
      throw e;
    }
    StringBuilder desc = new StringBuilder("SecureAggregate group=").append(names(grouping))
        .append(" out=[");
    List<String> fs = ScalaInterop.list(factors);
    for (int i = 0; i < k.size(); i++) {
      desc.append(k.get(i)).append('(').append(in.get(i).name());
      if (k.get(i).endsWith("PROD")) {
        desc.append('*').append(with.get(i).name());
      }
      desc.append(fs.get(i).equals("1") ? "" : "*literal#" + digest(ctx.sessionId(), fs.get(i)))
          .append(") ");
    }
    int minGroup = minGroupSize(this);
    desc.append("] reveal=").append(reveal ? (to.isEmpty() ? "all" : to.toString()) : "none")
        .append(minGroup > 0 ? " minGroupSize=" + minGroup : "")
        .append(" input=").append(describeInput(child, rt))
        .append(productOrdinals.isEmpty() ? ""
            : DEEP_PRODUCTS ? " products=deep" : " products=staged")
        .append(dp == null ? "" : " " + dp.description());
    agree(ctx, op, desc.toString());

    int[] slotBits = new int[sums];
    boolean[] wideSlot = new boolean[sums];
    for (int sl = 0; sl < sums; sl++) {
      if (sl < shareOrds.length) {
        slotBits[sl] = SecureColumns.type(childOut.get(shareOrds[sl])).bits();
        wideSlot[sl] = direct != null && direct.wide(sl);
      } else {
        int[] pr = productOrdinals.get(sl - shareOrds.length);
        int shift = shifts[sl - shareOrds.length];
        slotBits[sl] = SecureColumns.type(childOut.get(pr[0])).bits()
            + SecureColumns.type(childOut.get(pr[1])).bits() - shift + (shift > 0 ? 1 : 0);
      }
    }
    List<AggregatePartial> partials;
    SparkPlan columnar = columnarSource(child);
    if (direct != null) {
      direct.bind(ctx.sessionId(), op, productRounds, productStreams, metric("bytesSent"),
          metric("bytesReceived"));
      direct.truncate(shifts, truncationRounds, truncationStreams);
      if (!productOrdinals.isEmpty() && DEEP_PRODUCTS) {
        // Every round of the products inside one task per partition (one Spark job).
        partials = direct.deepPartials(rt, scope);
        metric("rounds").add(direct.truncates() ? 2 : 1);
      } else if (!productOrdinals.isEmpty()) {
        // Send stage of the products' Beaver round: tasks only send, never wait.
        direct.table.partitions().mapPartitionsWithIndex(direct::sendProducts, false).count();
        metric("rounds").add(1);
        if (direct.truncates()) {
          // Send stage of the truncations: waits only for the Beaver messages of the stage above.
          direct.table.partitions().mapPartitionsWithIndex(direct::sendTruncations, false).count();
          metric("rounds").add(1);
        }
        partials = direct.table.partitions().mapPartitionsWithIndex(direct::partials, false)
            .collect();
      } else {
        partials = direct.table.partitions().mapPartitionsWithIndex(direct::partials, false)
            .collect();
      }
      if (!productOrdinals.isEmpty()) {
        rt.correlationSource().release(op); // every task of the operator has finished
      }
    } else {
      PartialTask task = new PartialTask(keyOrdinals, keyTypes, shareOrds, rowsMetric);
      partials = columnar != null
          ? columnar.executeColumnar().toJavaRDD().mapPartitions(task::fromBatches).collect()
          : child.execute().toJavaRDD().mapPartitions(task::fromRows).collect();
    }

    // Merge by key bytes; TreeMap gives the byte order every party shares. Per group: the sums'
    // low words, their high words (wide sums), the count.
    TreeMap<ByteKey, long[]> merged = new TreeMap<>();
    int width = 2 * sums + 1;
    for (AggregatePartial p : partials) {
      for (int g = 0; g < p.keys.size(); g++) {
        long[] acc = merged.computeIfAbsent(new ByteKey(p.keys.get(g)), x -> new long[width]);
        for (int sl = 0; sl < sums; sl++) {
          long a = acc[sl];
          long add = p.sums[sl][g];
          acc[sl] = a + add;
          if (p.highs[sl] != null) {
            acc[sums + sl] += p.highs[sl][g] + (Long.compareUnsigned(a + add, a) < 0 ? 1 : 0);
          }
        }
        acc[width - 1] += p.counts[g];
      }
    }
    if (groups.isEmpty() && merged.isEmpty()) {
      merged.put(new ByteKey(emptyKey()), new long[width]); // global aggregate over no rows
    }
    if (!reveal && minGroup > 0) {
      // Secret-shared result: groups under the minimum are left out, so no later reveal opens them.
      merged.values().removeIf(acc -> acc[width - 1] < minGroup);
    }
    int ng = merged.size();
    List<byte[]> keys = new ArrayList<>(ng);
    long[] lo = new long[ng * sums];
    long[] hi = new long[ng * sums];
    long[] counts = new long[ng];
    int g = 0;
    for (Map.Entry<ByteKey, long[]> e : merged.entrySet()) {
      keys.add(e.getKey().bytes);
      for (int sl = 0; sl < sums; sl++) {
        lo[sl * ng + g] = e.getValue()[sl];
        hi[sl * ng + g] = e.getValue()[sums + sl];
      }
      counts[g] = e.getValue()[width - 1];
      g++;
    }
    // A sum kept in 64 bits must not be able to pass 2^63: the public bound of its summands times
    // the public group size. Every party decides alike, before anything is opened.
    long largest = Arrays.stream(counts).max().orElse(0);
    for (int i = 0; i < k.size(); i++) {
      int sl = shareSlot[i];
      boolean wideOut = sl >= 0 && wideSlot[sl] && reveal;
      if (sl >= 0 && !wideOut && slotBits[sl] + bitLength(largest) > 63) {
        MpcInputException e = new MpcInputException(k.get(i) + " of '" + in.get(i).name() + "'"
            + (k.get(i).endsWith("PROD") ? " * '" + with.get(i).name() + "'" : "")
            + (reveal ? "" : ", kept secret-shared,") + " over " + largest + " rows could pass "
            + "2^63 at its fixed-point scale (values up to 2^" + slotBits[sl] + "), which would "
            + "wrap; " + (reveal ? "lower spark.mpc.fixedPoint.scaleBits or rescale the column"
                : "reveal it in the same query (revealed sums are exact), or rescale the column"));
        ctx.abort(op, e);
        throw e;
      }
    }

    Opened opened = new Opened(lo, hi);
    boolean recipient = true;
    Long[] noisyCounts = null; // per group, with noise (null: exact counts; null entry: closed)
    if (reveal) {
      // Only groups of at least the minimum size are opened; counts are public, so every party
      // picks the same groups. Narrow sums open in round 0, wide ones (16 bytes) in round 1.
      int[] open = java.util.stream.IntStream.range(0, ng)
          .filter(gi -> counts[gi] >= minGroup).toArray();
      int[] idx = to.isEmpty() ? Reveal.all(ctx)
          : to.stream().mapToInt(ctx.directory()::indexOf).toArray();
      long[] noiseOfCounts = dp == null ? null : dp.addNoise(rt, op, lo, ng, wideSlot, largest,
          open, desc.toString());
      opened = open(ctx, op, scope, lo, hi, ng, sums, wideSlot, open, idx);
      recipient = opened != null;
      if (dp != null && dp.noisyCounts()) {
        noisyCounts = openCounts(ctx, op, scope, noiseOfCounts, counts, open, ng, idx);
      }
    }
    rt.releaseMessages(scope); // every round has run and the result is here
    postDriverMetrics();

    List<InternalRow> rows = new ArrayList<>();
    if (recipient) {
      UnsafeProjection toUnsafe = UnsafeProjection.create(
          out.stream().map(Attribute::dataType).toArray(DataType[]::new));
      UnsafeRow keyRow = new UnsafeRow(keyOrdinals.length);
      for (int gi = 0; gi < ng; gi++) {
        byte[] kb = keys.get(gi);
        keyRow.pointTo(kb, kb.length);
        Object[] vals = new Object[k.size()];
        for (int i = 0; i < k.size(); i++) {
          vals[i] = value(k.get(i), i, gi, ng, shareSlot, wideSlot, shareOrds.length, shifts,
              opened, counts, noisyCounts, minGroup, keyRow, groups, in, out);
        }
        rows.add(toUnsafe.apply(new GenericInternalRow(vals)).copy());
      }
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sparkContext());
    return jsc.parallelize(rows, 1).rdd();
  }

  /** Bits of {@code n}: a count below {@code 2^bitLength(n)}. */
  private static int bitLength(long n) {
    return 64 - Long.numberOfLeadingZeros(n);
  }

  /**
   * Why a product of secure columns could wrap, or null: each product and their sum over all of
   * the table's rows must stay below 2^63 at the product's scale, by the columns' public bounds.
   * Checked before the products' round, so nothing has moved when it refuses.
   */
  private static String productBoundProblem(List<int[]> productOrdinals, int[] shifts,
      List<Attribute> childOut, long rows) {
    for (int p = 0; p < shifts.length; p++) {
      Attribute x = childOut.get(productOrdinals.get(p)[0]);
      Attribute y = childOut.get(productOrdinals.get(p)[1]);
      int bits = SecureColumns.type(x).bits() + SecureColumns.type(y).bits();
      // A truncated product must be below 2^62 per row; its sum is then at the lower scale.
      int summed = shifts[p] > 0 ? bits - shifts[p] + 1 : bits;
      if (shifts[p] > 0 && bits > 62 || summed + bitLength(rows) > 63) {
        return "SUM of '" + x.name() + "' * '" + y.name() + "' over " + rows + " rows could pass "
            + "2^63 at the product's fixed-point scale (the columns' values reach 2^"
            + SecureColumns.type(x).bits() + " and 2^" + SecureColumns.type(y).bits()
            + " encoded), which would wrap; lower spark.mpc.fixedPoint.scaleBits or rescale "
            + "the columns";
      }
    }
    return null;
  }

  /** Opened sums at a recipient: low words and, for wide sums, high words, per slot and group. */
  private record Opened(long[] lo, long[] hi) {}

  /** Open the groups {@code open} of every sum to {@code recipients}; null elsewhere. */
  private Opened open(MpcContext ctx, long op, OperatorScope scope, long[] lo, long[] hi, int ng,
      int sums, boolean[] wideSlot, int[] open, int[] recipients) {
    int narrow = 0;
    for (boolean w : wideSlot) {
      narrow += w ? 0 : 1;
    }
    int m = open.length;
    long[] nLo = new long[narrow * m];
    long[] wLo = new long[(sums - narrow) * m];
    long[] wHi = new long[wLo.length];
    for (int sl = 0, ni = 0, wi = 0; sl < sums; sl++) {
      for (int j = 0; j < m; j++) {
        if (wideSlot[sl]) {
          wLo[wi * m + j] = lo[sl * ng + open[j]];
          wHi[wi * m + j] = hi[sl * ng + open[j]];
        } else {
          nLo[ni * m + j] = lo[sl * ng + open[j]];
        }
      }
      if (wideSlot[sl]) {
        wi++;
      } else {
        ni++;
      }
    }
    int narrowRound = scope.round("reveal");
    int wideRound = scope.round("reveal wide");
    long[] n = nLo.length == 0 ? new long[0] : Reveal.toParties(ctx, op,
        Coordinates.DRIVER_PARTITION, narrowRound, nLo, nLo.length, recipients);
    long[] w = wLo.length == 0 ? new long[0] : Reveal.toPartiesWide(ctx, op,
        Coordinates.DRIVER_PARTITION, wideRound, wLo, wHi, wLo.length, recipients);
    boolean recipient = Arrays.stream(recipients).anyMatch(r -> r == ctx.self());
    long bytes = 8L * nLo.length + 16L * wLo.length;
    metric("rounds").add(1);
    metric("bytesSent").add(bytes * Arrays.stream(recipients).filter(r -> r != ctx.self())
        .count());
    if (!recipient) {
      return null;
    }
    metric("bytesReceived").add(bytes * (ctx.parties() - 1));
    long[] outLo = new long[lo.length];
    long[] outHi = new long[hi.length];
    for (int sl = 0, ni = 0, wi = 0; sl < sums; sl++) {
      for (int j = 0; j < m; j++) {
        if (wideSlot[sl]) {
          outLo[sl * ng + open[j]] = w[wi * m + j];
          outHi[sl * ng + open[j]] = w[wLo.length + wi * m + j];
        } else {
          outLo[sl * ng + open[j]] = n[ni * m + j];
        }
      }
      if (wideSlot[sl]) {
        wi++;
      } else {
        ni++;
      }
    }
    return new Opened(outLo, outHi);
  }

  /**
   * Open this party's shares of the noisy counts of the {@code open} groups ({@code noise}, to
   * which party 0 adds the public count) to {@code recipients}: per group, the noisy count, or null
   * for a group not opened; null at a party that receives nothing.
   */
  private Long[] openCounts(MpcContext ctx, long op, OperatorScope scope, long[] noise,
      long[] counts, int[] open, int ng, int[] recipients) {
    int m = open.length;
    int round = scope.round("reveal noisy counts");
    if (m == 0) {
      return new Long[ng];
    }
    long[] shares = new long[m];
    for (int j = 0; j < m; j++) {
      shares[j] = noise[j] + (ctx.self() == 0 ? counts[open[j]] : 0);
    }
    long[] got = Reveal.toParties(ctx, op, Coordinates.DRIVER_PARTITION, round, shares, m,
        recipients);
    metric("rounds").add(1);
    if (Arrays.stream(recipients).noneMatch(r -> r == ctx.self())) {
      return null;
    }
    Long[] out = new Long[ng];
    for (int j = 0; j < m; j++) {
      out[open[j]] = got[j];
    }
    return out;
  }

  private Object value(String kind, int i, int gi, int ng, int[] shareSlot, boolean[] wideSlot,
      int shareSlotsPlain, int[] productShifts, Opened opened, long[] counts, Long[] noisyCounts,
      int minGroup, UnsafeRow keyRow, List<Attribute> groups, List<Attribute> in,
      List<Attribute> out) {
    switch (kind) {
      case "GROUP": {
        int gpos = indexOfSemantic(groups, in.get(i));
        return keyRow.get(gpos, out.get(i).dataType());
      }
      case "COUNT":
        return noisyCounts != null ? noisyCounts[gi] : (Object) counts[gi];
      default: {
        int at = shareSlot[i] * ng + gi;
        if (!reveal) {
          return opened.lo()[at]; // this party's share (of a sum checked to fit in 64 bits)
        }
        if (counts[gi] == 0 || counts[gi] < minGroup) {
          return null; // SUM and AVG of no rows are NULL, as in Spark; small groups stay closed
        }
        ShareType type = SecureRewriteRule.outputType(kind, in.get(i),
            ScalaInterop.list(partners).get(i), ScalaInterop.list(factors).get(i));
        int shift = shareSlot[i] >= shareSlotsPlain ? productShifts[shareSlot[i]
            - shareSlotsPlain] : 0;
        if (shift > 0) { // truncated products: summed at the lower scale
          type = type.with(type.scale() - shift, type.integral(), type.factor(), type.bits());
        }
        long divisor = kind.startsWith("AVG") ? counts[gi] : 1;
        if (kind.equals("AVG") && noisyCounts != null) {
          if (noisyCounts[gi] == null || noisyCounts[gi] <= 0) {
            return null; // a noisy count of no rows: no average to publish
          }
          divisor = noisyCounts[gi];
        }
        return wideSlot[shareSlot[i]]
            ? type.decode(Ring64.toBigInteger(opened.hi()[at], opened.lo()[at]), divisor,
                out.get(i).name())
            : type.decode(opened.lo()[at], divisor, out.get(i).name());
      }
    }
  }

  private static int indexOfSemantic(List<Attribute> list, Attribute a) {
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i).semanticEquals(a)) {
        return i;
      }
    }
    throw new IllegalStateException("grouping column " + a.name() + " not found");
  }

  private static int ordinal(List<Attribute> attrs, Attribute a) {
    for (int i = 0; i < attrs.size(); i++) {
      if (attrs.get(i).exprId().equals(a.exprId())) {
        return i;
      }
    }
    throw new IllegalStateException("column " + a.name() + " is not in the input");
  }

  /** The columnar plan under a ColumnarToRow transition, if any. */
  static SparkPlan columnarSource(SparkPlan child) {
    if (child instanceof ColumnarToRowExec c2r) {
      return c2r.child();
    }
    return child.supportsColumnar() ? child : null;
  }

  private static byte[] emptyKey() {
    UnsafeProjection p = UnsafeProjection.create(new DataType[0]);
    return p.apply(new GenericInternalRow(new Object[0])).getBytes();
  }

  /** The local phase, run in tasks. */
  static final class PartialTask implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int[] keyOrdinals;
    private final DataType[] keyTypes;
    private final int[] shareOrdinals;
    private final SQLMetric rowsMetric;

    PartialTask(int[] keyOrdinals, DataType[] keyTypes, int[] shareOrdinals, SQLMetric rowsMetric) {
      this.keyOrdinals = keyOrdinals;
      this.keyTypes = keyTypes;
      this.shareOrdinals = shareOrdinals;
      this.rowsMetric = rowsMetric;
    }

    private final class Acc {
      final UnsafeProjection keyProj;
      final Map<UnsafeRow, Integer> index = new HashMap<>();
      final List<byte[]> keys = new ArrayList<>();
      long[][] sums = new long[shareOrdinals.length][16];
      long[] counts = new long[16];
      int[] gid = new int[0];
      long rows;

      Acc() {
        List<Expression> refs = new ArrayList<>();
        for (int i = 0; i < keyOrdinals.length; i++) {
          refs.add(new BoundReference(keyOrdinals[i], keyTypes[i], true));
        }
        keyProj = UnsafeProjection.create(ScalaInterop.seq(refs));
      }

      int group(InternalRow r) {
        UnsafeRow key = keyProj.apply(r);
        Integer g = index.get(key);
        if (g == null) {
          g = keys.size();
          UnsafeRow copy = key.copy();
          index.put(copy, g);
          keys.add(copy.getBytes());
          if (g == counts.length) {
            counts = Arrays.copyOf(counts, g * 2);
            for (int s = 0; s < sums.length; s++) {
              sums[s] = Arrays.copyOf(sums[s], g * 2);
            }
          }
        }
        return g;
      }

      AggregatePartial done() {
        rowsMetric.add(rows);
        int n = keys.size();
        long[][] s = new long[sums.length][];
        for (int i = 0; i < sums.length; i++) {
          s[i] = Arrays.copyOf(sums[i], n);
        }
        return new AggregatePartial(keys, s, new long[s.length][], Arrays.copyOf(counts, n));
      }
    }

    Iterator<AggregatePartial> fromBatches(Iterator<ColumnarBatch> it) {
      Acc acc = new Acc();
      while (it.hasNext()) {
        ColumnarBatch b = it.next();
        int n = b.numRows();
        if (acc.gid.length < n) {
          acc.gid = new int[n];
        }
        for (int i = 0; i < n; i++) {
          int g = acc.group(b.getRow(i));
          acc.gid[i] = g;
          acc.counts[g]++;
        }
        for (int s = 0; s < shareOrdinals.length; s++) {
          long[] v = b.column(shareOrdinals[s]).getLongs(0, n);
          Ring64.groupSum(v, acc.gid, n, acc.sums[s]);
        }
        acc.rows += n;
      }
      return List.of(acc.done()).iterator();
    }

    Iterator<AggregatePartial> fromRows(Iterator<InternalRow> it) {
      Acc acc = new Acc();
      while (it.hasNext()) {
        InternalRow r = it.next();
        int g = acc.group(r);
        acc.counts[g]++;
        for (int s = 0; s < shareOrdinals.length; s++) {
          acc.sums[s][g] += r.getLong(shareOrdinals[s]);
        }
        acc.rows++;
      }
      return List.of(acc.done()).iterator();
    }
  }

  /** Group key bytes, ordered as unsigned byte strings. */
  private static final class ByteKey implements Comparable<ByteKey> {
    final byte[] bytes;

    ByteKey(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public int compareTo(ByteKey o) {
      return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ByteKey b && Arrays.equals(bytes, b.bytes);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bytes);
    }
  }
}
