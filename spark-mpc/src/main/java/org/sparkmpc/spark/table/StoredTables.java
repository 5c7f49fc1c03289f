package org.sparkmpc.spark.table;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.net.ProtocolException;
import org.sparkmpc.session.Coordinates;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.spark.MpcRuntime;
import org.sparkmpc.spark.catalyst.ScalaInterop;
import org.sparkmpc.spark.types.ShareType;

/**
 * Persisted share tables: each party writes its shares of a secure table to its own storage, and a
 * later session at every party loads them and queries them without sharing the data again.
 *
 * <p><b>Save</b> (an operator of its own, so every party saves the same table at the same step):
 * the plan agreement (the table, its schema and partitioning contract); each executor writes the
 * partitions it holds ({@link StoredShareFile}) to the party's folder; one driver round in which
 * every party reports whether its files are written, and its clock; then, only if every party
 * wrote its files, each writes its manifest ({@link StoredManifest}), signed with its own key
 * ({@link StoredTableKey}). The table's identity is a hash of the session id, the operator id and
 * the agreed description, so it is equal at every party and new for every save; the stamp is the
 * latest of the parties' clocks. Rounds: 2 on the driver. Bytes: the description and about 16 bytes
 * to each peer. Reveals: nothing but what the plan agreement shows (schema, row counts).
 *
 * <p><b>Load</b>: this party's manifest is read and authenticated, its files' presence and lengths
 * checked, before any round; then the plan agreement (so a party that shares or does anything else
 * at this step is refused, naming it), then one round exchanging the table's public identity
 * (identity, name, stamp, parties, schema, contract): a party holding another table or another
 * version of it is refused, naming it, before any share moves. The executors read the partition
 * files in parallel, each checked against its SHA-256 before it is parsed, into partitions cached
 * like a shared table's, with the same contract; a last round reports whether every party loaded,
 * so that an altered file at one party stops every party, naming it (after a failed load, the
 * files are read once more by tasks that report rather than fail, to name the file at fault). Rounds: 3 on the driver.
 * Bytes: the identity (a few hundred bytes) to each peer. Reveals: the identity and stamp of the
 * stored table each party holds (public metadata); never a path or a digest.
 */
public final class StoredTables {
  private static final Logger LOG = LoggerFactory.getLogger(StoredTables.class);

  private StoredTables() {}

