package org.sparkmpc.spark;

import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.net.KnownSettings;
import org.sparkmpc.net.PartySettings;

/**
 * Every {@code spark.mpc.*} setting, typed and documented in one place. The README's settings table
 * is generated from {@link #ALL} by {@link #markdownTable()}; a test keeps the two in step. The
 * tools outside Spark learn the same keys through {@link Known}, so that they refuse a misspelt
 * one. The settings a party's gateway and dealer read too take their names from {@link
 * PartySettings}, which reads the key files for both sides.
 */
public final class MpcConf {
  private MpcConf() {}

  /** One setting: key, default (as text, or null if required), documentation and a parser. */
  public record Setting<T>(String key, String defaultValue, String doc, Function<String, T> parser) {

    /** The value in {@code spark}'s runtime configuration, or the default. */
    public T get(SparkSession spark) {
      String raw = spark.conf().get(key, defaultValue);
      return parse(raw);
    }

    /** Parse a raw value; errors name the key. */
    public T parse(String raw) {
      if (raw == null || raw.isBlank()) {
        if (defaultValue != null && defaultValue.isEmpty()) {
          return parser.apply(""); // optional setting left empty
        }
        throw new IllegalArgumentException("setting " + key + " is required: " + doc);
      }
      try {
        return parser.apply(raw.trim());
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("setting " + key + " has an invalid value: "
            + e.getMessage(), e);
      }
    }
  }

  public static final Setting<String> PARTY = new Setting<>(PartySettings.PARTY, null,
      "This party's name, as in spark.mpc.parties and in its certificate.", s -> s);

  public static final Setting<String> PARTIES = new Setting<>(PartySettings.PARTIES, null,
      "All parties in the same order at every party: name=host:port,... (the gateway addresses).",
      s -> s);

  public static final Setting<String> KEY_DIR = new Setting<>(PartySettings.KEY_DIR, "",
      "Folder written by keygen; gives the defaults <party>.key.pem, <party>.crt.pem and trust.pem.",
      s -> s);

  public static final Setting<String> KEY_FILE = new Setting<>(PartySettings.KEY_FILE, "",
      "This party's private key (PEM, PKCS#8). Default: <keyDir>/<party>.key.pem.", s -> s);

  public static final Setting<String> CERT_FILE = new Setting<>(PartySettings.CERT_FILE, "",
      "This party's certificate (PEM). Default: <keyDir>/<party>.crt.pem.", s -> s);

  public static final Setting<String> TRUST_FILE = new Setting<>(PartySettings.TRUST_FILE, "",
      "PEM bundle with every party's certificate; a peer not in it is refused. "
          + "Default: <keyDir>/trust.pem.", s -> s);

  public static final Setting<Duration> TIMEOUT = new Setting<>(PartySettings.TIMEOUT, "120s",
      "How long a party waits for a peer's message (or to reach a peer) before failing the query "
          + "with an error naming the peer and the round.", MpcConf::parseDuration);

  public static final Setting<Integer> SCALE_BITS = new Setting<>("spark.mpc.fixedPoint.scaleBits",
      "16", "Fixed-point scale (bits) for fractional secure columns: values are encoded as "
          + "round(v * 2^bits). Integral columns are shared exactly (scale 0).", Integer::parseInt);

  public static final Setting<String> SESSION_NAME = new Setting<>(PartySettings.SESSION_NAME,
      "spark-mpc", "Name of the joint job; every party must use the same one.", s -> s);

  public static final Setting<Long> MAX_BUFFERED = new Setting<>(
      "spark.mpc.gateway.maxBufferedBytes", "512m",
      "Upper bound on message bytes the gateway keeps (for retried tasks): an operator's until "
          + "it has finished, a sharing operator's (whose cached table Spark may recompute) until "
          + "the session ends. Past it senders are slowed, then refused with an error naming this "
          + "setting and the bytes the session holds.",
      MpcConf::parseBytes);

  public static final Setting<Duration> HANDSHAKE_TIMEOUT = new Setting<>(
      org.sparkmpc.net.GatewayConfig.HANDSHAKE_TIMEOUT_SETTING, "5s",
      "How long a connection to the gateway may take to complete its TLS handshake; one that does "
          + "not is closed, so stalled connections cannot hold the gateway's connection slots for "
          + "the whole spark.mpc.timeout (never longer than it).", MpcConf::parseDuration);

  public static final Setting<String> DEALER = new Setting<>("spark.mpc.dealer", "",
      "Name of the dealer in spark.mpc.parties (listed last), if correlated randomness comes from "
          + "a dealer service; empty when there is none. The dealer must not collude with any party.",
      s -> s);

  public static final Setting<String> CORRELATIONS = new Setting<>("spark.mpc.correlations",
      "auto",
      "Where multiplications get their correlated randomness: 'dealer' (the service named by "
          + "spark.mpc.dealer; any number of parties; assumes the dealer colludes with no party), "
          + "'ot' (no third party; two parties only; oblivious transfer, slower), or 'auto' "
          + "(the dealer when spark.mpc.dealer is set, otherwise none).",
      s -> {
        if (!s.equals("auto") && !s.equals("dealer") && !s.equals("ot")) {
          throw new IllegalArgumentException("must be auto, dealer or ot");
        }
        return s;
      });

