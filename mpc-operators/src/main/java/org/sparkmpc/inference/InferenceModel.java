package org.sparkmpc.inference;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.protocol.Sigmoid;

/**
 * A linear or logistic-regression model as one party brings it to a secure inference session:
 * either the plaintext coefficients and intercept (at the model owner), or this party's additive
 * shares of them at a fixed-point scale (when the model was trained secret-shared, every computing
 * party brings its own shares; a party that holds none brings no model, and its shares are zero).
 *
 * <p>What it computes: the logit {@code w·x + b}; for a {@link Kind#LOGISTIC} model the
 * probability {@code σ(w·x + b)} (in MPC the piecewise-cubic {@link Sigmoid}, whose plaintext twin
 * {@link #predict} gives), for a {@link Kind#LINEAR} model the value {@code w·x + b} itself.
 *
 * <p>What it reveals: nothing by itself. Its {@link #toString} and every error it raises name the
 * kind, the number of features and the index (and name, if given) of a feature at fault, never a
 * coefficient or a share. Feature names are public metadata: an inference session shows them to
 * every party.
 *
 * <p>Immutable; the arrays it is built from are copied.
 */
public final class InferenceModel {

  /** What the model outputs. */
  public enum Kind {
    /** {@code σ(w·x + b)}, a probability; label-only mode gives {@code [w·x + b ≥ 0]}. */
    LOGISTIC,
    /** {@code w·x + b}, a value; no label-only mode. */
    LINEAR;

    /** The lower-case name used in files and on the command line. */
    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The kind named {@code id} ({@code logistic} or {@code linear}, any case). */
    public static Kind parse(String id) {
      for (Kind k : values()) {
        if (k.id().equalsIgnoreCase(id.trim())) {
          return k;
        }
      }
      throw new MpcInputException("unknown model kind '" + id + "': logistic or linear");
    }
  }

  /** The default fixed-point scale of plaintext coefficients: 2^16, as the project's columns. */
  public static final int DEFAULT_SCALE = 16;

  private final Kind kind;
  private final int features;
  private final double[] coefficients;
  private final double intercept;
  private final long[] shares;
  private final int scale;
  private final List<String> names;

  private InferenceModel(Kind kind, int features, double[] coefficients, double intercept,
      long[] shares, int scale, List<String> names) {
    this.kind = kind;
    this.features = features;
    this.coefficients = coefficients;
    this.intercept = intercept;
    this.shares = shares;
    this.scale = scale;
    this.names = names;
  }

  /** A plaintext logistic-regression model: {@code P(y = 1 | x) = σ(coefficients·x + intercept)}. */
  public static InferenceModel logistic(double[] coefficients, double intercept) {
    return plaintext(Kind.LOGISTIC, coefficients, intercept);
  }

  /** A plaintext linear model: {@code y = coefficients·x + intercept}. */
  public static InferenceModel linear(double[] coefficients, double intercept) {
    return plaintext(Kind.LINEAR, coefficients, intercept);
  }

  /**
   * A plaintext model at its owner.
   *
   * @throws MpcInputException if there is no coefficient, or a coefficient or the intercept is
   *     NaN or infinite (naming which)
   */
  public static InferenceModel plaintext(Kind kind, double[] coefficients, double intercept) {
    if (kind == null) {
      throw new MpcInputException("the model has no kind (logistic or linear)");
    }
    if (coefficients == null || coefficients.length == 0) {
      throw new MpcInputException("the model has no coefficients: a model takes at least one "
          + "feature");
    }
    double[] c = coefficients.clone();
    for (int i = 0; i < c.length; i++) {
      if (!Double.isFinite(c[i])) {
        throw new MpcInputException("coefficient " + i + " of the model is "
            + (Double.isNaN(c[i]) ? "NaN" : "infinite") + "; every coefficient must be finite");
      }
    }
    if (!Double.isFinite(intercept)) {
      throw new MpcInputException("the model's intercept is "
          + (Double.isNaN(intercept) ? "NaN" : "infinite") + "; it must be finite");
    }
    return new InferenceModel(kind, c.length, c, intercept, null, DEFAULT_SCALE, null);
  }