  /**
   * Save {@code table} to {@code path} (a folder that does not exist or is empty, in this party's
   * storage: a local path or any Hadoop file system URI), in lockstep with every party.
   *
   * @param name a label kept with the table (may be empty), the same at every party
   * @return the manifest written
   */
  public static StoredManifest save(MpcRuntime rt, SparkSession spark, SecureTable table,
      String path, String name) {
    MpcContext ctx = rt.context();
    String self = ctx.directory().self().name();
    OperatorScope scope = rt.beginOperator("SaveStoredTable");
    long op = scope.id();
    int doneRound = scope.round("saved");
    List<StoredManifest.Column> columns = columns(table);
    String description = "SaveStoredTable(" + table.id() + ") name=" + name + " columns="
        + StoredManifest.schema(columns) + " contract=" + Arrays.toString(table.contract());
    SerializableConfiguration conf =
        new SerializableConfiguration(spark.sparkContext().hadoopConfiguration());
    Path dir = new Path(path);
    FileSystem fs;
    try {
      fs = StoredShareFile.fileSystem(dir, conf.value());
      if (fs.exists(dir) && fs.listStatus(dir).length > 0) {
        throw new StoredTableException("cannot save secure table " + table.id() + " to " + path
            + " at party " + self + ": the folder exists and is not empty (a stored table is "
            + "never overwritten: choose a new folder, or delete the old one first)",
            "party " + self + " cannot save secure table " + table.id() + ": its destination "
            + "folder is not empty");
      }
      fs.mkdirs(dir);
    } catch (IOException | RuntimeException e) {
      StoredTableException s = e instanceof StoredTableException x ? x : new StoredTableException(
          "cannot save secure table " + table.id() + " to " + path + " at party " + self + ": "
          + e.getMessage(), "party " + self + " cannot write to its destination folder");
      ctx.abort(op, new MpcInputException(s.forPeers()));
      throw s;
    }
    ctx.agree(op, description);
    String uid = HexFormat.of().formatHex(StoredShareFile.sha256().digest(("sparkmpc/stored-table"
        + "/v1\n" + ctx.sessionId() + "\n" + op + "\n" + description)
        .getBytes(StandardCharsets.UTF_8)), 0, 16);

    String failure = "";
    List<StoredManifest.Part> parts = List.of();
    long t0 = System.nanoTime();
    try {
      parts = new ArrayList<>(table.partitions().mapPartitionsWithIndex(new StoredTasks.Write(conf, path,
          uid, publicTypes(columns)), false).collect());
      parts.sort(Comparator.comparingInt(StoredManifest.Part::partition));
      if (parts.size() != table.contract().length) {
        throw new IllegalStateException("wrote " + parts.size() + " partitions of "
            + table.contract().length);
      }
    } catch (Exception e) {
      LOG.error("party {}: could not write secure table {} to {}", self, table.id(), path, e);
      failure = "party " + self + " could not write its shares of secure table " + table.id()
          + " (details in its own log)";
    }
    long savedAt = System.currentTimeMillis();
    byte[] mine = status(savedAt, failure);
    byte[][] all = ctx.exchangeAll(op, Coordinates.DRIVER_PARTITION, doneRound, mine);
    List<String> failed = new ArrayList<>();
    for (int q = 0; q < all.length; q++) {
      if (all[q].length < 8) {
        throw new ProtocolException("party '" + ctx.directory().name(q) + "' sent a malformed "
            + "save report for operator " + op);
      }
      savedAt = Math.max(savedAt, ByteBuffer.wrap(all[q]).getLong());
      String why = new String(all[q], 8, all[q].length - 8, StandardCharsets.UTF_8);
      if (!why.isEmpty()) {
        failed.add(why);
      }
    }
    if (!failed.isEmpty()) {
      for (StoredManifest.Part p : parts) {
        delete(fs, new Path(dir, p.file()));
      }
      throw new StoredTableException("secure table " + table.id() + " was not saved (no party "
          + "keeps a manifest of it): " + String.join("; ", failed), String.join("; ", failed));
    }
    // The policy rules that govern the table's columns at this party travel with its own copy.
    List<StoredManifest.Rule> rules = new ArrayList<>();
    for (var a : table.output()) {
      rt.policy().uses(table.id(), a.name()).forEach((from, u) ->
          rules.add(new StoredManifest.Rule(a.name(), from, u)));
    }
    StoredManifest m = new StoredManifest(uid, name, savedAt, ctx.sessionId(), table.id(), self,
        partyNames(ctx), columns, List.copyOf(parts), List.copyOf(rules));
    byte[] key = StoredTableKey.of(spark);
    try {
      Path tmp = new Path(dir, StoredManifest.FILE + ".tmp");
      try (var out = fs.create(tmp, true)) {
        out.write(m.render(key));
      }
      if (!fs.rename(tmp, new Path(dir, StoredManifest.FILE))) {
        throw new IOException("could not rename " + tmp);
      }
    } catch (IOException e) {
      throw new StoredTableException("secure table " + table.id() + " was written to " + path
          + " but its manifest could not be: " + e.getMessage(), "party " + self
          + " could not write its manifest");
    } finally {
      Arrays.fill(key, (byte) 0);
    }
    rt.releaseMessages(scope);
    LOG.info("party {}: secure table {} saved as {} ({} partitions, {} rows) in {} ms", self,
        table.id(), m.label(), parts.size(), table.rows(), (System.nanoTime() - t0) / 1_000_000);
    return m;
  }