  public static final Setting<String> GATEWAY_ADDRESS = new Setting<>(
      "spark.mpc.gateway.address", "",
      "host:port of this party's standalone gateway (bin/gateway), which the driver and the "
          + "executors reach as clients with the party's own certificate; empty: the driver "
          + "runs the gateway itself on its entry in spark.mpc.parties, and executors reach that.",
      s -> s);

  public static final Setting<Integer> SHARE_PARTITIONS = new Setting<>(
      "spark.mpc.share.partitions", "0",
      "Partitions each party splits its own rows into when sharing (0 keeps the input's "
          + "partitioning). More partitions spread sharing over more executor cores.",
      Integer::parseInt);

  public static final Setting<Integer> MIN_GROUP_SIZE = new Setting<>(
      "spark.mpc.reveal.minGroupSize", "0",
      "Smallest group whose secure aggregates may be opened (0: no minimum). A revealed "
          + "aggregate's secure values for a smaller group are never opened and come back NULL "
          + "(its public COUNT stays); a secret-shared aggregate leaves such groups out; revealing "
          + "rows that are not aggregated is refused. Part of the query every party must agree on.",
      s -> {
        int v = Integer.parseInt(s);
        if (v < 0) {
          throw new IllegalArgumentException("must be 0 or more");
        }
        return v;
      });

  public static final Setting<String> SHARE_BOUNDS = new Setting<>(
      "spark.mpc.share.bounds", "observed",
      "The public magnitude bound of each secure column, which sums of products and regression "
          + "check before any share moves so that they never wrap: 'observed' (each owner reports "
          + "the bit length of its largest value of the column; the parties learn that bit length, "
          + "nothing else) or 'type' (the bound the column's type implies: exact for byte, short "
          + "and int, the whole fixed-point range otherwise, so products of wide columns are "
          + "refused). Plain SUM and AVG are exact either way.",
      s -> {
        if (!s.equals("observed") && !s.equals("type")) {
          throw new IllegalArgumentException("must be observed or type");
        }
        return s;
      });

  public static final Setting<Long> SHARE_MEMORY = new Setting<>(
      "spark.mpc.share.memory", "1g",
      "Off-heap (Arrow) memory each JVM of the party (every executor; the driver in local mode) "
          + "may use for the secure tables it holds. Read when the JVM makes its first table, so "
          + "give it at launch (spark-submit --conf). Spark counts these bytes as storage memory "
          + "and spills partitions to local disk as Arrow IPC when that is full; past this budget a "
          + "query fails with an error naming this setting, never with an out-of-memory crash. "
          + "The JVM's direct memory (-XX:MaxDirectMemorySize, by default the heap size) must be "
          + "at least as large.",
      s -> {
        long v = parseBytes(s);
        if (v <= 0) {
          throw new IllegalArgumentException("must be positive");
        }
        return v;
      });

  public static final Setting<Integer> WAVE_WIDTH = new Setting<>("spark.mpc.waveWidth", "0",
      "Tasks a deep protocol (all of its rounds inside one task per partition) runs at the same "
          + "time, in one gang-scheduled (barrier) stage: task i walks the partitions i, i+W, ... "
          + "0: the smallest party's task slots, agreed at each deep operator. An explicit width "
          + "must be the same at every party (parties that differ are refused before the "
          + "operator's first round) and at most every party's slots.",
      s -> {
        int v = Integer.parseInt(s);
        if (v < 0) {
          throw new IllegalArgumentException("must be 0 (the smallest party's slots) or more");
        }
        return v;
      });

  public static final Setting<org.sparkmpc.psi.IdNormalization> PSI_NORMALIZE = new Setting<>(
      "spark.mpc.psi.normalize", "trim-lower",
      "How private set intersection normalises identifiers before hashing them: 'trim-lower' "
          + "(Unicode NFKC, surrounding white space removed, lower case), 'trim' (the same, case "
          + "kept) or 'exact'. Must be the same at every party (the plan agreement refuses "
          + "parties that differ).",
      s -> org.sparkmpc.psi.IdNormalization.parse(s, "spark.mpc.psi.normalize"));

  public static final Setting<Integer> PSI_PARTITIONS = new Setting<>(
      "spark.mpc.psi.partitions", "0",
      "Buckets (Spark partitions, one message each way per bucket) of private set intersection: "
          + "the largest of the two parties' values and default parallelisms; 0 (at either "
          + "party) also makes it at least one bucket per 50,000 identifiers of the larger set.",
      s -> {
        int v = Integer.parseInt(s);
        if (v < 0 || v > 100_000) {
          throw new IllegalArgumentException("must be between 0 (automatic) and 100000");
        }
        return v;
      });

