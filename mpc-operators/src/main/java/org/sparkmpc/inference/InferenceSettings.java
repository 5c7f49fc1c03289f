package org.sparkmpc.inference;

import org.sparkmpc.MpcInputException;

/**
 * The public parameters of a secure inference session, which every computing party must set
 * alike (the session's agreement compares them and refuses a mismatch, naming the party).
 *
 * @param scale          fractional bits of the rows' fixed-point encoding and of the output
 *                       (12 to 20; the sigmoid's range), default 16
 * @param maxFeatureBits a feature's magnitude must be at most {@code 2^maxFeatureBits} (the
 *                       client refuses a row otherwise, naming the feature); together with the
 *                       model's {@code Σ|w| + |b|} this bounds the logit so that it never leaves
 *                       the ring's exact range (the session refuses a model that could). Default
 *                       20 (features up to 1,048,576, then {@code Σ|w| + |b| <= 2^(45 - scale -
 *                       maxFeatureBits) = 512} at the default scale)
 * @param poolDepth      single-row requests whose correlated randomness is prepared ahead, in
 *                       the background (0: each request prepares its own when it arrives),
 *                       default 16
 * @param chunkRows      rows per operator of a batch request (its rows go through the protocol
 *                       in chunks of this size, the next chunk's randomness prepared while one
 *                       runs), default 16,384
 */
public record InferenceSettings(int scale, int maxFeatureBits, int poolDepth, int chunkRows) {

  /** The defaults: scale 16, features up to 2^20, 16 requests prepared ahead, chunks of 16,384. */
  public static final InferenceSettings DEFAULTS = new InferenceSettings(16, 20, 16, 16_384);

  public InferenceSettings {
    if (scale < 12 || scale > 20) {
      throw new MpcInputException("the inference scale must be 12 to 20 fractional bits, was "
          + scale);
    }
    if (maxFeatureBits < 0 || maxFeatureBits + scale > 44) {
      throw new MpcInputException("maxFeatureBits must be 0 to " + (44 - scale) + " at scale "
          + scale + ", was " + maxFeatureBits);
    }
    if (poolDepth < 0 || poolDepth > 4096) {
      throw new MpcInputException("poolDepth must be 0 to 4096, was " + poolDepth);
    }
    if (chunkRows < 1 || chunkRows > (1 << 20)) {
      throw new MpcInputException("chunkRows must be 1 to 1048576, was " + chunkRows);
    }
  }

  /** These settings with another fixed-point scale. */
  public InferenceSettings withScale(int bits) {
    return new InferenceSettings(bits, maxFeatureBits, poolDepth, chunkRows);
  }

  /** These settings with features bounded by {@code 2^bits}. */
  public InferenceSettings withMaxFeatureBits(int bits) {
    return new InferenceSettings(scale, bits, poolDepth, chunkRows);
  }

  /** These settings with {@code depth} single-row requests prepared ahead. */
  public InferenceSettings withPoolDepth(int depth) {
    return new InferenceSettings(scale, maxFeatureBits, depth, chunkRows);
  }

  /** These settings with batch chunks of {@code rows} rows. */
  public InferenceSettings withChunkRows(int rows) {
    return new InferenceSettings(scale, maxFeatureBits, poolDepth, rows);
  }

  /** The largest magnitude a feature may have. */
  public double maxAbsFeature() {
    return Math.scalb(1.0, maxFeatureBits);
  }

  /**
   * The bound on {@code Σ|W_i| + |B|} of the encoded model (at any model scale) that keeps every
   * admissible row's logit, at {@code scale + modelScale} fractional bits, below {@code 2^61}:
   * {@code 2^(61 - maxFeatureBits - scale)}.
   */
  long modelBound() {
    return 1L << (61 - maxFeatureBits - scale);
  }

  /** The settings as the session's agreement compares them. */
  String canonical() {
    return "scale=" + scale + ",maxFeatureBits=" + maxFeatureBits + ",poolDepth=" + poolDepth
        + ",chunkRows=" + chunkRows;
  }
}
