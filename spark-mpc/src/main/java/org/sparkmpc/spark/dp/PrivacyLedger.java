package org.sparkmpc.spark.dp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import org.sparkmpc.MpcInputException;

/**
 * One party's record of the privacy budget each dataset has spent, kept in a JSON file of the
 * party's own storage ({@code spark.mpc.dp.ledger}) so that it holds across sessions:
 *
 * <pre>{@code
 * {"version": 1, "datasets": {"wages": {"spent": 0.75, "charges": [
 *     {"epsilon": 0.5, "query": "3f1c...", "at": "2026-11-30T15:02:11Z"}, ...]}}}
 * }</pre>
 *
 * A noisy query is checked against the ledger before anything moves ({@link #check}) and charged
 * ({@link #charge}) before anything is opened, under a file lock, so two sessions of one party
 * cannot both spend the last of a budget. A query that fails after its charge keeps it spent (the
 * safe side). A ledger that cannot be read is an error naming the file, never an empty ledger.
 * It holds dataset names, amounts, digests of the queries and times: nothing of the data.
 */
public final class PrivacyLedger {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Spending within this of the budget counts as within it (sums of decimal epsilons). */
  private static final double SLACK = 1e-9;

  /**
   * One monitor per ledger file in this JVM: a file lock is held per JVM, so threads (two sessions
   * of the party in one driver) take turns here first, then other JVMs through the file lock.
   */
  private static final java.util.concurrent.ConcurrentHashMap<Path, Object> MONITORS =
      new java.util.concurrent.ConcurrentHashMap<>();

  private final Path file;
  private final Object monitor;

  /** The ledger in {@code file} (created on the first charge). */
  public PrivacyLedger(Path file) {
    this.file = file.toAbsolutePath().normalize();
    this.monitor = MONITORS.computeIfAbsent(this.file, f -> new Object());
  }

  /** The ledger's file. */
  public Path file() {
    return file;
  }

  /** The budget {@code dataset} has spent so far (0 for a dataset never charged). */
  public double spent(String dataset) {
    synchronized (monitor) {
      try (FileChannel lock = lockChannel(); FileLock l = lock.lock()) {
        return spent(read(), dataset);
      } catch (IOException e) {
        throw unreadable(e);
      }
    }
  }

  /**
   * Refuse, naming the party, the dataset and the amounts, a query that would take {@code dataset}
   * past {@code budget} by spending {@code epsilon}.
   */
  public void check(String party, String dataset, double epsilon, double budget) {
    double spent = spent(dataset);
    if (spent + epsilon > budget + SLACK) {
      throw overBudget(party, dataset, epsilon, budget, spent);
    }
  }

  /**
   * Charge {@code epsilon} to {@code dataset} for the query whose digest is {@code query}, unless
   * that would pass {@code budget} (then refused as {@link #check} does); durable (written to a
   * temporary file, forced to disk and moved over the ledger) before it returns.
   *
   * @return the budget spent after the charge
   */
  public double charge(String party, String dataset, double epsilon, double budget,
      String query) {
    synchronized (monitor) {
      return chargeLocked(party, dataset, epsilon, budget, query);
    }
  }

  private double chargeLocked(String party, String dataset, double epsilon, double budget,
      String query) {
    try {
      Files.createDirectories(file.getParent());
    } catch (IOException e) {
      throw unreadable(e);
    }
    try (FileChannel lock = lockChannel(); FileLock l = lock.lock()) {
      ObjectNode root = read();
      double spent = spent(root, dataset);
      if (spent + epsilon > budget + SLACK) {
        throw overBudget(party, dataset, epsilon, budget, spent);
      }
      ObjectNode datasets = root.with("datasets");
      ObjectNode d = datasets.has(dataset) ? (ObjectNode) datasets.get(dataset)
          : datasets.putObject(dataset);
      d.put("spent", spent + epsilon);
      ArrayNode charges = d.has("charges") ? (ArrayNode) d.get("charges") : d.putArray("charges");
      charges.addObject().put("epsilon", epsilon).put("query", query)
          .put("at", Instant.now().toString());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE,
          StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        out.write(java.nio.ByteBuffer.wrap(JSON.writerWithDefaultPrettyPrinter()
            .writeValueAsBytes(root)));
        out.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return spent + epsilon;
    } catch (IOException e) {
      throw unreadable(e);
    }
  }

  private FileChannel lockChannel() throws IOException {
    Path lock = file.resolveSibling(file.getFileName() + ".lock");
    if (!Files.isDirectory(file.getParent())) {
      Files.createDirectories(file.getParent());
    }
    return FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
  }

  private ObjectNode read() throws IOException {
    if (!Files.exists(file)) {
      ObjectNode root = JSON.createObjectNode();
      root.put("version", 1);
      root.putObject("datasets");
      return root;
    }
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new MpcInputException("the privacy ledger " + file + " is not valid JSON ("
          + e.getClass().getSimpleName() + "); it is never reset: repair or restore it");
    }
    if (root == null || !root.isObject() || root.path("version").asInt() != 1
        || !root.path("datasets").isObject()) {
      throw new MpcInputException("the privacy ledger " + file + " is not a version 1 ledger "
          + "(an object with \"version\": 1 and \"datasets\"); it is never reset: repair or "
          + "restore it");
    }
    return (ObjectNode) root;
  }

  private double spent(ObjectNode root, String dataset) {
    JsonNode d = root.path("datasets").path(dataset);
    if (d.isMissingNode()) {
      return 0;
    }
    JsonNode s = d.path("spent");
    if (!s.isNumber() || !(s.asDouble() >= 0)) {
      throw new MpcInputException("the privacy ledger " + file + " has no valid \"spent\" for "
          + "dataset '" + dataset + "'; it is never reset: repair or restore it");
    }
    return s.asDouble();
  }

  private static MpcInputException overBudget(String party, String dataset, double epsilon,
      double budget, double spent) {
    return new MpcInputException("privacy budget: party " + party + " refuses a query that "
        + "spends epsilon " + epsilon + " on dataset '" + dataset + "', which has spent "
        + spent + " of its budget " + budget + " (spark.mpc.dp.budget)");
  }

  private UncheckedIOException unreadable(IOException e) {
    return new UncheckedIOException("the privacy ledger " + file + " cannot be read or written: "
        + e.getMessage(), e);
  }
}