  /**
   * This party's additive shares of a model trained secret-shared: {@code coefficientShares[i]}
   * and {@code interceptShare} at {@code scale} fractional bits. The computing parties' shares
   * sum to the model in Z(2^64); every party of the session brings its own (with the same kind,
   * number of features and scale).
   */
  public static InferenceModel fromShares(Kind kind, long[] coefficientShares, long interceptShare,
      int scale) {
    if (kind == null) {
      throw new MpcInputException("the model has no kind (logistic or linear)");
    }
    if (coefficientShares == null || coefficientShares.length == 0) {
      throw new MpcInputException("the model shares hold no coefficient: a model takes at least "
          + "one feature");
    }
    checkScale(scale);
    long[] s = Arrays.copyOf(coefficientShares, coefficientShares.length + 1);
    s[coefficientShares.length] = interceptShare;
    return new InferenceModel(kind, coefficientShares.length, null, 0, s, scale, null);
  }

  /**
   * A plaintext model from a CSV file in the format the party runner writes ({@code
   * output/model.csv}): a header {@code term,value}, one line per feature ({@code name,coefficient})
   * in order, {@code (intercept),value}, and optionally {@code (r2),value} (ignored). Lines that
   * are empty or start with {@code #} are skipped. The feature names become the model's.
   *
   * @throws MpcInputException naming the file and line of a malformed entry
   */
  public static InferenceModel readCsv(Path file, Kind kind) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the model file " + file + ": " + e.getMessage(),
          e);
    }
    List<String> names = new ArrayList<>();
    List<Double> coef = new ArrayList<>();
    Double intercept = null;
    boolean header = false;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).trim();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int comma = line.lastIndexOf(',');
      if (!header) {
        header = true;
        if (line.equalsIgnoreCase("term,value")) {
          continue;
        }
      }
      String where = file + ", line " + (i + 1);
      if (comma <= 0) {
        throw new MpcInputException(where + ": expected 'term,value'");
      }
      String term = line.substring(0, comma).trim();
      double v;
      try {
        v = Double.parseDouble(line.substring(comma + 1).trim());
      } catch (NumberFormatException e) {
        throw new MpcInputException(where + ": the value of '" + term + "' is not a number");
      }
      if (term.equals("(intercept)")) {
        if (intercept != null) {
          throw new MpcInputException(where + ": a second (intercept)");
        }
        intercept = v;
      } else if (term.startsWith("(")) {
        continue; // (r2) and other statistics of the fit
      } else {
        if (intercept != null) {
          throw new MpcInputException(where + ": feature '" + term + "' after the intercept");
        }
        if (!Double.isFinite(v)) {
          throw new MpcInputException(where + ": the coefficient of feature " + coef.size()
              + " ('" + term + "') is " + (Double.isNaN(v) ? "NaN" : "infinite"));
        }
        names.add(term);
        coef.add(v);
      }
    }
    if (coef.isEmpty()) {
      throw new MpcInputException(file + " holds no coefficient (expected 'term,value' lines "
          + "as the party runner's model.csv)");
    }
    double[] c = new double[coef.size()];
    for (int i = 0; i < c.length; i++) {
      c[i] = coef.get(i);
    }
    return plaintext(kind, c, intercept == null ? 0 : intercept).withFeatureNames(names);
  }

  /**
   * The same model with public feature names, one per feature (shown to every party of a session,
   * and used by the command-line client to check a header row).
   */
  public InferenceModel withFeatureNames(List<String> featureNames) {
    if (featureNames.size() != features) {
      throw new MpcInputException("the model has " + features + " features but "
          + featureNames.size() + " feature names were given");
    }
    for (int i = 0; i < featureNames.size(); i++) {
      String n = featureNames.get(i);
      if (n == null || n.isBlank() || n.contains(",") || n.contains("\n")) {
        throw new MpcInputException("feature name " + i + " is empty or holds a comma or a "
            + "line break");
      }
    }
    return new InferenceModel(kind, features, coefficients, intercept, shares, scale,
        List.copyOf(featureNames));
  }

  /**
   * The same plaintext model, encoded at {@code bits} fractional bits when it is shared (default
   * {@value #DEFAULT_SCALE}).
   */
  public InferenceModel withScale(int bits) {
    if (shares != null) {
      throw new MpcInputException("the scale of a shared model is the scale of its shares");
    }
    checkScale(bits);
    return new InferenceModel(kind, features, coefficients, intercept, null, bits, names);
  }

  private static void checkScale(int bits) {
    if (bits < 8 || bits > 24) {
      throw new MpcInputException("the model's fixed-point scale must be 8 to 24 bits, was "
          + bits);
    }
  }

  /** Logistic or linear. */
  public Kind kind() {
    return kind;
  }

  /** The number of features a row must have. */
  public int features() {
    return features;
  }

  /** Whether this is the plaintext model (at its owner) rather than this party's shares. */
  public boolean isPlaintext() {
    return coefficients != null;
  }

  /** Fractional bits of the model's fixed-point encoding (of its shares, or when it is shared). */
  public int scale() {
    return scale;
  }

  /** The feature names, or an empty list when none were given. */
  public List<String> featureNames() {
    return names == null ? List.of() : names;
  }

  /** A copy of the plaintext coefficients (owner only). */
  public double[] coefficients() {
    requirePlaintext();
    return coefficients.clone();
  }

  /** The plaintext intercept (owner only). */
  public double intercept() {
    requirePlaintext();
    return intercept;
  }

  private void requirePlaintext() {
    if (coefficients == null) {
      throw new IllegalStateException("this party holds shares of the model, not its values");
    }
  }

  /** The plaintext logit {@code w·x + b} (owner only). */
  public double logit(double[] row) {
    requirePlaintext();
    checkRow(row, -1, features, Double.MAX_VALUE);
    double s = intercept;
    for (int i = 0; i < features; i++) {
      s += coefficients[i] * row[i];
    }
    return s;
  }

  /**
   * The plaintext twin of the secure prediction (owner only): {@code Sigmoid.approximate} of the
   * logit for a logistic model (the function the secure path computes, within fixed-point
   * rounding), the logit for a linear one.
   */
  public double predict(double[] row) {
    double z = logit(row);
    return kind == Kind.LOGISTIC ? Sigmoid.approximate(z) : z;
  }

  /** The plaintext label {@code [w·x + b ≥ 0]} of a logistic model (owner only). */
  public int predictLabel(double[] row) {
    if (kind != Kind.LOGISTIC) {
      throw new MpcInputException("label-only prediction needs a logistic model; this one is "
          + kind.id());
    }
    return logit(row) >= 0 ? 1 : 0;
  }

  /**
   * This party's shares of {@code [w_0..w_{d-1}, b]} at {@link #scale()}: the encoded plaintext
   * values at the owner (to be shared), the shares themselves otherwise.
   */
  long[] encodedOrShares() {
    if (shares != null) {
      return shares.clone();
    }
    long[] v = new long[features + 1];
    double unit = Math.scalb(1.0, scale);
    for (int i = 0; i < features; i++) {
      v[i] = encode(coefficients[i], unit, "coefficient " + i + featureLabel(i));
    }
    v[features] = encode(intercept, unit, "the intercept");
    return v;
  }

  private static long encode(double v, double unit, String what) {
    double s = v * unit;
    if (!(Math.abs(s) < 0x1p62)) {
      throw new MpcInputException(what + " of the model is outside the fixed-point range");
    }
    return Math.round(s);
  }

  /**
   * {@code Σ|w_i| + |b|} of the plaintext model, for the owner's check that no admissible row can
   * take the logit out of the ring's exact range.
   */
  double absoluteSum() {
    requirePlaintext();
    double s = Math.abs(intercept);
    for (double c : coefficients) {
      s += Math.abs(c);
    }
    return s;
  }

  String featureLabel(int i) {
    return names == null ? "" : " ('" + names.get(i) + "')";
  }

  /**
   * Check one row: {@code features} values, each finite and of magnitude at most {@code maxAbs}.
   * The error names the row (when {@code rowIndex >= 0}) and the feature index, never a value.
   */
  static void checkRow(double[] row, int rowIndex, int features, double maxAbs) {
    String which = rowIndex >= 0 ? "row " + rowIndex : "the row";
    if (row == null) {
      throw new MpcInputException(which + " is null");
    }
    if (row.length != features) {
      throw new MpcInputException(which + " has " + row.length + " features; the model takes "
          + features);
    }
    for (int i = 0; i < features; i++) {
      double v = row[i];
      if (Double.isNaN(v)) {
        throw new MpcInputException("feature " + i + " of " + which + " is NaN");
      }
      if (!(Math.abs(v) <= maxAbs)) {
        throw new MpcInputException("feature " + i + " of " + which + " is "
            + (Double.isInfinite(v) ? "infinite" : "outside the inference range (magnitude at "
                + "most " + (long) maxAbs + ")"));
      }
    }
  }

  @Override
  public String toString() {
    return "InferenceModel(" + kind.id() + ", " + features + " features, "
        + (isPlaintext() ? "plaintext" : "shares at 2^-" + scale) + ")";
  }
}
