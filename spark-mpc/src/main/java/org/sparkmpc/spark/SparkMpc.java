package org.sparkmpc.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.spark.catalyst.SecureReveal;
import org.sparkmpc.spark.catalyst.ScalaInterop;
import org.sparkmpc.spark.catalyst.SecureTableRelation;
import org.sparkmpc.spark.dp.Noise;
import org.sparkmpc.spark.psi.PrivateSetIntersection;
import org.sparkmpc.spark.table.HorizontalShare;
import org.sparkmpc.spark.table.SecureTable;

/**
 * The DataFrame entry point of Spark MPC for one party.
 *
 * <pre>{@code
 * SparkMpc mpc = SparkMpc.of(spark);                       // gateway + session from spark.mpc.*
 * Dataset<Row> tx = mpc.share(myRows, "amount");           // every party's rows; amount shared
 * Dataset<Row> agg = tx.groupBy("region").agg(sum("amount"), count("amount"), avg("amount"));
 * mpc.reveal(agg).show();                                  // opened to every party
 * mpc.revealTo(agg, "bank1");                              // rows only at bank1
 * }</pre>
 *
 * Every party runs the same calls in the same order with its own rows (lockstep); a party that runs
 * something else is refused by the plan agreement before any share moves.
 */
public final class SparkMpc implements AutoCloseable {
  private final SparkSession spark;
  private final MpcRuntime runtime;

  private SparkMpc(SparkSession spark, MpcRuntime runtime) {
    this.spark = spark;
    this.runtime = runtime;
  }

  /** This party's MPC handle; starts the gateway and agrees the session on first use. */
  public static SparkMpc of(SparkSession spark) {
    return new SparkMpc(spark, MpcRuntime.getOrStart(spark));
  }

  /** This party's name. */
  public String party() {
    return runtime.context().directory().self().name();
  }

  /** The parties, in order. */
  public List<String> parties() {
    List<String> out = new ArrayList<>();
    runtime.context().directory().parties().forEach(p -> out.add(p.name()));
    return out;
  }

  /**
   * This party's raw rows of input table {@code table} through its data policy
   * ({@code spark.mpc.policy}): columns the policy names must exist; PII it drops and private
   * columns are removed (and columns it names nowhere, unless it refuses them); PII it tokenises
   * becomes a keyed hash; every kept column is tagged with the table and its class, which
   * {@link #share}, {@link #shareAligned} and PSI check. Without a policy the rows are returned as
   * they are. Lazy: nothing is read until the rows are shared.
   */
  public Dataset<Row> ingest(String table, Dataset<Row> raw) {
    return runtime.policy().ingest(table, raw);
  }

  /**
   * Share this party's rows into a horizontally split secure table: the result holds every party's
   * rows, in party order; {@code secretColumns} become secure columns (shares), every other column
   * stays public and is sent to the other parties as it is. Numeric columns only; nulls and values
   * outside the fixed-point range are refused with an error naming the column and party. The table
   * is materialised (kept in this party's block manager) before this returns.
   */
  public Dataset<Row> share(Dataset<Row> ownRows, String... secretColumns) {
    if (secretColumns.length == 0) {
      throw new MpcInputException("share: name at least one column to share");
    }
    List<String> cols = Arrays.asList(secretColumns);
    // The table id first: every party takes one, whether or not a policy refuses the sharing.
    String id = runtime.nextTableId();
    List<String> clear = new ArrayList<>(Arrays.asList(ownRows.columns()));
    clear.removeAll(cols);
    var rules = runtime.policy().beforeSharing("HorizontalShare", ownRows.schema(), cols, clear);
    for (String c : cols) {
      if (!Arrays.asList(ownRows.columns()).contains(c)) {
        throw new MpcInputException("share: party " + party() + " has no column '" + c
            + "'; its columns are " + Arrays.toString(ownRows.columns()));
      }
    }
    int parts = MpcConf.SHARE_PARTITIONS.get(spark);
    Dataset<Row> input = parts > 0 ? ownRows.repartition(parts) : ownRows;
    Dataset<Row> out = registerSecureTable(HorizontalShare.share(runtime, input, cols,
        runtime.defaultScaleBits(), id));
    runtime.policy().register(id, rules);
    runtime.clipBounds().register(id, ownRows.schema(), cols);
    return out;
  }

