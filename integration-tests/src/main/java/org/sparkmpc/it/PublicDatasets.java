package org.sparkmpc.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Small public tables for accuracy tests: the data files that Debian's scikit-learn package ships,
 * which {@code datasets/fetch.sh} copies to {@code datasets/target/sklearn/} (what each one is and
 * where it comes from: {@code datasets/README.md}). Each method reads one file into a {@link Table}
 * of named double features and a label, shaped for one task: three binary classifications (label
 * 0 or 1) and two regressions.
 *
 * <p>The folder is the system property {@value #DIR_PROPERTY} when set, else {@code
 * datasets/target/sklearn} under the nearest folder, from the working directory up, that holds
 * {@code datasets/}. A missing file is an {@link IllegalStateException} that says to run {@code
 * datasets/fetch.sh}.
 */
public final class PublicDatasets {
  /** System property naming the folder that holds the data files themselves. */
  public static final String DIR_PROPERTY = "sparkmpc.datasets";
  /** Name of the label column of {@link #toDataFrame}. */
  public static final String LABEL = "label";

  private static final String[] BREAST_CANCER_MEASURES = {"radius", "texture", "perimeter", "area",
      "smoothness", "compactness", "concavity", "concave_points", "symmetry", "fractal_dimension"};
  private static final String[] WINE = {"alcohol", "malic_acid", "ash", "alcalinity_of_ash",
      "magnesium", "total_phenols", "flavanoids", "nonflavanoid_phenols", "proanthocyanins",
      "color_intensity", "hue", "od280_od315_of_diluted_wines", "proline"};
  private static final String[] IRIS = {"sepal_length", "sepal_width", "petal_length",
      "petal_width"};
  private static final String[] DIABETES = {"age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4",
      "s5", "s6"};

  private PublicDatasets() {}

  /**
   * A table of double features and a label, copied in and out so that no caller can change it.
   *
   * @param columns the feature names, one per column of {@code rows}
   * @param rows    the features, row-major: {@code rows[i][j]} is feature {@code columns[j]} of row
   *                {@code i}
   * @param label   the label of each row
   */
  public record Table(String[] columns, double[][] rows, double[] label) {
    public Table {
      if (rows.length != label.length) {
        throw new IllegalArgumentException(rows.length + " rows but " + label.length + " labels");
      }
      columns = columns.clone();
      rows = deepCopy(rows);
      for (double[] row : rows) {
        if (row.length != columns.length) {
          throw new IllegalArgumentException("a row of " + row.length + " values for "
              + columns.length + " columns");
        }
      }
      label = label.clone();
    }

    @Override
    public String[] columns() {
      return columns.clone();
    }

    @Override
    public double[][] rows() {
      return deepCopy(rows);
    }

    @Override
    public double[] label() {
      return label.clone();
    }

    /** The number of rows. */
    public int rowCount() {
      return rows.length;
    }

    /** The values of feature {@code name}, one per row. */
    public double[] column(String name) {
      int j = Arrays.asList(columns).indexOf(name);
      if (j < 0) {
        throw new IllegalArgumentException("no column " + name + " in " + Arrays.toString(columns));
      }
      double[] values = new double[rows.length];
      for (int i = 0; i < rows.length; i++) {
        values[i] = rows[i][j];
      }
      return values;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Table t && Arrays.equals(columns, t.columns)
          && Arrays.deepEquals(rows, t.rows) && Arrays.equals(label, t.label);
    }

    @Override
    public int hashCode() {
      return 31 * (31 * Arrays.hashCode(columns) + Arrays.deepHashCode(rows))
          + Arrays.hashCode(label);
    }

    @Override
    public String toString() {
      return "Table[" + rows.length + " rows, columns " + Arrays.toString(columns) + "]";
    }

    private static double[][] deepCopy(double[][] a) {
      double[][] c = new double[a.length][];
      for (int i = 0; i < a.length; i++) {
        c[i] = a[i].clone();
      }
      return c;
    }
  }

