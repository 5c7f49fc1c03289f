package org.sparkmpc.session;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import org.sparkmpc.crypto.PairwiseKeys;
import org.sparkmpc.net.Channel;
import org.sparkmpc.net.MessageKey;
import org.sparkmpc.net.PartyDirectory;
import org.sparkmpc.net.ProtocolException;

/**
 * One party's view of an agreed MPC session: the party list, the channel, the session id every party
 * derived alike, the pairwise PRG keys, and the round timeout. Protocol kernels take it as their
 * per-party resource (the FRESCO "resource pool" seam), so they stay free of Spark.
 *
 * <p>A session is established by {@link #establish}: one round in which every party sends an
 * ephemeral X25519 public key and a nonce to every other party over the authenticated channel. The
 * session id is a hash of the job name and all keys and nonces; pairwise keys are X25519 secrets
 * run through HKDF with the session id as salt. Reveals: nothing but public keys and nonces.
 */
public final class MpcContext {
  private static final int HELLO_VERSION = 1;

  private final PartyDirectory directory;
  private final Channel channel;
  private final String sessionId;
  private final PairwiseKeys keys;
  private final Duration timeout;
  private final int computing;
  private final Coordinates coordinates = new Coordinates();

  public MpcContext(PartyDirectory directory, Channel channel, String sessionId, PairwiseKeys keys,
      Duration timeout) {
    this(directory, channel, sessionId, keys, timeout, directory.size());
  }

  /**
   * @param computing the number of computing parties: members {@code 0..computing-1} compute;
   *     a member after them (the dealer) only hands out correlated randomness
   */
  public MpcContext(PartyDirectory directory, Channel channel, String sessionId, PairwiseKeys keys,
      Duration timeout, int computing) {
    if (computing < 2 || computing > Math.min(5, directory.size())) {
      throw new IllegalArgumentException("a computation needs 2 to 5 computing parties, got "
          + computing);
    }
    this.directory = directory;
    this.channel = channel;
    this.sessionId = sessionId;
    this.keys = keys;
    this.timeout = timeout;
    this.computing = computing;
  }

  /**
   * Run the session hello with every peer and derive the session id and pairwise keys.
   *
   * @param jobName a name all parties use for this job (config {@code spark.mpc.session.name})
   */
  public static MpcContext establish(Channel channel, String jobName, Duration timeout,
      SecureRandom random) {
    return establish(channel, jobName, timeout, random, null);
  }

  /**
   * As above, with a dealer: {@code dealer} names the last member of the party list, which takes
   * part in the hello (so it shares a pairwise key with every party) but not in the computation.
   */
  public static MpcContext establish(Channel channel, String jobName, Duration timeout,
      SecureRandom random, String dealer) {
    PartyDirectory dir = channel.directory();
    int self = dir.selfIndex();
    int n = dir.size();
    PairwiseKeys.Ephemeral eph = new PairwiseKeys.Ephemeral(random);
    byte[] nonce = new byte[32];
    random.nextBytes(nonce);
    byte[] hello = ByteBuffer.allocate(4 + 32 + 32 + 4 + 64)
        .putInt(HELLO_VERSION).put(eph.publicKey()).put(nonce)
        .putInt(dir.canonical().hashCode()).array();
    String helloSession = MessageKey.HELLO_PREFIX + jobName;
    MessageKey mine = new MessageKey(helloSession, Coordinates.SESSION_OPERATOR,
        Coordinates.DRIVER_PARTITION, Coordinates.HELLO_ROUND, self);
    for (int q = 0; q < n; q++) {
      if (q != self) {
        channel.send(q, mine, hello.clone());
      }
    }
    byte[][] pks = new byte[n][];
    byte[][] nonces = new byte[n][];
    pks[self] = eph.publicKey();
    nonces[self] = nonce;
    for (int q = 0; q < n; q++) {
      if (q == self) {
        continue;
      }
      byte[] m = channel.receive(mine.withSender(q), timeout);
      ByteBuffer b = ByteBuffer.wrap(m);
      if (m.length != hello.length || b.getInt() != HELLO_VERSION) {
        throw new ProtocolException("party '" + dir.name(q) + "' sent a malformed session hello");
      }
      pks[q] = new byte[32];
      nonces[q] = new byte[32];
      b.get(pks[q]).get(nonces[q]);
      if (b.getInt() != dir.canonical().hashCode()) {
        throw new ProtocolException("party '" + dir.name(q)
            + "' has a different party list (spark.mpc.parties must be identical at every party,"
            + " same names in the same order)");
      }
    }
    MessageDigest sha = sha256();
    sha.update(("sparkmpc/session/" + jobName + "/" + dir.canonical()).getBytes(StandardCharsets.UTF_8));
    for (int q = 0; q < n; q++) {
      sha.update(pks[q]);
      sha.update(nonces[q]);
    }
    byte[] digest = sha.digest();
    String sessionId = HexFormat.of().formatHex(digest, 0, 16);
    PairwiseKeys keys = PairwiseKeys.agree(self, eph, pks, digest);
    int computing = n;
    if (dealer != null) {
      if (dir.indexOf(dealer) != n - 1) {
        throw new IllegalArgumentException("the dealer '" + dealer
            + "' must be the last member of the party list");
      }
      computing = n - 1;
    }
    MpcContext ctx = new MpcContext(dir, channel, sessionId, keys, timeout, computing);
    ctx.confirm(jobName);
    return ctx;
  }