  /**
   * Share vertically split data: every party holds other columns of the same entities, identified
   * by the public column {@code id}; each party names the columns it contributes. The result has
   * the id and every party's columns (as shares), in party order. The parties must hold the same
   * ids: a different row count, or other ids in any partition, is refused naming the party.
   */
  public Dataset<Row> shareAligned(Dataset<Row> ownColumns, String id, String... secretColumns) {
    // The table id first: every party takes one, whether or not a policy refuses the sharing.
    String tableId = runtime.nextTableId();
    // psi_key, made by this session's PSI, is a pseudonym the policy need not have tagged.
    boolean pseudonym = id.equals(PrivateSetIntersection.KEY) && Arrays.asList(ownColumns
        .columns()).contains(id) && !ownColumns.schema().apply(id).metadata()
        .contains(org.sparkmpc.connectors.policy.Policy.TABLE_TAG);
    var rules = runtime.policy().beforeSharing("VerticalShare", ownColumns.schema(),
        Arrays.asList(secretColumns), pseudonym ? List.of() : List.of(id));
    for (String c : secretColumns) {
      if (!Arrays.asList(ownColumns.columns()).contains(c)) {
        throw new MpcInputException("shareAligned: party " + party() + " has no column '" + c
            + "'; its columns are " + Arrays.toString(ownColumns.columns()));
      }
    }
    int parts = MpcConf.SHARE_PARTITIONS.get(spark);
    SecureTable table = org.sparkmpc.spark.table.VerticalShare.share(runtime, ownColumns, id,
        Arrays.asList(secretColumns), runtime.defaultScaleBits(), parts > 0 ? parts : 4, tableId);
    Dataset<Row> out = registerSecureTable(table);
    runtime.policy().register(tableId, rules);
    runtime.clipBounds().register(tableId, ownColumns.schema(), Arrays.asList(secretColumns));
    return out;
  }

  /**
   * Private set intersection with the other party of a two-party session, on this party's string
   * column {@code id} (normalised by {@code spark.mpc.psi.normalize}). Both parties learn which of
   * their own rows are in the intersection: the result is those rows, materialised, with a column
   * {@code psi_key}, a pseudonym of the identifier that is the same at both parties for the same
   * member (and meaningless outside this session). Neither party learns anything of the other's
   * non-members but how many identifiers it holds. Null, empty or repeated identifiers are refused,
   * naming the column.
   */
  public Dataset<Row> intersect(Dataset<Row> own, String id) {
    return intersectTo(own, id);
  }

  /**
   * As {@link #intersect}, but only the named parties (both if none are named) learn their
   * members; at the other party the result is empty, with the same columns, and it has learnt
   * only the set sizes.
   */
  public Dataset<Row> intersectTo(Dataset<Row> own, String id, String... parties) {
    PrivateSetIntersection.Result r = PrivateSetIntersection.run(runtime, own, id,
        PrivateSetIntersection.Output.MEMBERS, Arrays.asList(parties));
    if (r.members() != null) {
      return r.members();
    }
    return spark.createDataFrame(List.of(),
        own.schema().add(PrivateSetIntersection.KEY, org.apache.spark.sql.types.DataTypes.StringType,
            false));
  }

  /**
   * The size of the intersection of the two parties' identifiers in {@code id}, and nothing more:
   * no party learns which of its rows are members. Learnt by the named parties (both if none are
   * named); -1 at the other.
   */
  public long intersectionSize(Dataset<Row> own, String id, String... parties) {
    return PrivateSetIntersection.run(runtime, own, id, PrivateSetIntersection.Output.SIZE,
        Arrays.asList(parties)).size();
  }

