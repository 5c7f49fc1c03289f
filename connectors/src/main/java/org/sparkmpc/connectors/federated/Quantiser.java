package org.sparkmpc.connectors.federated;

import java.util.Objects;

/**
 * Turns a client's float update into ring elements: clip to the round's L2 bound, then fixed point
 * with {@code scaleBits} fractional bits. Public so that tests and benchmarks compute the exact
 * expected sum of a round in the clear.
 */
public final class Quantiser {

  private Quantiser() {}

  /**
   * {@code q[i] = Math.round(x[i] * s * 2^scaleBits)} with {@code s = clipNorm / ||x||_2} when the norm
   * exceeds {@code clipNorm}, else 1 (norm and products in double). The result is then held within
   * {@code +-ceil(clipNorm * 2^scaleBits)}, a bound floating-point rounding could otherwise overstep by
   * one, so that {@link RoundSpec#width()} is sure to hold the sum of {@code maxClients} updates.
   *
   * @throws IllegalArgumentException for a length other than {@code spec.dims()}, or a NaN or infinite
   *     coordinate (the message names the index, never the value)
   */
  public static long[] quantise(RoundSpec spec, float[] update) {
    Objects.requireNonNull(update, "update");
    if (update.length != spec.dims()) {
      throw new IllegalArgumentException("update has " + update.length + " dimensions; round '"
          + spec.roundId() + "' expects " + spec.dims());
    }
    double sumSq = 0;
    for (int i = 0; i < update.length; i++) {
      float x = update[i];
      if (!Float.isFinite(x)) {
        throw new IllegalArgumentException("update coordinate " + i + " is NaN or infinite");
      }
      sumSq += (double) x * x;
    }
    double norm = Math.sqrt(sumSq);
    double factor = Math.scalb(1.0, spec.scaleBits());
    if (norm > spec.clipNorm()) {
      factor *= spec.clipNorm() / norm;
    }
    long bound = spec.quantisedBound();
    long[] q = new long[update.length];
    for (int i = 0; i < update.length; i++) {
      long v = Math.round(update[i] * factor);
      q[i] = Math.max(-bound, Math.min(bound, v));
    }
    return q;
  }
}
