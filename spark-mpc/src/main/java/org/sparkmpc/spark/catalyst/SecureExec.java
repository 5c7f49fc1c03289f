package org.sparkmpc.spark.catalyst;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.execution.ColumnarToRowExec;
import org.apache.spark.sql.execution.FilterExec;
import org.apache.spark.sql.execution.ProjectExec;
import org.apache.spark.sql.execution.SQLExecution;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.apache.spark.sql.execution.metric.SQLMetrics;
import org.sparkmpc.session.MpcContext;
import org.sparkmpc.session.OperatorScope;
import org.sparkmpc.spark.MpcRuntime;

/**
 * Base of the secure physical operators: the Scala-product boilerplate Catalyst needs, the SQL
 * metrics every secure operator shows (rounds, bytes sent, bytes received), and the driver-side
 * start of an operator: a deterministic operator id and the plan agreement with every peer before
 * any share moves.
 */
public abstract class SecureExec extends SparkPlan {
  private static final long serialVersionUID = 1L;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SecureExec.class);

  private transient Map<String, SQLMetric> metricMap;

  /** Constructor arguments in order (for Catalyst's reflective copies). */
  protected abstract Object[] fields();

  @Override
  public int productArity() {
    return fields().length;
  }

  @Override
  public Object productElement(int n) {
    return fields()[n];
  }

  @Override
  public boolean canEqual(Object that) {
    return that != null && that.getClass() == getClass();
  }

  @Override
  public boolean equals(Object o) {
    return o != null && o.getClass() == getClass()
        && Arrays.equals(fields(), ((SecureExec) o).fields());
  }

  @Override
  public int hashCode() {
    return getClass().hashCode() * 31 + Arrays.hashCode(fields());
  }

  @Override
  public scala.collection.immutable.Map<String, SQLMetric> metrics() {
    if (metricMap == null) {
      SparkContext sc = sparkContext();
      Map<String, SQLMetric> m = new HashMap<>();
      m.put("rounds", SQLMetrics.createMetric(sc, "MPC rounds"));
      m.put("bytesSent", SQLMetrics.createSizeMetric(sc, "MPC bytes sent", -1L));
      m.put("bytesReceived", SQLMetrics.createSizeMetric(sc, "MPC bytes received", -1L));
      m.put("rows", SQLMetrics.createMetric(sc, "rows processed"));
      metricMap = m;
    }
    return scala.collection.immutable.Map.from(scala.jdk.javaapi.CollectionConverters.asScala(metricMap));
  }

  protected SQLMetric metric(String name) {
    return metrics().apply(name);
  }

  /** Publish metric updates made on the driver (agreement and driver-side reveal rounds). */
  protected void postDriverMetrics() {
    String executionId = sparkContext().getLocalProperty(SQLExecution.EXECUTION_ID_KEY());
    List<SQLMetric> ms = new ArrayList<>(List.of(metric("rounds"), metric("bytesSent"),
        metric("bytesReceived")));
    SQLMetrics.postDriverMetricUpdates(sparkContext(), executionId, ScalaInterop.seq(ms));
  }

  /** The party runtime of this Spark session. */
  protected MpcRuntime runtime() {
    return MpcRuntime.getOrStart(session());
  }

  /**
   * Start this operator on the driver: its coordinates (the next operator id), then the plan
   * agreement, recorded in the metrics. Returns the operator's scope, which hands out its rounds.
   */
  protected OperatorScope begin(MpcRuntime rt, String description) {
    OperatorScope scope = rt.beginOperator(nodeName());
    agree(rt.context(), scope.id(), description);
    return scope;
  }

  /** {@code spark.mpc.reveal.minGroupSize} of the session the plan runs in. */
  static int minGroupSize(SparkPlan plan) {
    org.sparkmpc.spark.MpcConf.Setting<Integer> s = org.sparkmpc.spark.MpcConf.MIN_GROUP_SIZE;
    return s.parse(plan.conf().getConfString(s.key(), s.defaultValue()));
  }

  protected void agree(MpcContext ctx, long op, String description) {
    long t0 = System.nanoTime();
    ctx.agree(op, description);
    LOG.info("operator {}: {} agreed by all parties in {} ms", op, nodeName(),
        (System.nanoTime() - t0) / 1_000_000);
    long bytes = (long) description.getBytes(StandardCharsets.UTF_8).length * (ctx.parties() - 1);
    metric("rounds").add(1);
    metric("bytesSent").add(bytes);
    metric("bytesReceived").add(bytes);
  }

  /**
   * A description of an input plan that is the same at every party running the same query: secure
   * table scans by table id and partitioning contract, other operators by name and their public
   * expressions. It is sent to the peers by the plan agreement, so anything party-specific crosses
   * only as a digest salted with the session id: every literal, and any other leaf (a file path, a
   * local table). Parties that differ there still disagree, and the agreement refuses them, naming
   * the operator, but no peer learns the literal or the path. How a party executes the same plan
   * is its own choice and left out: whole-stage code generation (a party that turns it off, as a
   * notebook kernel must, still agrees with one that has it on) and columnar-to-row conversions.
   */
  protected static String describeInput(SparkPlan plan, MpcRuntime rt) {
    return describeInput(plan, rt.context().sessionId(), rt::contract);
  }

  /** As above, with the session id as {@code salt} and the contract of a table by its id. */
  static String describeInput(SparkPlan plan, String salt,
      java.util.function.Function<String, long[]> contracts) {
    if (plan instanceof SecureTableScanExec scan) {
      long[] contract = contracts.apply(scan.tableId());
      String c = contract == null ? "unregistered" : contractText(contract);
      return "SecureTable(" + scan.tableId() + ", " + c + ")" + names(scan.output());
    }
    String head;
    if (plan instanceof FilterExec f) {
      head = "Filter(" + publicSql(f.condition(), salt) + ")";
    } else if (plan instanceof ProjectExec p) {
      head = "Project" + names(p.output());
    } else if (plan instanceof ColumnarToRowExec
        || plan instanceof org.apache.spark.sql.execution.WholeStageCodegenExec
        || plan instanceof org.apache.spark.sql.execution.InputAdapter) {
      head = "";
    } else if (plan.children().isEmpty()) {
      head = plan.nodeName() + names(plan.output()) + "#" + digest(salt,
          plan.simpleString(100).replaceAll("#\\d+L?", ""));
    } else {
      head = plan.nodeName();
    }
    StringBuilder sb = new StringBuilder(head);
    for (SparkPlan c : ScalaInterop.list(plan.children())) {
      sb.append(head.isEmpty() ? "" : "<-").append(describeInput(c, salt, contracts));
    }
    return sb.toString();
  }

  /** The SQL of {@code e} with every literal replaced by its salted digest. */
  static String publicSql(org.apache.spark.sql.catalyst.expressions.Expression e, String salt) {
    return e.transform(ScalaInterop.rewrite(x -> x instanceof
        org.apache.spark.sql.catalyst.expressions.Literal lit
        ? new org.apache.spark.sql.catalyst.expressions.PrettyAttribute("literal#"
            + digest(salt, lit.dataType().simpleString() + ":" + lit.sql()), lit.dataType())
        : null)).sql();
  }

  /** A digest of a party-specific text, salted with the session id. */
  static String digest(String salt, String text) {
    return MpcContext.fingerprint(salt + "/" + text);
  }

  /** Partition count, total rows and a digest of rows per partition. */
  static String contractText(long[] rows) {
    long total = 0;
    StringBuilder sb = new StringBuilder();
    for (long r : rows) {
      total += r;
      sb.append(r).append(',');
    }
    return rows.length + " partitions, " + total + " rows, layout "
        + MpcContext.fingerprint(sb.toString());
  }

  static String names(scala.collection.Seq<Attribute> attrs) {
    StringBuilder sb = new StringBuilder("[");
    for (Attribute a : ScalaInterop.list(attrs)) {
      if (sb.length() > 1) {
        sb.append(", ");
      }
      sb.append(a.name()).append(':').append(a.dataType().simpleString());
    }
    return sb.append(']').toString();
  }
}
