package org.sparkmpc.spark.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.sparkmpc.spark.table.SharePartition;
import scala.Tuple2;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A wave task runs a {@link SendAheadTask}'s {@code start} of its next partition before the
 * {@code finish} of the current one (every partition's sends are out before the task waits for
 * that partition's peers), hands the data to {@code start} only, and returns every partition's
 * result in order.
 */
class WaveFunctionTest {
  static final ConcurrentLinkedQueue<String> CALLS = new ConcurrentLinkedQueue<>();

  /** Records its calls; its result is the partition's rows times 10. */
  static final class Recording implements SendAheadTask<Integer, Integer> {
    private static final long serialVersionUID = 1L;

    @Override
    public Integer start(DeepPartition part) {
      CALLS.add("start " + part.partition());
      return part.data().rows();
    }

    @Override
    public Integer finish(DeepPartition part, Integer rows) {
      CALLS.add("finish " + part.partition());
      assertThrows(IllegalStateException.class, part::data);
      return rows * 10;
    }
  }

  @Test
  void nextPartitionStartsBeforeTheCurrentOneFinishes() {
    CALLS.clear();
    List<Tuple2<Integer, SharePartition>> parts = new ArrayList<>();
    for (int p : new int[] {1, 3, 5}) {
      parts.add(new Tuple2<>(p, new SharePartition(p + 1, new long[][] {new long[p + 1]},
          new int[0][], new Object[0][])));
    }
    WaveFunction<Integer> f = new WaveFunction<>("no-session", 7, new Recording(), null, null);
    Iterator<Tuple2<Integer, byte[]>> out = f.apply(
        CollectionConverters.asScala(parts.iterator()));
    List<String> results = new ArrayList<>();
    while (out.hasNext()) {
      Tuple2<Integer, byte[]> r = out.next();
      results.add(r._1() + "=" + WaveFunction.<Integer>decode(r._2()));
    }
    assertEquals(List.of("1=20", "3=40", "5=60"), results);
    assertEquals(List.of("start 1", "start 3", "finish 1", "start 5", "finish 3", "finish 5"),
        new ArrayList<>(CALLS));
    parts.forEach(t -> t._2().close());
  }

  @Test
  void aPlainDeepTaskStillRunsOnePartitionAtATime() {
    CALLS.clear();
    List<Tuple2<Integer, SharePartition>> parts = new ArrayList<>();
    for (int p : new int[] {0, 2}) {
      parts.add(new Tuple2<>(p, new SharePartition(3, new long[][] {new long[3]}, new int[0][],
          new Object[0][])));
    }
    DeepTask<Integer> plain = part -> {
      CALLS.add("run " + part.partition());
      return part.data().rows();
    };
    Iterator<Tuple2<Integer, byte[]>> out = new WaveFunction<>("no-session", 7, plain, null, null)
        .apply(CollectionConverters.asScala(parts.iterator()));
    int n = 0;
    while (out.hasNext()) {
      assertEquals(3, WaveFunction.<Integer>decode(out.next()._2()));
      n++;
    }
    assertEquals(2, n);
    assertEquals(List.of("run 0", "run 2"), new ArrayList<>(CALLS));
    parts.forEach(t -> t._2().close());
  }
}
