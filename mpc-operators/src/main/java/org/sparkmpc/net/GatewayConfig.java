package org.sparkmpc.net;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything a {@link Gateway} needs: the party list (with this party's bind address), the PEM files
 * written by {@link KeyGen}, the timeout and the receive buffer bound. Holds file paths, never key
 * material.
 *
 * @param directory        the parties; the gateway listens on {@code directory.self()}'s host and
 *                         port (port 0: an ephemeral port, see {@link Gateway#port()})
 * @param keyFile          this party's private key, PEM PKCS#8
 * @param certFile         this party's certificate, PEM X.509, subject CN = party name
 * @param trustFile        PEM bundle of every party's certificate (including this party's)
 * @param timeout          how long {@link Gateway#send} keeps retrying to reach a peer, how long an
 *                         inbound message waits for buffer space, and the I/O timeout of a frame
 * @param maxBufferedBytes bound on received payload bytes kept in memory ({@value
 *                         Mailbox#MAX_BUFFERED_BYTES_SETTING})
 * @param handshakeTimeout how long an inbound connection may take, from its accept, to complete
 *                         the TLS handshake and receive the gateway's HELLO; a connection that
 *                         does not is closed and frees its slot ({@value #HANDSHAKE_TIMEOUT_SETTING}).
 *                         Never longer than {@code timeout} in effect.
 */
public record GatewayConfig(
    PartyDirectory directory,
    Path keyFile,
    Path certFile,
    Path trustFile,
    Duration timeout,
    long maxBufferedBytes,
    Duration handshakeTimeout) {

  /** The setting (Spark and standalone gateway) that gives {@link #handshakeTimeout()}. */
  public static final String HANDSHAKE_TIMEOUT_SETTING = "spark.mpc.gateway.handshakeTimeout";

  /** Default handshake timeout: 5 s. */
  public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);

  /** Default receive buffer bound: 512 MiB. */
  public static final long DEFAULT_MAX_BUFFERED_BYTES = 512L << 20;

  /** Default timeout: 60 s. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  public GatewayConfig {
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(keyFile, "keyFile");
    Objects.requireNonNull(certFile, "certFile");
    Objects.requireNonNull(trustFile, "trustFile");
    ConfigValues.requirePositive(timeout, "gateway timeout");
    if (maxBufferedBytes <= 0) {
      throw new IllegalArgumentException(
          Mailbox.MAX_BUFFERED_BYTES_SETTING + " must be positive, was " + maxBufferedBytes);
    }
    ConfigValues.requirePositive(handshakeTimeout, HANDSHAKE_TIMEOUT_SETTING);
  }

  /** As the canonical constructor, with the {@linkplain #DEFAULT_HANDSHAKE_TIMEOUT default handshake timeout}. */
  public GatewayConfig(PartyDirectory directory, Path keyFile, Path certFile, Path trustFile,
      Duration timeout, long maxBufferedBytes) {
    this(directory, keyFile, certFile, trustFile, timeout, maxBufferedBytes, DEFAULT_HANDSHAKE_TIMEOUT);
  }

  /** The handshake deadline in effect: {@link #handshakeTimeout()}, at most {@link #timeout()}. */
  public Duration effectiveHandshakeTimeout() {
    return handshakeTimeout.compareTo(timeout) < 0 ? handshakeTimeout : timeout;
  }

  /**
   * The files {@link KeyGen} writes into {@code keyDir} for this party ({@code NAME.key.pem}, {@code
   * NAME.crt.pem}, {@code trust.pem}), the default timeout and buffer bound.
   */
  public static GatewayConfig defaults(PartyDirectory directory, Path keyDir) {
    String name = directory.self().name();
    return new GatewayConfig(directory, KeyGen.keyFile(keyDir, name), KeyGen.certFile(keyDir, name),
        KeyGen.trustFile(keyDir), DEFAULT_TIMEOUT, DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_HANDSHAKE_TIMEOUT);
  }

  /** The same configuration with another timeout. */
  public GatewayConfig withTimeout(Duration newTimeout) {
    return new GatewayConfig(directory, keyFile, certFile, trustFile, newTimeout, maxBufferedBytes,
        handshakeTimeout);
  }

  /** The same configuration with another receive buffer bound. */
  public GatewayConfig withMaxBufferedBytes(long bytes) {
    return new GatewayConfig(directory, keyFile, certFile, trustFile, timeout, bytes, handshakeTimeout);
  }

  /** The same configuration with another party list (e.g. after ports became known). */
  public GatewayConfig withDirectory(PartyDirectory newDirectory) {
    return new GatewayConfig(newDirectory, keyFile, certFile, trustFile, timeout, maxBufferedBytes,
        handshakeTimeout);
  }

  /** The same configuration with another handshake timeout. */
  public GatewayConfig withHandshakeTimeout(Duration newHandshakeTimeout) {
    return new GatewayConfig(directory, keyFile, certFile, trustFile, timeout, maxBufferedBytes,
        newHandshakeTimeout);
  }
}