  /**
   * {@link #shareAligned}'s counterpart for a private identifier: the parties intersect their
   * {@code id}s privately ({@link #intersect}) and share the named columns of the members as one
   * vertically split secure table, its rows in the order of {@code psi_key} at both parties (which
   * is its public first column). Non-members are never shared and never revealed; each party
   * learns which of its rows are members and the other's set size.
   */
  public Dataset<Row> shareIntersected(Dataset<Row> ownColumns, String id,
      String... secretColumns) {
    if (secretColumns.length == 0) {
      throw new MpcInputException("shareIntersected: name at least one column to share");
    }
    Dataset<Row> members = PrivateSetIntersection.run(runtime, ownColumns, id,
        PrivateSetIntersection.Output.MEMBERS, List.of(), Arrays.asList(secretColumns)).members();
    return shareAligned(members, PrivateSetIntersection.KEY, secretColumns);
  }

  /**
   * Release a secure table returned by {@link #share}: its partitions leave this party's block
   * manager (memory and local disk). Queries over it fail afterwards.
   */
  public void drop(Dataset<Row> secureTable) {
    runtime.dropTable(tableId(secureTable, "drop"));
  }

  /**
   * Persist this party's shares of the secure table {@code secureTable} (returned by {@link #share},
   * {@link #shareAligned}, {@link #load} or a secure operator) to {@code path}: a folder of this
   * party's own storage (a local path or a Hadoop file system URI) that does not exist or is empty.
   * Every party saves the same table at the same step, each to its own storage; the executors write
   * their partitions. See {@link org.sparkmpc.spark.table.StoredTables} for the rounds, the format
   * and what is checked.
   *
   * @return the table's identity (equal at every party, new for every save)
   */
  public String save(Dataset<Row> secureTable, String path) {
    return save(secureTable, path, "");
  }

  /** {@link #save(Dataset, String)} with a name kept with the table (the same at every party). */
  public String save(Dataset<Row> secureTable, String path, String name) {
    return org.sparkmpc.spark.table.StoredTables.save(runtime, spark,
        secureTable(secureTable, "save"), path, name).uid();
  }

  /**
   * Load this party's stored copy of a table that every party saved in an earlier session (each
   * from its own {@code path}) as a secure table, queried like a freshly shared one; no share is
   * sent again. Every party loads at the same step. Refused at every party, naming the party, when
   * a party's files were altered, are missing or truncated, or hold another table or another
   * version of it, or when a party does something else at this step.
   */
  public Dataset<Row> load(String path) {
    String id = runtime.nextTableId();
    return registerSecureTable(org.sparkmpc.spark.table.StoredTables.load(runtime, spark, path,
        id));
  }

  /**
   * This party's rows with numeric column {@code column} clamped into {@code [lo, hi]} and the
   * bounds declared on it, before {@link #share}: the sensitivity of differentially private sums
   * of the column ({@link #reveal(Dataset, Noise)}). Local and lazy; every party declares the same
   * bounds (the parties agree on them with the query).
   */
  public Dataset<Row> clip(Dataset<Row> ownRows, String column, double lo, double hi) {
    return org.sparkmpc.spark.dp.ClipBounds.clip(ownRows, column, lo, hi);
  }

  /** Open every secure column of {@code secure} to every party. */
  public Dataset<Row> reveal(Dataset<Row> secure) {
    return revealTo(secure);
  }

  /**
   * Open the SUM, COUNT and AVG by public groups of {@code aggregate} to every party with
   * differentially private noise drawn inside MPC ({@link Noise}: what it adds, what it charges).
   * Refused, before anything moves, for anything but those aggregates, for a SUM of a column
   * without clipping bounds ({@link #clip}), and when a party's ledger has not the budget left.
   */
  public Dataset<Row> reveal(Dataset<Row> aggregate, Noise noise) {
    return revealTo(aggregate, noise);
  }