  public static final Setting<String> POLICY = new Setting<>(
      "spark.mpc.policy", "",
      "This party's data policy file (YAML, or JSON by a .json name; README \"Data policies\"): "
          + "which columns of each input table may be shared, stay public, are PII (dropped or "
          + "tokenised) or never leave the party, and how each shared column may be opened. Read "
          + "when the session starts; enforced at ingestion, at sharing and before every "
          + "operation that opens values. Empty: no policy.",
      s -> s);

  public static final Setting<Integer> FEDERATED_PORT = new Setting<>(
      "spark.mpc.federated.port", "0",
      "Port of this party's federated upload endpoint (mutual TLS; clients send their shares "
          + "there); 0: any free port (FederatedAggregation.port() tells).",
      s -> {
        int v = Integer.parseInt(s);
        if (v < 0 || v > 65535) {
          throw new IllegalArgumentException("must be a port number, was " + s);
        }
        return v;
      });

  public static final Setting<String> FEDERATED_CLIENT_CA = new Setting<>(
      "spark.mpc.federated.clientCa", "",
      "Certificate (PEM) of the authority that issues the federated clients' certificates; the "
          + "upload endpoint accepts only clients it signed, each known by its certificate's CN. "
          + "Required for federated aggregation.",
      s -> s);

  public static final Setting<String> FEDERATED_DIR = new Setting<>(
      "spark.mpc.federated.dir", "",
      "Folder of this party's own storage where its upload endpoint keeps the shares clients "
          + "sent, one folder per round (readable by its executors). Required for federated "
          + "aggregation.",
      s -> s);

  public static final Setting<String> DP_LEDGER = new Setting<>(
      "spark.mpc.dp.ledger", "",
      "This party's privacy ledger (a JSON file of its own storage, created when first needed): "
          + "the privacy budget (epsilon) each dataset has spent on noisy reveals, over every "
          + "session. Required for a noisy reveal; never reset by Spark MPC.",
      s -> s);

  public static final Setting<Double> DP_BUDGET = new Setting<>(
      "spark.mpc.dp.budget", "",
      "The total epsilon this party lets noisy reveals spend on each dataset, over every session "
          + "(its ledger counts what was spent). A query that would pass it is refused, at every "
          + "party, before anything moves. Required for a noisy reveal.",
      s -> {
        if (s.isEmpty()) {
          return Double.NaN;
        }
        double v = Double.parseDouble(s);
        if (!(v > 0) || Double.isInfinite(v)) {
          throw new IllegalArgumentException("must be a positive number, was " + s);
        }
        return v;
      });

  public static final Setting<String> STORED_KEY_FILE = new Setting<>(
      "spark.mpc.stored.keyFile", "",
      "A file of at least 32 random bytes, known to this party only, from which the key that "
          + "authenticates its stored share tables' manifests is derived; default: the party's "
          + "private key (spark.mpc.keyFile). A table loads only under the key it was saved with.",
      s -> s);

  /** All settings, in documentation order. */
  public static final List<Setting<?>> ALL = List.of(PARTY, PARTIES, KEY_DIR, KEY_FILE, CERT_FILE,
      TRUST_FILE, TIMEOUT, SCALE_BITS, SESSION_NAME, MAX_BUFFERED, HANDSHAKE_TIMEOUT, DEALER,
      CORRELATIONS, GATEWAY_ADDRESS, SHARE_PARTITIONS, SHARE_BOUNDS, SHARE_MEMORY, MIN_GROUP_SIZE,
      WAVE_WIDTH, PSI_NORMALIZE, PSI_PARTITIONS, POLICY,
      STORED_KEY_FILE, DP_LEDGER, DP_BUDGET, FEDERATED_PORT, FEDERATED_CLIENT_CA, FEDERATED_DIR);

  /** {@link #ALL}'s keys, for the tools outside Spark (a {@link KnownSettings} service). */
  public static final class Known implements KnownSettings {
    /** Made by {@link java.util.ServiceLoader}. */
    public Known() {}

    @Override
    public List<String> keys() {
      return ALL.stream().map(Setting::key).toList();
    }
  }

  /** The settings table for the README. */
  public static String markdownTable() {
    StringBuilder sb = new StringBuilder("| setting | default | meaning |\n| --- | --- | --- |\n");
    for (Setting<?> s : ALL) {
      String d = s.defaultValue() == null ? "(required)"
          : s.defaultValue().isEmpty() ? "(none)" : "`" + s.defaultValue() + "`";
      sb.append("| `").append(s.key()).append("` | ").append(d).append(" | ").append(s.doc())
          .append(" |\n");
    }
    return sb.toString();
  }

  /** {@code 30s}, {@code 2m}, {@code 500ms}, {@code 1h} or plain seconds. */
  public static Duration parseDuration(String s) {
    return Duration.ofMillis(org.sparkmpc.net.ConfigValues.millis("value", s));
  }

  /** {@code 512m}, {@code 2g}, {@code 64k} or plain bytes. */
  public static long parseBytes(String s) {
    return org.sparkmpc.net.ConfigValues.bytes("value", s);
  }

  /** Print the table (used to refresh the README). */
  public static void main(String[] args) {
    System.out.print(markdownTable());
  }
}
