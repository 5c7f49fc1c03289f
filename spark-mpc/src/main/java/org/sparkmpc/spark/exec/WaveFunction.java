package org.sparkmpc.spark.exec;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.sparkmpc.net.PeerAbortedException;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.table.SharePartition;
import scala.Tuple2;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The body of one wave task (a barrier task): runs the {@link DeepTask} on each table partition
 * the task walks, in order, and returns each partition's result, Java-serialised (so that any
 * {@link Serializable} result crosses Spark's shuffle whatever its serializer's registrations).
 * A named {@code AbstractFunction1}: a Java lambda passed as a {@code scala.Function1} to a
 * barrier stage is not serialisable (PLATFORM.md).
 */
final class WaveFunction<R extends Serializable> extends
    scala.runtime.AbstractFunction1<Iterator<Tuple2<Integer, SharePartition>>,
        Iterator<Tuple2<Integer, byte[]>>> implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(WaveFunction.class);
  private final String session;
  private final long operator;
  private final DeepTask<R> task;
  private final SQLMetric sent;
  private final SQLMetric received;

  WaveFunction(String session, long operator, DeepTask<R> task, SQLMetric sent,
      SQLMetric received) {
    this.session = session;
    this.operator = operator;
    this.task = task;
    this.sent = sent;
    this.received = received;
  }

  @Override
  public Iterator<Tuple2<Integer, byte[]>> apply(Iterator<Tuple2<Integer, SharePartition>> it) {
    if (task instanceof SendAheadTask<?, R> ahead) {
      return CollectionConverters.asScala(sendAhead(ahead, it).iterator());
    }
    List<Tuple2<Integer, byte[]>> out = new ArrayList<>();
    TaskContext tc = TaskContext.get();
    while (it.hasNext()) {
      if (tc != null) {
        tc.killTaskIfInterrupted(); // an attempt Spark abandoned stops between partitions
      }
      Tuple2<Integer, SharePartition> e = it.next();
      LOG.info("operator {}: wave task {} runs partition {}", operator,
          tc == null ? -1 : tc.partitionId(), e._1());
      DeepPartition part = new DeepPartition(e._1(), e._2(), session, operator, sent, received);
      R r;
      try {
        r = task.run(part);
      } catch (RuntimeException ex) {
        tellPeers(ex);
        throw ex;
      } catch (Exception ex) {
        throw new IllegalStateException("the deep task of partition " + e._1() + " of operator "
            + operator + " failed with " + ex.getClass().getSimpleName(), ex);
      }
      out.add(new Tuple2<>(e._1(), encode(r)));
    }
    return CollectionConverters.asScala(out.iterator());
  }

  /**
   * The partitions of a {@link SendAheadTask}: the next partition's {@code start} (its sends)
   * before the current one's {@code finish} (its waits), so one exchange is always in flight.
   */
  private <S> List<Tuple2<Integer, byte[]>> sendAhead(SendAheadTask<S, R> ahead,
      Iterator<Tuple2<Integer, SharePartition>> it) {
    List<Tuple2<Integer, byte[]>> out = new ArrayList<>();
    TaskContext tc = TaskContext.get();
    DeepPartition current = null;
    S started = null;
    while (true) {
      if (tc != null) {
        tc.killTaskIfInterrupted();
      }
      DeepPartition next = null;
      S nextStarted = null;
      if (it.hasNext()) {
        Tuple2<Integer, SharePartition> e = it.next();
        LOG.info("operator {}: wave task {} runs partition {}", operator,
            tc == null ? -1 : tc.partitionId(), e._1());
        DeepPartition p = new DeepPartition(e._1(), e._2(), session, operator, sent, received);
        nextStarted = step(p, () -> ahead.start(p));
        p.releaseData();
        next = p;
      }
      if (current != null) {
        DeepPartition c = current;
        S s = started;
        out.add(new Tuple2<>(c.partition(), encode(step(c, () -> ahead.finish(c, s)))));
      }
      if (next == null) {
        return out;
      }
      current = next;
      started = nextStarted;
    }
  }

  private interface Step<T> {
    T call() throws Exception;
  }

  private <T> T step(DeepPartition part, Step<T> body) {
    try {
      return body.call();
    } catch (RuntimeException ex) {
      tellPeers(ex);
      throw ex;
    } catch (Exception ex) {
      throw new IllegalStateException("the deep task of partition " + part.partition()
          + " of operator " + operator + " failed with " + ex.getClass().getSimpleName(), ex);
    }
  }

  /**
   * A project error (a peer that timed out, a protocol violation, bad input) is not mended by a
   * retry, and its stage is cancelled: the peers are told at once. Any other failure may be, and
   * Spark retries the stage; the driver tells the peers if it fails for good.
   */
  private void tellPeers(RuntimeException ex) {
    if (ex.getClass().getName().startsWith("org.sparkmpc.")
        && !(ex instanceof PeerAbortedException)) {
      MpcRuntime.context(session).abort(operator, ex);
    }
  }

  static byte[] encode(Serializable r) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(r);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  @SuppressWarnings("unchecked")
  static <R> R decode(byte[] b) {
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(b)) {
      @Override
      protected Class<?> resolveClass(java.io.ObjectStreamClass desc)
          throws IOException, ClassNotFoundException {
        // The driver's context class loader knows the application's classes (spark-submit jars).
        return Class.forName(desc.getName(), false,
            Thread.currentThread().getContextClassLoader());
      }
    }) {
      return (R) in.readObject();
    } catch (IOException | ClassNotFoundException e) {
      throw new IllegalStateException("a deep task's result could not be read back", e);
    }
  }
}