  /**
   * Breast Cancer Wisconsin (Diagnostic): 569 rows, 30 features ({@code mean_radius}, ..., {@code
   * radius_error}, ..., {@code worst_fractal_dimension}); label 1 = benign (357 rows), 0 = malignant,
   * as in the file's last column.
   */
  public static Table breastCancer() {
    List<String> names = new ArrayList<>();
    for (String prefix : new String[] {"mean_", "", "worst_"}) {
      for (String m : BREAST_CANCER_MEASURES) {
        names.add(prefix.isEmpty() ? m + "_error" : prefix + m);
      }
    }
    Classes c = classes("breast_cancer.csv", names.size());
    return new Table(names.toArray(String[]::new), c.features, binary(c.classes, 1));
  }

  /** Wine: 178 rows, 13 chemical features; label 1 for the 59 wines of cultivar (class) 0. */
  public static Table wineClass0() {
    Classes c = classes("wine_data.csv", WINE.length);
    return new Table(WINE, c.features, binary(c.classes, 0));
  }

  /**
   * Iris, the 100 flowers of classes 1 (versicolor, label 0) and 2 (virginica, label 1), in the
   * file's order; 4 features {@code sepal_length}, {@code sepal_width}, {@code petal_length}, {@code
   * petal_width} (cm). Setosa is left out: it is linearly separable from the other two.
   */
  public static Table irisVersicolorVsVirginica() {
    Classes c = classes("iris.csv", IRIS.length);
    List<double[]> rows = new ArrayList<>();
    List<Double> label = new ArrayList<>();
    for (int i = 0; i < c.classes.length; i++) {
      if (c.classes[i] == 1 || c.classes[i] == 2) {
        rows.add(c.features[i]);
        label.add(c.classes[i] == 2 ? 1.0 : 0.0);
      }
    }
    return new Table(IRIS, rows.toArray(double[][]::new),
        label.stream().mapToDouble(Double::doubleValue).toArray());
  }

