package org.sparkmpc.spark.exec;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.spark.MpcConf;

/**
 * The width of a deep operator's wave (tasks at a time), agreed by the parties on their drivers in
 * one round of the operator before any of its tasks starts: each party sends its explicit
 * {@code spark.mpc.waveWidth} (0: none) and its cluster's task slots, and every party derives the
 * same width from the same values: the common explicit width, or else the smallest party's slots,
 * never more than the table's partitions. Parties with different explicit widths, or an explicit
 * width above some party's slots, are refused alike at every party, naming the setting and the
 * parties. Rounds: 1 (driver partition). Bytes: 8 to each peer. Reveals: each party's setting and
 * slot count (public configuration).
 */
final class WaveWidth {
  private WaveWidth() {}

  /** The agreed width for a table of {@code partitions} partitions. */
  static int agree(SparkContext sc, MpcContext ctx, OperatorScope scope, int partitions) {
    int explicit = explicitWidth(sc);
    int slots = slots(sc, ctx);
    byte[] mine = ByteBuffer.allocate(8).putInt(explicit).putInt(slots).array();
    byte[][] all = ctx.exchangeAll(scope.id(), Coordinates.DRIVER_PARTITION,
        scope.round("wave width"), mine);
    int[] ex = new int[all.length];
    int[] sl = new int[all.length];
    for (int q = 0; q < all.length; q++) {
      ByteBuffer b = ByteBuffer.wrap(all[q]);
      if (all[q].length != 8) {
        throw new org.sparkmpc.net.ProtocolException("party '" + ctx.directory().name(q)
            + "' sent a malformed wave width for " + scope);
      }
      ex[q] = b.getInt();
      sl[q] = b.getInt();
    }
    return decide(ctx, scope, ex, sl, partitions);
  }

  /** The width every party derives from the same values (see the class comment). */
  static int decide(MpcContext ctx, OperatorScope scope, int[] explicit, int[] slots,
      int partitions) {
    TreeSet<Integer> set = new TreeSet<>();
    List<String> shown = new ArrayList<>();
    int minSlots = Integer.MAX_VALUE;
    int smallest = 0;
    for (int q = 0; q < explicit.length; q++) {
      if (explicit[q] > 0) {
        set.add(explicit[q]);
      }
      shown.add("'" + ctx.directory().name(q) + "' " + (explicit[q] > 0 ? explicit[q] : "unset"));
      if (slots[q] < minSlots) {
        minSlots = slots[q];
        smallest = q;
      }
    }
    if (set.size() > 1) {
      throw new MpcInputException("the parties set different " + MpcConf.WAVE_WIDTH.key()
          + " (" + String.join(", ", shown) + "); set the same width at every party, or leave "
          + "it unset for the smallest party's task slots. " + scope + " was refused before any "
          + "of its tasks ran");
    }
    int width = set.isEmpty() ? minSlots : set.first();
    if (width > minSlots) {
      throw new MpcInputException(MpcConf.WAVE_WIDTH.key() + "=" + width + " is more than party '"
          + ctx.directory().name(smallest) + "''s " + minSlots + " task slots: a wave runs its "
          + "tasks all at once (a barrier stage), one slot each. " + scope + " was refused "
          + "before any of its tasks ran");
    }
    return Math.max(1, Math.min(width, partitions));
  }

  /** This party's explicit width: the running query's session settings, else the context's. */
  private static int explicitWidth(SparkContext sc) {
    String raw;
    scala.Option<SparkSession> active = SparkSession.getActiveSession();
    if (active.isDefined()) {
      raw = active.get().conf().get(MpcConf.WAVE_WIDTH.key(), MpcConf.WAVE_WIDTH.defaultValue());
    } else {
      raw = sc.getConf().get(MpcConf.WAVE_WIDTH.key(), MpcConf.WAVE_WIDTH.defaultValue());
    }
    return MpcConf.WAVE_WIDTH.parse(raw);
  }

  /**
   * The tasks this party's cluster runs at once (what a barrier stage may use): its executors'
   * slots for the default resource profile ({@code local[n]}: n). Executors of a cluster register
   * after the application starts, so a party with none yet waits for them up to the session's
   * timeout.
   */
  static int slots(SparkContext sc, MpcContext ctx) {
    long deadline = System.nanoTime() + ctx.timeout().toNanos();
    while (true) {
      int n = sc.maxNumConcurrentTasks(sc.resourceProfileManager().defaultResourceProfile());
      if (n > 0) {
        return n;
      }
      if (System.nanoTime() > deadline) {
        throw new MpcInputException("party '" + ctx.directory().self().name() + "' has no "
            + "executor to run a deep protocol on after " + ctx.timeout().toSeconds() + " s");
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for executors", e);
      }
    }
  }
}
