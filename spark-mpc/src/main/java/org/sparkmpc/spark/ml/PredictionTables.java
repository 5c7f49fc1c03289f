package org.sparkmpc.spark.ml;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.storage.StorageLevel;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.spark.SparkMpc;
import org.sparkmpc.spark.catalyst.ScalaInterop;
import org.sparkmpc.spark.table.SecureTable;
import org.sparkmpc.spark.table.SharePartition;
import org.sparkmpc.spark.types.ShareType;

/**
 * What the models' {@code transform}s share: the check of the feature columns against the model,
 * the table's partitions with the predictions as more share columns, and the new secure table.
 */
final class PredictionTables {
  private PredictionTables() {}

  /**
   * The left shifts that bring the feature columns to the model's {@code scale}; an error naming a
   * column with a finer scale, or (when {@code bound} is given) with values beyond the training
   * data's bound {@code 2^bound[i]} at that scale.
   */
  static int[] upShifts(String caller, String[] names, SecureLinearRegression.Columns cols,
      int scale, int[] bound) {
    int[] up = new int[names.length];
    for (int i = 0; i < names.length; i++) {
      if (cols.scale()[i] > scale) {
        throw new MpcInputException(caller + ": column '" + names[i] + "' has scale "
            + cols.scale()[i] + " bits, more than the model's " + scale);
      }
      up[i] = scale - cols.scale()[i];
      if (bound != null && cols.bits()[i] + up[i] > bound[i]) {
        throw new MpcInputException(caller + ": column '" + names[i] + "' has values up to 2^"
            + (cols.bits()[i] + up[i] - scale) + ", beyond the 2^" + (bound[i] - scale)
            + " of the training data the model was fitted on");
      }
    }
    return up;
  }

  /** {@code part} with the share columns {@code add} after its own (zeros when null). */
  static SharePartition append(SharePartition part, long[][] add, int[] bits) {
    int k = part.secureColumns();
    int m = bits.length;
    long[][] shares = new long[k + m][];
    long[][] highs = new long[k + m][];
    int[] width = new int[k + m];
    for (int c = 0; c < k; c++) {
      shares[c] = part.shares(c);
      highs[c] = part.highs(c);
      width[c] = part.bits(c);
    }
    for (int c = 0; c < m; c++) {
      shares[k + c] = add == null || add[c] == null ? new long[part.rows()] : add[c];
      width[k + c] = bits[c];
    }
    int[][] codes = new int[part.publicColumns()][];
    Object[][] dicts = new Object[part.publicColumns()][];
    for (int p = 0; p < codes.length; p++) {
      codes[p] = part.codes(p);
      dicts[p] = part.dictionary(p);
    }
    return new SharePartition(part.rows(), shares, highs, width, codes, dicts);
  }

  /**
   * The partitions of {@code t}, each with the share columns of its deep stage's result (indexed
   * by partition; null for an empty one) after its own.
   */
  static JavaRDD<SharePartition> withColumns(SecureTable t, List<long[][]> results, int[] bits) {
    JavaRDD<long[][]> res = JavaSparkContext.fromSparkContext(t.partitions().context())
        .parallelize(new ArrayList<>(results), t.contract().length);
    return t.partitions().zipPartitions(res,
        (Iterator<SharePartition> a, Iterator<long[][]> b) -> a.hasNext()
            ? List.of(append(a.next(), b.hasNext() ? b.next() : null, bits)).iterator()
            : List.<SharePartition>of().iterator());
  }

  /**
   * Cache {@code parts} and register them as secure table {@code id}: {@code t}'s columns, then
   * secure columns {@code names} of {@code types}.
   */
  static Dataset<Row> register(SparkMpc mpc, SecureTable t, String id,
      JavaRDD<SharePartition> parts, String[] names, ShareType[] types) {
    parts.persist(StorageLevel.MEMORY_AND_DISK());
    parts.count();
    List<Attribute> output = new ArrayList<>();
    for (Attribute a : t.output()) {
      output.add(new AttributeReference(a.name(), a.dataType() instanceof ShareType st
          ? st.inTable(id) : a.dataType(), a.nullable(), a.metadata(),
          NamedExpression.newExprId(), ScalaInterop.seqOf()));
    }
    int shareCols = 0;
    for (boolean s : t.secure()) {
      shareCols += s ? 1 : 0;
    }
    int first = output.size();
    for (int c = 0; c < names.length; c++) {
      output.add(new AttributeReference(names[c], types[c], false, Metadata.empty(),
          NamedExpression.newExprId(), ScalaInterop.seqOf()));
    }
    boolean[] secure = Arrays.copyOf(t.secure(), output.size());
    int[] index = Arrays.copyOf(t.index(), output.size());
    for (int c = 0; c < names.length; c++) {
      secure[first + c] = true;
      index[first + c] = shareCols + c;
    }
    return mpc.registerSecureTable(new SecureTable(id, output, secure, index, parts,
        t.contract().clone(), Arrays.copyOf(t.wide(), shareCols + names.length)));
  }
}
