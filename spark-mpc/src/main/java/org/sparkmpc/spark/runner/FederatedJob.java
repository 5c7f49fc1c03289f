package org.sparkmpc.spark.runner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.connectors.federated.RoundSpec;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.federated.FederatedAggregation;
import org.sparkmpc.spark.federated.FederatedResult;

/**
 * The runner's {@code job=federated}: one round of federated secure aggregation at this party.
 *
 * <pre>
 * job=federated
 * federated.round=round-1            # the round's id, as the clients know it
 * federated.dims=100000              # length of every update
 * federated.clipNorm=1.0             # L2 bound the clients clip to
 * federated.scaleBits=16             # quantisation: round(x * 2^scaleBits)
 * federated.maxClients=10000
 * federated.quorum=10000             # close as soon as this many clients are in (default maxClients)
 * federated.timeout=300              # seconds until the round closes anyway
 * federated.minClients=2             # fewer at the close: nothing is opened
 * federated.revealTo=                # parties that learn the mean (default: all)
 * federated.readyFile=/path          # optional: written once the round accepts uploads
 * output=/path/mean                  # the mean update (mean.csv) at a recipient
 * </pre>
 *
 * The endpoint's port, the clients' authority and the upload folder are the party's
 * {@code spark.mpc.federated.*} settings.
 */
final class FederatedJob {
  private FederatedJob() {}

  /** The round's parameters from the config, checked (before any session starts). */
  static RoundSpec spec(Properties conf, List<String> parties) {
    try {
      return RoundSpec.of(PartyRunner.require(conf, "federated.round"),
          Integer.parseInt(PartyRunner.require(conf, "federated.dims")),
          Double.parseDouble(PartyRunner.require(conf, "federated.clipNorm")),
          Integer.parseInt(conf.getProperty("federated.scaleBits", "16").trim()),
          Integer.parseInt(PartyRunner.require(conf, "federated.maxClients")), parties);
    } catch (NumberFormatException e) {
      throw new MpcInputException("job=federated: a federated.* number is not a number ("
          + e.getMessage() + ")");
    } catch (IllegalArgumentException e) {
      throw new MpcInputException("job=federated: " + e.getMessage());
    }
  }

  /** Run the round; returns the number of dimensions written (0 at a non-recipient). */
  static long run(SparkMpc mpc, Properties conf) {
    RoundSpec spec = spec(conf, mpc.parties());
    int quorum = Integer.parseInt(conf.getProperty("federated.quorum",
        String.valueOf(spec.maxClients())).trim());
    int minClients = Integer.parseInt(conf.getProperty("federated.minClients", "2").trim());
    Duration timeout = Duration.ofSeconds(Long.parseLong(conf.getProperty("federated.timeout",
        "300").trim()));
    String to = conf.getProperty("federated.revealTo", "").trim();
    String[] revealTo = to.isEmpty() ? new String[0] : to.split("\\s*,\\s*");
    try (FederatedAggregation fed = mpc.federated()) {
      FederatedAggregation.Round round = fed.open(spec, quorum, timeout, minClients, revealTo);
      String ready = conf.getProperty("federated.readyFile", "").trim();
      if (!ready.isEmpty()) {
        write(Path.of(ready), String.valueOf(fed.port()));
      }
      System.out.println("spark-mpc: party " + mpc.party() + " accepts uploads of round "
          + spec.roundId() + " on port " + fed.port());
      FederatedResult r = round.aggregate();
      System.out.printf(java.util.Locale.ROOT, "spark-mpc: party %s round %s: %d clients "
          + "included, %d accepted here left out; closed after %d ms, opened %d ms later%n",
          mpc.party(), spec.roundId(), r.clients().size(), r.leftOut(), r.closeMillis(),
          r.aggregateMillis());
      if (!r.recipient()) {
        return 0;
      }
      double[] mean = r.mean();
      StringBuilder csv = new StringBuilder("dim,mean\n");
      for (int i = 0; i < mean.length; i++) {
        csv.append(i).append(',').append(mean[i]).append('\n');
      }
      Path out = Path.of(PartyRunner.require(conf, "output"));
      write(out.resolve("mean.csv"), csv.toString());
      write(out.resolve("clients.txt"), String.join("\n", r.clients()) + "\n");
      System.out.println("spark-mpc: party " + mpc.party() + " wrote the mean of "
          + r.clients().size() + " updates to " + out);
      return mean.length;
    }
  }

  private static void write(Path file, String text) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
