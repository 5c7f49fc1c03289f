package org.sparkmpc.connectors.federated;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The public parameters of one federated aggregation round, agreed by the clients and the 2 or 3
 * aggregation parties. Every upload carries {@link #digest()}, so a client and a party that disagree on
 * any parameter are refused instead of summing shares of different rings or scales.
 *
 * @param roundId    1 to 64 characters of {@code [A-Za-z0-9._-]}
 * @param dims       length of every update, 1 to 50,000,000
 * @param clipNorm   L2 bound an update is clipped to; finite, positive
 * @param scaleBits  quantisation: a coordinate {@code x} becomes {@code Math.round(x * 2^scaleBits)}; 0 to 30
 * @param maxClients the most clients whose updates are summed; at least 2
 * @param parties    the aggregation parties' names, in party-index order; 2 or 3, distinct
 * @param width      bytes per element of the ring Z(2^(8*width)): the smallest of 4 and 8 with
 *                   {@code maxClients * ceil(clipNorm * 2^scaleBits) < 2^(8*width - 1)}, so no sum of
 *                   clients' quantised coordinates can wrap; {@link #of} computes it, the constructor
 *                   refuses any other value
 */
public record RoundSpec(String roundId, int dims, double clipNorm, int scaleBits, int maxClients,
                        List<String> parties, int width) {

  /** Largest update length accepted. */
  public static final int MAX_DIMS = 50_000_000;

  private static final Pattern ROUND_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  /** Validates every field; see the record comment. */
  public RoundSpec {
    Objects.requireNonNull(roundId, "roundId");
    Objects.requireNonNull(parties, "parties");
    if (!ROUND_ID.matcher(roundId).matches()) {
      throw new IllegalArgumentException("roundId must be 1 to 64 characters of [A-Za-z0-9._-]");
    }
    if (dims < 1 || dims > MAX_DIMS) {
      throw new IllegalArgumentException("dims must be 1 to " + MAX_DIMS + ", was " + dims);
    }
    if (!Double.isFinite(clipNorm) || clipNorm <= 0) {
      throw new IllegalArgumentException("clipNorm must be finite and positive, was " + clipNorm);
    }
    if (scaleBits < 0 || scaleBits > 30) {
      throw new IllegalArgumentException("scaleBits must be 0 to 30, was " + scaleBits);
    }
    if (maxClients < 2) {
      throw new IllegalArgumentException("maxClients must be at least 2, was " + maxClients);
    }
    parties = List.copyOf(parties);
    if (parties.size() < 2 || parties.size() > 3) {
      throw new IllegalArgumentException("a round has 2 or 3 aggregation parties, not " + parties.size());
    }
    if (new HashSet<>(parties).size() != parties.size()) {
      throw new IllegalArgumentException("the parties of a round must be distinct: " + parties);
    }
    for (String p : parties) {
      if (p.isEmpty() || p.length() > 255) {
        throw new IllegalArgumentException("a party name must be 1 to 255 characters");
      }
    }
    int needed = requiredWidth(clipNorm, scaleBits, maxClients);
    if (width != needed) {
      throw new IllegalArgumentException("width must be " + needed + " bytes for these parameters, was " + width);
    }
  }

  /** A spec with the width computed from {@code maxClients}, {@code clipNorm} and {@code scaleBits}. */
  public static RoundSpec of(String roundId, int dims, double clipNorm, int scaleBits, int maxClients,
      List<String> parties) {
    return new RoundSpec(roundId, dims, clipNorm, scaleBits, maxClients, parties,
        requiredWidth(clipNorm, scaleBits, maxClients));
  }

  /** {@code ceil(clipNorm * 2^scaleBits)}: the largest absolute quantised coordinate of a clipped update. */
  public static BigInteger coordinateBound(double clipNorm, int scaleBits) {
    return new BigDecimal(clipNorm).multiply(BigDecimal.valueOf(2).pow(scaleBits))
        .setScale(0, RoundingMode.CEILING).toBigIntegerExact();
  }

  /**
   * The smallest width (4 or 8) whose ring holds the sum of {@code maxClients} coordinates of absolute
   * value up to {@link #coordinateBound} without wrapping.
   *
   * @throws IllegalArgumentException naming maxClients, clipNorm and scaleBits when not even 8 bytes do
   */
  public static int requiredWidth(double clipNorm, int scaleBits, int maxClients) {
    BigInteger total = coordinateBound(clipNorm, scaleBits).multiply(BigInteger.valueOf(maxClients));
    for (int w : new int[] {4, 8}) {
      if (total.compareTo(BigInteger.ONE.shiftLeft(8 * w - 1)) < 0) {
        return w;
      }
    }
    throw new IllegalArgumentException("maxClients " + maxClients + " * ceil(clipNorm " + clipNorm
        + " * 2^scaleBits " + scaleBits + ") does not fit in 63 bits: lower maxClients, clipNorm or scaleBits");
  }

  /** The largest absolute quantised coordinate, as a long (it fits: the width check bounds it below 2^63). */
  public long quantisedBound() {
    return coordinateBound(clipNorm, scaleBits).longValueExact();
  }

  /**
   * SHA-256 over the canonical encoding: the UTF-8 tag {@code "SMFU-RoundSpec-1"}, then big-endian
   * roundId (2-byte length, UTF-8), dims (int), clipNorm (IEEE 754 bits, long), scaleBits (int),
   * maxClients (int), the number of parties (int) and each name (2-byte length, UTF-8), width (int).
   */
  public byte[] digest() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.write("SMFU-RoundSpec-1".getBytes(StandardCharsets.UTF_8));
      writeString(out, roundId);
      out.writeInt(dims);
      out.writeLong(Double.doubleToLongBits(clipNorm));
      out.writeInt(scaleBits);
      out.writeInt(maxClients);
      out.writeInt(parties.size());
      for (String p : parties) {
        writeString(out, p);
      }
      out.writeInt(width);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sha256(bytes.toByteArray());
  }

  /**
   * Index of the party that receives this client's full vector: the first 4 bytes of SHA-256 over
   * {@code "fullParty"}, roundId and clientId (each string as a 2-byte big-endian length and UTF-8),
   * as an unsigned big-endian number, mod the number of parties. Spreads the full vectors, and so the
   * download and disk load, evenly over the parties; every other party gets a seed.
   */
  public int fullParty(String clientId) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      writeString(out, "fullParty");
      writeString(out, roundId);
      writeString(out, Objects.requireNonNull(clientId, "clientId"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] h = sha256(bytes.toByteArray());
    long first = ((h[0] & 0xFFL) << 24) | ((h[1] & 0xFFL) << 16) | ((h[2] & 0xFFL) << 8) | (h[3] & 0xFFL);
    return (int) (first % parties.size());
  }

  /** The role party {@code partyIndex} has for {@code clientId}. */
  public ShareRole roleOf(String clientId, int partyIndex) {
    return fullParty(clientId) == partyIndex ? ShareRole.FULL : ShareRole.SEED;
  }

  /** Bytes of a payload in {@code role}: 32 for a seed, {@code dims * width} for a full vector. */
  public long payloadBytes(ShareRole role) {
    return role == ShareRole.SEED ? 32 : (long) dims * width;
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeShort(b.length);
    out.write(b);
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