  /**
   * Key confirmation: every member sends a short message under the new session id and waits for
   * every other's. A member that derived another session (it received a stale hello from an
   * earlier run of the job, or is not running the job) never answers under this id, so this fails
   * naming it, within the timeout; its stale hello has been consumed, so running the job again
   * succeeds. Rounds: 1. Bytes: 8 to each other member. Reveals nothing.
   */
  private void confirm(String jobName) {
    byte[] ok = "session!".getBytes(StandardCharsets.UTF_8);
    MessageKey mine = sessionKey(Coordinates.CONFIRM_ROUND);
    int n = directory.size();
    for (int q = 0; q < n; q++) {
      if (q != self()) {
        channel.send(q, mine, ok);
      }
    }
    for (int q = 0; q < n; q++) {
      if (q == self()) {
        continue;
      }
      try {
        channel.receive(mine.withSender(q), timeout);
      } catch (org.sparkmpc.net.PeerTimeoutException e) {
        throw new org.sparkmpc.net.PeerTimeoutException("party '" + directory.name(q)
            + "' did not confirm session " + sessionId + " of job '" + jobName + "' within "
            + timeout.toSeconds() + " s: it is not running the job, or it derived another session "
            + "from an earlier run's hello; run the job again");
      }
    }
  }

  public PartyDirectory directory() {
    return directory;
  }

  public Channel channel() {
    return channel;
  }

  public String sessionId() {
    return sessionId;
  }

  public PairwiseKeys keys() {
    return keys;
  }

  public Duration timeout() {
    return timeout;
  }

  public int self() {
    return directory.selfIndex();
  }

  /** The number of computing parties (a dealer, if any, is not one). */
  public int parties() {
    return computing;
  }

  /** Index of the dealer in the party list, or -1 when there is none. */
  public int dealer() {
    return computing < directory.size() ? computing : -1;
  }

  /**
   * The allocator of this session's protocol coordinates: operator ids, and the rounds and streams
   * within each operator. The driver allocates; tasks use the values it handed out.
   */
  public Coordinates coordinates() {
    return coordinates;
  }

  /**
   * The key of this party's message for (operator, partition, round) of an operator.
   *
   * @throws IllegalArgumentException for a session-level reserved coordinate (see
   *     {@link Coordinates#checkOperatorMessage})
   */
  public MessageKey key(long operator, int partition, int round) {
    Coordinates.checkOperatorMessage(operator, partition, round);
    return new MessageKey(sessionId, operator, partition, round, self());
  }

