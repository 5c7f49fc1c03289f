package org.sparkmpc.spark.federated;

import java.util.List;
import org.sparkmpc.connectors.federated.RoundSpec;

/**
 * The outcome of one federated aggregation round at one party.
 *
 * @param spec the round
 * @param clients the clients whose updates are in the sum: every client that completed its
 *     upload to every party, with the same submission, by the close (sorted; the same at every
 *     party)
 * @param leftOut clients this party accepted that are not in the sum (their upload to another
 *     party is missing or belongs to another submission)
 * @param sum the exact sum of the included clients' quantised updates ({@code q = round(x *
 *     2^scaleBits)} after clipping), or null at a party the sum was not opened to
 * @param closeMillis from the call until the round closed (deadline or quorum)
 * @param aggregateMillis from the close until the opened sum (agreement, Spark sum, opening)
 */
public record FederatedResult(RoundSpec spec, List<String> clients, int leftOut, long[] sum,
    long closeMillis, long aggregateMillis) {

  /** Whether the sum was opened to this party. */
  public boolean recipient() {
    return sum != null;
  }

  /** The mean update: the sum over the included clients, dequantised; null at a non-recipient. */
  public double[] mean() {
    if (sum == null) {
      return null;
    }
    double div = clients.size() * Math.pow(2, spec.scaleBits());
    double[] out = new double[sum.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = sum[i] / div;
    }
    return out;
  }
}