  /**
   * Load the stored table in {@code path} (this party's folder of a table every party saved in an
   * earlier session) as secure table {@code tableId}, in lockstep with every party; blocks until
   * its partitions are cached.
   *
   * @throws StoredTableException at every party, naming the party and the table (and at the party
   *     at fault, the file), when a party's manifest or files were altered, are missing or
   *     truncated, or hold another table or version than the others'
   */
  public static SecureTable load(MpcRuntime rt, SparkSession spark, String path, String tableId) {
    MpcContext ctx = rt.context();
    String self = ctx.directory().self().name();
    OperatorScope scope = rt.beginOperator("LoadStoredTable");
    long op = scope.id();
    int identityRound = scope.round("identity");
    int loadedRound = scope.round("loaded");
    SerializableConfiguration conf =
        new SerializableConfiguration(spark.sparkContext().hadoopConfiguration());
    Path dir = new Path(path);
    StoredManifest m;
    try {
      m = manifest(spark, conf, dir, ctx);
    } catch (StoredTableException e) {
      ctx.abort(op, new MpcInputException(e.forPeers()));
      throw e;
    }
    ctx.agree(op, "LoadStoredTable(" + tableId + ")");
    String identity = identity(m);
    byte[][] all = ctx.exchangeAll(op, Coordinates.DRIVER_PARTITION, identityRound,
        identity.getBytes(StandardCharsets.UTF_8));
    for (int q = 0; q < all.length; q++) {
      String theirs = new String(all[q], StandardCharsets.UTF_8);
      if (q != ctx.self() && !theirs.equals(identity)) {
        throw mismatch(ctx.directory().name(q), theirs, self, m);
      }
    }

    long t0 = System.nanoTime();
    int n = m.parts().size();
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      idx.add(i);
    }
    JavaRDD<SharePartition> rdd = JavaSparkContext.fromSparkContext(spark.sparkContext())
        .parallelize(idx, n).mapPartitionsWithIndex(new StoredTasks.Load(conf, path, m, self), false);
    rdd.persist(StorageLevel.MEMORY_AND_DISK());
    String failure = "";
    StoredTableException local = null;
    try {
      List<Integer> counts = rdd.map(SharePartition::rows).collect();
      long[] contract = m.contract();
      for (int i = 0; i < n; i++) {
        if (counts.get(i) != contract[i]) {
          throw new IllegalStateException("partition " + i + " has " + counts.get(i) + " rows");
        }
      }
    } catch (Exception e) { // a failed job is a SparkException
      local = StoredTableException.in(e);
      if (local == null) {
        // The fail-fast listener may cancel the stage before the task's error becomes the job's
        // cause: find which file failed, and why, with a job whose tasks report instead of fail.
        local = check(spark, idx, conf, path, m, self);
      }
      if (local == null) {
        LOG.error("party {}: could not load {} from {}", self, m.label(), path, e);
        local = new StoredTableException("party " + self + " could not load stored " + m.label()
            + " from " + path + ": " + e.getMessage(), "party " + self + " could not load its "
            + "stored copy of " + m.label() + " (details in its own log)");
      }
      failure = local.forPeers();
    }
    byte[][] loaded = ctx.exchangeAll(op, Coordinates.DRIVER_PARTITION, loadedRound,
        failure.getBytes(StandardCharsets.UTF_8));
    List<String> failed = new ArrayList<>();
    for (int q = 0; q < loaded.length; q++) {
      if (q != ctx.self() && loaded[q].length > 0) {
        failed.add("party '" + ctx.directory().name(q) + "': "
            + new String(loaded[q], StandardCharsets.UTF_8));
      }
    }
    if (local != null || !failed.isEmpty()) {
      rdd.unpersist(false);
      if (local != null) {
        throw local;
      }
      throw new StoredTableException("stored " + m.label() + " was refused at another party, "
          + "before any share moved: " + String.join("; ", failed), String.join("; ", failed));
    }
    rt.releaseMessages(scope);
    LOG.info("party {}: stored {} loaded as secure table {} ({} partitions) in {} ms", self,
        m.label(), tableId, n, (System.nanoTime() - t0) / 1_000_000);
    // This party's policy rules of the table, as they were when it was saved.
    Map<String, Map<String, org.sparkmpc.connectors.policy.ColumnUsage>> rules =
        new java.util.LinkedHashMap<>();
    for (StoredManifest.Rule r : m.rules()) {
      rules.computeIfAbsent(r.column(), k -> new java.util.LinkedHashMap<>()).put(r.from(),
          r.usage());
    }
    rt.policy().restore(tableId, rules);
    return table(m, tableId, rdd);
  }

  /** The first partition file of {@code m} refused when read again, or null if none is. */
  private static StoredTableException check(SparkSession spark, List<Integer> idx,
      SerializableConfiguration conf, String path, StoredManifest m, String self) {
    try {
      for (String r : JavaSparkContext.fromSparkContext(spark.sparkContext())
          .parallelize(idx, idx.size()).mapPartitionsWithIndex(new StoredTasks.Check(conf, path, m, self),
              false).collect()) {
        if (!r.isEmpty()) {
          int cut = r.indexOf('\0');
          return new StoredTableException(r.substring(0, cut), r.substring(cut + 1));
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("party {}: could not check the partition files of {}: {}", self, m.label(),
          e.getMessage());
    }
    return null;
  }

  /** This party's manifest in {@code dir}, authenticated, and its files present at their lengths. */
  private static StoredManifest manifest(SparkSession spark, SerializableConfiguration conf,
      Path dir, MpcContext ctx) {
    String self = ctx.directory().self().name();
    Path file = new Path(dir, StoredManifest.FILE);
    StoredManifest m;
    try {
      FileSystem fs = StoredShareFile.fileSystem(dir, conf.value());
      if (!fs.exists(file)) {
        throw new StoredTableException("no stored table at " + dir + " at party " + self + ": it "
            + "has no " + StoredManifest.FILE + " (not saved, or its save did not finish)",
            "party " + self + " has no stored table where it was told to load one");
      }
      byte[] bytes;
      try (var in = fs.open(file)) {
        bytes = in.readNBytes(1 << 24);
      }
      byte[] key = StoredTableKey.of(spark);
      try {
        m = StoredManifest.verifyAndParse(bytes, key, file.toString());
      } catch (MpcInputException e) {
        throw new StoredTableException(e.getMessage() + " (party " + self + ")", "party " + self
            + "'s stored table manifest does not verify (edited, another party's, or another "
            + "key's)");
      } finally {
        Arrays.fill(key, (byte) 0);
      }
      List<String> parties = partyNames(ctx);
      if (!m.party().equals(self) || !m.parties().equals(parties)) {
        throw new StoredTableException("stored " + m.label() + " at " + dir + " was saved by "
            + "party " + m.party() + " of " + m.parties() + "; this is party " + self + " of "
            + parties, "party " + self + "'s stored " + m.label() + " was saved by other parties");
      }
      for (StoredManifest.Part p : m.parts()) {
        Path f = new Path(dir, p.file());
        if (!fs.exists(f)) {
          throw new StoredTableException("stored " + m.label() + ": partition file " + f
              + " is missing (deleted or moved); refused at party " + self, "partition file "
              + p.file() + " of party " + self + "'s stored copy of " + m.label()
              + " is missing");
        }
        FileStatus st = fs.getFileStatus(f);
        if (st.getLen() != p.bytes()) {
          throw new StoredTableException("stored " + m.label() + ": partition file " + f + " has "
              + st.getLen() + " bytes and its manifest says " + p.bytes() + " (truncated or "
              + "replaced); refused at party " + self, "partition file " + p.file() + " of party "
              + self + "'s stored copy of " + m.label() + " has another length than its manifest "
              + "says (truncated or replaced)");
        }
      }
    } catch (IOException e) {
      throw new StoredTableException("cannot read the stored table at " + dir + " at party "
          + self + ": " + e.getMessage(), "party " + self + " cannot read its stored table");
    }
    return m;
  }

  /** The table's public identity, as the parties compare it before loading. */
  private static String identity(StoredManifest m) {
    return "table=" + m.uid() + "\nname=" + m.name() + "\nsavedAt=" + m.savedAt() + "\nparties="
        + m.parties() + "\ncolumns=" + StoredManifest.schema(m.columns()) + "\ncontract="
        + Arrays.toString(m.contract());
  }

  private static StoredTableException mismatch(String peer, String theirs, String self,
      StoredManifest m) {
    String[] t = theirs.split("\n", -1);
    String peerTable = t.length > 0 ? field(t[0]) : "?";
    String peerName = t.length > 1 ? field(t[1]) : "?";
    String peerStamp = t.length > 2 ? stamp(field(t[2])) : "?";
    String peerColumns = t.length > 4 ? field(t[4]) : "?";
    boolean sameTable = (!m.name().isEmpty() && m.name().equals(peerName))
        || StoredManifest.schema(m.columns()).equals(peerColumns);
    String what = sameTable ? "another version of the stored table" : "another stored table";
    String msg = "party '" + peer + "' loads " + what + " than this party (" + self + "): "
        + peer + "'s is " + describe(peerName, peerTable) + " saved at " + peerStamp
        + (sameTable ? "" : " with columns " + peerColumns) + ", " + self + "'s is "
        + describe(m.name(), m.uid()) + " saved at " + stamp(Long.toString(m.savedAt()))
        + (sameTable ? "" : " with columns " + StoredManifest.schema(m.columns()))
        + "; refused before any share moved";
    return new StoredTableException(msg, msg);
  }

  private static String describe(String name, String uid) {
    return (name.isEmpty() ? "" : "'" + name + "' ") + "(table " + uid + ")";
  }

  private static String field(String line) {
    int eq = line.indexOf('=');
    String v = eq < 0 ? line : line.substring(eq + 1);
    return v.length() > 300 ? v.substring(0, 300) + "..." : v;
  }

  private static String stamp(String millis) {
    try {
      return Instant.ofEpochMilli(Long.parseLong(millis)).toString();
    } catch (RuntimeException e) {
      return "?";
    }
  }

  /** The secure table a manifest describes, over the loaded partitions. */
  private static SecureTable table(StoredManifest m, String tableId, JavaRDD<SharePartition> rdd) {
    List<StoredManifest.Column> cols = m.columns();
    List<Attribute> output = new ArrayList<>();
    boolean[] secure = new boolean[cols.size()];
    int[] index = new int[cols.size()];
    boolean[] wide = new boolean[m.secureColumns()];
    for (int i = 0; i < cols.size(); i++) {
      StoredManifest.Column c = cols.get(i);
      secure[i] = c.secure();
      index[i] = c.index();
      if (c.secure()) {
        wide[c.index()] = c.wide();
        output.add(new AttributeReference(c.name(), new ShareType(c.scale(), c.integral(),
            tableId, c.factor(), c.bits()), false, Metadata.empty(), NamedExpression.newExprId(),
            ScalaInterop.seqOf()));
      } else {
        output.add(new AttributeReference(c.name(), c.type(), c.nullable(), Metadata.empty(),
            NamedExpression.newExprId(), ScalaInterop.seqOf()));
      }
    }
    return new SecureTable(tableId, output, secure, index, rdd, m.contract(), wide);
  }

  private static List<StoredManifest.Column> columns(SecureTable t) {
    List<StoredManifest.Column> out = new ArrayList<>();
    for (int i = 0; i < t.output().size(); i++) {
      Attribute a = t.output().get(i);
      if (t.secure()[i]) {
        ShareType s = (ShareType) a.dataType();
        out.add(new StoredManifest.Column(a.name(), true, t.index()[i], s.scale(), s.integral(),
            s.factor(), s.bits(), t.wide()[t.index()[i]], null, false));
      } else {
        out.add(new StoredManifest.Column(a.name(), false, t.index()[i], 0, false, "1", 0, false,
            a.dataType(), a.nullable()));
      }
    }
    return out;
  }

  private static org.apache.spark.sql.types.DataType[] publicTypes(
      List<StoredManifest.Column> columns) {
    List<org.apache.spark.sql.types.DataType> t = new ArrayList<>();
    for (StoredManifest.Column c : columns) {
      if (!c.secure()) {
        t.add(c.type());
      }
    }
    return t.toArray(new org.apache.spark.sql.types.DataType[0]);
  }

  private static List<String> partyNames(MpcContext ctx) {
    List<String> names = new ArrayList<>();
    for (int q = 0; q < ctx.parties(); q++) {
      names.add(ctx.directory().name(q));
    }
    return names;
  }

  private static byte[] status(long clock, String failure) {
    byte[] why = failure.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + why.length).putLong(clock).put(why).array();
  }

  private static void delete(FileSystem fs, Path f) {
    try {
      fs.delete(f, false);
    } catch (IOException e) {
      LOG.warn("could not delete {}: {}", f, e.getMessage());
    }
  }
}
