package org.sparkmpc.spark.catalyst;

import java.util.ArrayList;
import java.util.List;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

/** The one place where Java meets Scala collections for the Catalyst classes of this package. */
public final class ScalaInterop {
  private ScalaInterop() {}

  /** An immutable Scala {@code Seq} with the elements of {@code list}. */
  public static <T> Seq<T> seq(List<T> list) {
    return CollectionConverters.asScala(list).toList();
  }

  @SafeVarargs
  public static <T> Seq<T> seqOf(T... items) {
    return seq(List.of(items));
  }

  /** A Java list copy of a Scala sequence. */
  public static <T> List<T> list(scala.collection.Seq<T> seq) {
    return new ArrayList<>(CollectionConverters.asJava(seq));
  }

  /**
   * A total partial function for {@code transformUp}/{@code transformDown}: {@code f} returns the
   * replacement, or {@code null} to keep the node.
   */
  public static <T> scala.PartialFunction<T, T> rewrite(java.util.function.Function<T, T> f) {
    return new Rewrite<>(f);
  }

  private static final class Rewrite<T> extends scala.runtime.AbstractPartialFunction<T, T>
      implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final java.util.function.Function<T, T> f;

    Rewrite(java.util.function.Function<T, T> f) {
      this.f = f;
    }

    @Override
    public boolean isDefinedAt(T x) {
      return true;
    }

    @Override
    public <A1 extends T, B1> B1 applyOrElse(A1 x, scala.Function1<A1, B1> fallback) {
      T r = f.apply(x);
      @SuppressWarnings("unchecked")
      B1 out = (B1) (r == null ? x : r);
      return out;
    }
  }
}