  /**
   * The key of this party's message in one of the session's own rounds: under
   * {@link Coordinates#SESSION_OPERATOR} and the driver partition ({@link Coordinates#CONFIRM_ROUND},
   * {@link Coordinates#baseOtRounds}).
   */
  public MessageKey sessionKey(int round) {
    if (round != Coordinates.CONFIRM_ROUND && !Coordinates.baseOtRounds().contains(round)) {
      throw new IllegalArgumentException("round " + round + " is not a session-level round");
    }
    return new MessageKey(sessionId, Coordinates.SESSION_OPERATOR, Coordinates.DRIVER_PARTITION,
        round, self());
  }

  /** The key of this party's request to the dealer for {@code operator}'s correlated randomness. */
  public MessageKey dealerRequestKey(long operator) {
    if (operator < Coordinates.FIRST_OPERATOR) {
      throw new IllegalArgumentException("operator " + operator + " is not an operator id");
    }
    return new MessageKey(sessionId, operator, Coordinates.DEALER_REQUEST_PARTITION, 0, self());
  }

  /**
   * One all-to-all round: send {@code payload} to every other party and collect what each sent
   * under the same coordinates. Entry {@code self()} of the result is {@code payload}.
   */
  public byte[][] exchangeAll(long operator, int partition, int round, byte[] payload) {
    MessageKey mine = key(operator, partition, round);
    int n = parties();
    for (int q = 0; q < n; q++) {
      if (q != self()) {
        channel.send(q, mine, payload);
      }
    }
    byte[][] in = new byte[n][];
    in[self()] = payload;
    for (int q = 0; q < n; q++) {
      if (q != self()) {
        in[q] = channel.receive(mine.withSender(q), timeout);
      }
    }
    return in;
  }

  /**
   * The plan agreement of one secure operator, run by the driver before any task sends a share:
   * every party sends the canonical description of what it is about to compute (operator kind,
   * tables and their partitioning contracts, columns, parameters, output recipients: all public
   * metadata) and checks that every peer sent the same. A mismatch stops the operator with an error
   * naming the disagreeing party and showing both descriptions.
   *
   * <p>Rounds: 1. Bytes: the description's length, to each peer.
   */
  public void agree(long operator, String description) {
    byte[] mine = description.getBytes(StandardCharsets.UTF_8);
    byte[][] all = exchangeAll(operator, Coordinates.DRIVER_PARTITION, Coordinates.AGREEMENT_ROUND,
        mine);
    for (int q = 0; q < parties(); q++) {
      if (q != self() && !java.util.Arrays.equals(all[q], mine)) {
        throw new QueryMismatchException("party '" + directory.name(q)
            + "' is running a different secure operation as operator " + operator
            + "; refused before any share was sent.\n  this party (" + directory.self().name()
            + "): " + description + "\n  party " + directory.name(q) + ": "
            + new String(all[q], StandardCharsets.UTF_8));
      }
    }
  }

  /**
   * Tell every peer that this party stopped {@code operator}, so that they fail at once with the
   * reason instead of waiting for the timeout. Only messages known to hold no secret (this
   * project's input and channel errors) are forwarded; any other failure is reported by its type
   * alone, the details staying in this party's own log.
   */
  public void abort(long operator, Throwable cause) {
    String reason;
    if (cause instanceof org.sparkmpc.MpcInputException
        || cause instanceof org.sparkmpc.net.MpcChannelException) {
      reason = cause.getMessage();
    } else {
      reason = "party " + directory.self().name() + " failed with "
          + cause.getClass().getSimpleName() + " (details in its own log)";
    }
    try {
      channel.abort(sessionId, operator, reason);
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  /** Stable short hash of a text, for descriptions and fingerprints. */
  public static String fingerprint(String text) {
    return HexFormat.of().formatHex(sha256().digest(text.getBytes(StandardCharsets.UTF_8)), 0, 12);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return "MpcContext(session=" + sessionId + ", " + directory + ")";
  }
}