  /**
   * Diabetes (Efron et al.), not scaled: 442 rows, 10 features {@code age}, {@code sex} (1 or 2),
   * {@code bmi}, {@code bp}, {@code s1} ... {@code s6}; label a measure of disease progression one
   * year later (25 to 346).
   */
  public static Table diabetesRaw() {
    List<String[]> x = lines("diabetes_data_raw.csv.gz", "\\s+");
    List<String[]> y = lines("diabetes_target.csv.gz", "\\s+");
    if (x.size() != y.size()) {
      throw new IllegalStateException("diabetes: " + x.size() + " rows of features but " + y.size()
          + " targets; run datasets/fetch.sh again");
    }
    double[][] rows = new double[x.size()][];
    double[] label = new double[y.size()];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = numbers("diabetes_data_raw.csv.gz", i + 1, x.get(i), DIABETES.length);
      label[i] = numbers("diabetes_target.csv.gz", i + 1, y.get(i), 1)[0];
    }
    return new Table(DIABETES, rows, label);
  }

  /**
   * Boston house prices (Harrison and Rubinfeld): 506 rows, the 13 features named in the file's
   * header ({@code CRIM}, ..., {@code LSTAT}); label {@code MEDV}, the median home value in $1000s.
   */
  public static Table bostonRaw() {
    String file = "boston_house_prices.csv";
    List<String[]> lines = lines(file, ",");
    int[] counts = header(file, lines.get(0));
    String[] header = lines.get(1);
    int features = counts[1];
    if (header.length != features + 1) {
      throw new IllegalStateException(file + ": a header of " + header.length + " names for "
          + features + " features and a label");
    }
    String[] columns = new String[features];
    for (int j = 0; j < features; j++) {
      columns[j] = header[j].replace("\"", "").trim();
    }
    List<String[]> data = lines.subList(2, lines.size());
    checkRows(file, counts[0], data.size());
    double[][] rows = new double[data.size()][];
    double[] label = new double[data.size()];
    for (int i = 0; i < rows.length; i++) {
      double[] v = numbers(file, i + 3, data.get(i), features + 1);
      rows[i] = Arrays.copyOf(v, features);
      label[i] = v[features];
    }
    return new Table(columns, rows, label);
  }

  /**
   * The table as a DataFrame: one non-null double column per feature, with the table's names, and
   * the label as the double column {@value #LABEL}; the rows in the table's order.
   */
  public static Dataset<Row> toDataFrame(SparkSession spark, Table table) {
    StructType schema = new StructType();
    for (String c : table.columns) {
      schema = schema.add(c, DataTypes.DoubleType, false);
    }
    schema = schema.add(LABEL, DataTypes.DoubleType, false);
    List<Row> rows = new ArrayList<>(table.rowCount());
    for (int i = 0; i < table.rowCount(); i++) {
      Object[] values = new Object[table.columns.length + 1];
      for (int j = 0; j < table.columns.length; j++) {
        values[j] = table.rows[i][j];
      }
      values[table.columns.length] = table.label[i];
      rows.add(RowFactory.create(values));
    }
    return spark.createDataFrame(rows, schema);
  }

  /** The folder of the data files (see the class comment); it need not exist. */
  public static Path directory() {
    String set = System.getProperty(DIR_PROPERTY);
    if (set != null && !set.isBlank()) {
      return Path.of(set).toAbsolutePath();
    }
    Path start = Path.of("").toAbsolutePath();
    for (Path p = start; p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("datasets"))) {
        return p.resolve("datasets").resolve("target").resolve("sklearn");
      }
    }
    throw new IllegalStateException("no folder datasets/ in " + start + " or above it; run the "
        + "tests from the project, or set -D" + DIR_PROPERTY + " to the folder that "
        + "datasets/fetch.sh fills");
  }

  /** A classification file: a first line "rows,features,class names...", features, class last. */
  private record Classes(double[][] features, int[] classes) {}

  private static Classes classes(String file, int features) {
    List<String[]> lines = lines(file, ",");
    int[] counts = header(file, lines.get(0));
    if (counts[1] != features) {
      throw new IllegalStateException(file + " has " + counts[1] + " features, not " + features);
    }
    List<String[]> data = lines.subList(1, lines.size());
    checkRows(file, counts[0], data.size());
    double[][] x = new double[data.size()][];
    int[] classes = new int[data.size()];
    for (int i = 0; i < x.length; i++) {
      double[] v = numbers(file, i + 2, data.get(i), features + 1);
      x[i] = Arrays.copyOf(v, features);
      classes[i] = (int) v[features];
      if (classes[i] != v[features]) {
        throw new IllegalStateException(file + ", line " + (i + 2) + ": class " + v[features]
            + " is not a whole number");
      }
    }
    return new Classes(x, classes);
  }

  private static double[] binary(int[] classes, int positive) {
    double[] label = new double[classes.length];
    for (int i = 0; i < classes.length; i++) {
      label[i] = classes[i] == positive ? 1.0 : 0.0;
    }
    return label;
  }

  /** The row and feature counts of a first line such as {@code 569,30,malignant,benign}. */
  private static int[] header(String file, String[] first) {
    try {
      return new int[] {Integer.parseInt(first[0].trim()), Integer.parseInt(first[1].trim())};
    } catch (RuntimeException e) {
      throw new IllegalStateException(file + ": the first line is not \"rows,features,...\": "
          + String.join(",", first), e);
    }
  }

  private static void checkRows(String file, int declared, int found) {
    if (declared != found) {
      throw new IllegalStateException(file + " declares " + declared + " rows but has " + found
          + "; run datasets/fetch.sh again");
    }
  }

  private static double[] numbers(String file, int line, String[] fields, int expected) {
    if (fields.length != expected) {
      throw new IllegalStateException(file + ", line " + line + ": " + fields.length
          + " values, expected " + expected);
    }
    double[] v = new double[expected];
    for (int j = 0; j < expected; j++) {
      try {
        v[j] = Double.parseDouble(fields[j].trim());
      } catch (NumberFormatException e) {
        throw new IllegalStateException(file + ", line " + line + ": not a number: " + fields[j], e);
      }
    }
    return v;
  }

  /** The non-blank lines of {@code file} (gzip when its name ends in .gz), split by {@code sep}. */
  private static List<String[]> lines(String file, String sep) {
    Path path = directory().resolve(file);
    if (!Files.isRegularFile(path)) {
      throw new IllegalStateException("the data set file " + path + " is missing; run "
          + "datasets/fetch.sh (it copies the files from Debian's python3-sklearn package)");
    }
    List<String[]> out = new ArrayList<>();
    try (InputStream raw = Files.newInputStream(path);
        InputStream in = file.endsWith(".gz") ? new GZIPInputStream(raw) : raw;
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (!line.isBlank()) {
          out.add(line.trim().split(sep));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + path, e);
    }
    if (out.isEmpty()) {
      throw new IllegalStateException(path + " is empty; run datasets/fetch.sh again");
    }
    return out;
  }
}