  /** {@link #reveal(Dataset, Noise)} to the named parties only (all if none are named). */
  public Dataset<Row> revealTo(Dataset<Row> aggregate, Noise noise, String... parties) {
    if (noise == null || noise.none()) {
      throw new MpcInputException("reveal with noise takes Noise.laplace(epsilon).dataset(name)");
    }
    if (noise.dataset().isEmpty()) {
      throw new MpcInputException("noise: name the dataset the budget is charged to, "
          + "Noise.laplace(" + noise.epsilon() + ").dataset(\"name\")");
    }
    return org.apache.spark.sql.classic.Dataset.ofRows(classic(),
        SecureReveal.of(recipients(parties), logical(aggregate), null, noise));
  }

  /**
   * Open every secure column of {@code secure} to the named parties only (all parties if none are
   * named). At any other party the result has the same schema and no rows.
   */
  public Dataset<Row> revealTo(Dataset<Row> secure, String... parties) {
    return org.apache.spark.sql.classic.Dataset.ofRows(classic(),
        SecureReveal.of(recipients(parties), logical(secure)));
  }

  private List<String> recipients(String... parties) {
    List<String> to = new ArrayList<>();
    for (String p : parties) {
      runtime.context().directory().indexOf(p);
      if (!to.contains(p)) {
        to.add(p);
      }
    }
    to.sort(null);
    return to;
  }

  /**
   * Whether this party receives rows of {@code result}: true unless every reveal in its plan names
   * other parties. A query with no reveal yields this party's shares, which it "receives".
   */
  public boolean isRecipient(Dataset<Row> result) {
    org.apache.spark.sql.catalyst.plans.logical.LogicalPlan plan = logical(result);
    boolean[] recipient = {true};
    plan.foreach(node -> {
      if (node instanceof SecureReveal r && !r.recipients().isEmpty()
          && !r.recipients().contains(party())) {
        recipient[0] = false;
      }
      return scala.runtime.BoxedUnit.UNIT;
    });
    return recipient[0];
  }

  /**
   * Start this party's federated upload endpoint ({@code spark.mpc.federated.*}) for rounds of
   * federated secure aggregation; see {@link
   * org.sparkmpc.spark.federated.FederatedAggregation}. Close it when the rounds are done.
   */
  public org.sparkmpc.spark.federated.FederatedAggregation federated() {
    return org.sparkmpc.spark.federated.FederatedAggregation.start(runtime, spark);
  }

  /** This party's runtime (session, correlation source, secure tables). */
  public MpcRuntime runtime() {
    return runtime;
  }

  /**
   * Register a secure table materialised by an operator of this party (every party registers the
   * same table id in the same step) and return it as a DataFrame.
   */
  public Dataset<Row> registerSecureTable(SecureTable table) {
    runtime.registerTable(table);
    return org.apache.spark.sql.classic.Dataset.ofRows(classic(),
        new SecureTableRelation(table.id(), ScalaInterop.seq(table.output())));
  }

  /**
   * The secure table behind {@code ds}, which must be a table returned by {@link #share},
   * {@link #shareAligned} or a secure operator, not a query over one.
   */
  public SecureTable secureTable(Dataset<Row> ds, String caller) {
    return runtime.table(tableId(ds, caller));
  }

  /** The id of the secure table {@code ds}; an error naming {@code caller} for anything else. */
  private String tableId(Dataset<Row> ds, String caller) {
    if (!(logical(ds) instanceof SecureTableRelation rel)) {
      throw new MpcInputException(caller + " takes a secure table returned by share(), "
          + "shareAligned() or transform(), not a query over one");
    }
    return rel.tableId();
  }

  /** End the session: peers' messages are dropped and the gateway stops. */
  @Override
  public void close() {
    runtime.close();
  }

  private org.apache.spark.sql.classic.SparkSession classic() {
    return (org.apache.spark.sql.classic.SparkSession) spark;
  }

  private static org.apache.spark.sql.catalyst.plans.logical.LogicalPlan logical(Dataset<Row> ds) {
    return ((org.apache.spark.sql.classic.Dataset<Row>) ds).logicalPlan();
  }

}
