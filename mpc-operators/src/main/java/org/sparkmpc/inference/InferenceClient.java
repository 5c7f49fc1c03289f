package org.sparkmpc.inference;

import java.util.List;
import java.util.Map;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.correlation.CorrelationSource;
import org.sparkmpc.session.MpcContext;

/**
 * The client of a secure inference session: it holds private rows, the model's owner (an {@link
 * InferenceServer}, and any other holders of model shares) holds the model, and each request
 * gives the client, and nobody else, the model's output on its rows.
 *
 * <p><b>What a request computes.</b> The client secret-shares its row(s) (seed-compressed: no
 * traffic), the parties compute the logit {@code w·x + b} as one shared matrix product with the
 * model's shares (made once, when the session opened), and then
 * <ul>
 *   <li>{@link #predictProbability} / {@link #predict}: for a logistic model the piecewise-cubic
 *       sigmoid of the logit ({@link org.sparkmpc.protocol.ProductSigmoid}, within {@value
 *       org.sparkmpc.protocol.Sigmoid#MAX_ERROR} of {@code σ}), its comparisons on the logit at
 *       its full scale; for a linear model a truncation of the logit;
 *   <li>{@link #predictLabel}: one secure comparison of the logit with 0, on the logit at its
 *       full scale (no truncation), so the label is exactly {@code [w·x + b >= 0]} of the
 *       encoded model and row; its XOR-shared bit is opened without a conversion round.
 * </ul>
 * Only the result is opened, and only to the client.
 *
 * <p><b>Rounds per request</b> after the header (one message per peer per round, whatever the
 * row count of a chunk): 1 (dot product) + 10 (sigmoid: a single row's {@link
 * org.sparkmpc.protocol.LinearPiecesSigmoid}, a chunk's {@link
 * org.sparkmpc.protocol.ProductSigmoid} with its powers beside the comparisons) + 1 (opening) = 12
 * for a probability; 1 + 7 + 1 = 9 for a label; 3 for a linear value. <b>Bytes</b> to each other
 * computing party, with the dealer: per single row about {@code 16·d} (the masked row and model)
 * + 2,100 for a probability or + 1,900 for a label (the comparisons' AND gates travel in words of
 * 64 elements, so one row costs as much as 64); per row of a batch about {@code 16·d} + 375
 * (probability) or + 38 (label), and 8 (the opening, servers to client only). The correlated
 * randomness of the next single-row requests is prepared in the background, one batch for {@link
 * InferenceSettings#poolDepth()} requests ({@code 2·poolDepth} at most are prepared).
 *
 * <p><b>What it reveals.</b> To the client: the output of each request (the probability at
 * {@code 2^-scale}, the value, or the label bit), and the model's public shape (kind, number of
 * features and their names). To the servers: the number of rows and the mode of each request;
 * every value they receive from the client is masked by fresh uniform randomness. Rows are checked
 * at the client before anything is sent: a row with the wrong number of features, a NaN, an
 * infinite value or a value beyond {@code 2^maxFeatureBits} is refused naming the row and the
 * feature index (never the value).
 *
 * <p><b>Failures.</b> A peer that is down or does not answer within the session's timeout fails
 * the request with an error naming the peer and the round; the session is then unusable (open a new
 * one). Not thread-safe across requests: calls are serialised.
 */
public final class InferenceClient implements AutoCloseable {
  private final InferenceSession session;

  private InferenceClient(InferenceSession session) {
    this.session = session;
  }

  /**
   * Open the session as the client, holding no part of the model (this party's own name in
   * {@code ctx} is the client's). Every server opens its side at the same time.
   */
  public static InferenceClient open(MpcContext ctx, CorrelationSource source,
      InferenceSettings settings) {
    return open(ctx, source, settings, null);
  }

  /**
   * Open the session as the client that also holds shares of a model trained secret-shared
   * ({@code modelShares}, or null when it holds none).
   */
  public static InferenceClient open(MpcContext ctx, CorrelationSource source,
      InferenceSettings settings, InferenceModel modelShares) {
    if (modelShares != null && modelShares.isPlaintext()) {
      throw new MpcInputException("the client holds the plaintext model: it can predict by "
          + "itself; a model's owner serves it with InferenceServer");
    }
    return new InferenceClient(InferenceSession.open(ctx, source, settings,
        ctx.directory().self().name(), modelShares));
  }

  /** The probability {@code σ(w·x + b)} of a logistic model for one row. */
  public synchronized double predictProbability(double[] row) {
    requireLogistic("predictProbability");
    return predict(new double[][] {checked(row)})[0];
  }

  /**
   * The label {@code [w·x + b >= 0]} (1 when the probability is at least one half) of a logistic
   * model for one row: the client learns only this bit.
   */
  public synchronized int predictLabel(double[] row) {
    return predictLabels(new double[][] {checked(row)})[0];
  }

  /**
   * The outputs for many rows in one request: probabilities of a logistic model, values of a
   * linear one. The rows go through the protocol in chunks of {@link
   * InferenceSettings#chunkRows()}.
   */
  public synchronized double[] predict(double[][] rows) {
    check(rows);
    long[] out = session.clientRequest(InferenceSession.MODE_PROBABILITY, rows);
    double[] v = new double[out.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.scalb((double) out[i], -session.settings.scale());
    }
    return v;
  }

  /** The labels of many rows in one request (logistic models). */
  public synchronized int[] predictLabels(double[][] rows) {
    requireLogistic("predictLabel");
    check(rows);
    long[] out = session.clientRequest(InferenceSession.MODE_LABEL, rows);
    int[] v = new int[out.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = (int) out[i];
    }
    return v;
  }

  private double[] checked(double[] row) {
    InferenceModel.checkRow(row, -1, session.features, session.settings.maxAbsFeature());
    return row;
  }

  private void check(double[][] rows) {
    if (rows == null || rows.length == 0) {
      throw new MpcInputException("no rows to predict");
    }
    for (int i = 0; i < rows.length; i++) {
      InferenceModel.checkRow(rows[i], rows.length == 1 ? -1 : i, session.features,
          session.settings.maxAbsFeature());
    }
  }

  private void requireLogistic(String what) {
    if (session.kind != InferenceModel.Kind.LOGISTIC) {
      throw new MpcInputException(what + " needs a logistic model; this session serves a "
          + session.kind.id() + " one (use predict)");
    }
  }

  /** The number of features a row must have (the model's public shape). */
  public int features() {
    return session.features;
  }

  /** The model's kind. */
  public InferenceModel.Kind kind() {
    return session.kind;
  }

  /** The model's feature names, if its owner gave them; else an empty list. */
  public List<String> featureNames() {
    return session.featureNames;
  }

  /** The session's settings. */
  public InferenceSettings settings() {
    return session.settings;
  }

  /** Requests made so far. */
  public long requests() {
    return session.requests();
  }

  /**
   * Where the time of a request goes at the client, in mean milliseconds per request: {@code
   * material} (waiting for correlated randomness), {@code logit} (sharing and dot product),
   * {@code tail} (truncation and sigmoid, or the comparison), {@code reveal}.
   */
  public Map<String, Double> phaseMillis() {
    return session.phaseMillis();
  }

  /**
   * End the session: the servers are told, the prepared randomness is dropped, the dealer (if
   * any) is told the session is over, and the session ends in this party's channel. After a
   * failure, only this party's part.
   */
  @Override
  public synchronized void close() {
    session.clientEnd();
  }
}
