package org.sparkmpc.net;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/** Helpers shared by the channel tests: marker payloads, free ports, directories, gateway sets. */
final class NetTestSupport {

  /** A distinctive value put into payloads; no exception message may contain it in any notation. */
  static final long MARKER = 0x5EC4E7C0FFEE1234L;

  private NetTestSupport() {}

  /** {@code longs} longs, all equal to {@link #MARKER} plus {@code salt}, little-endian. */
  static byte[] markerPayload(int longs, long salt) {
    ByteBuffer b = ByteBuffer.allocate(longs * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < longs; i++) {
      b.putLong(MARKER + salt);
    }
    return b.array();
  }

  /** Fails if the message (or any cause's message) of {@code t} shows {@link #MARKER} or its bytes. */
  static void assertNoMarker(Throwable t) {
    List<String> forms = new ArrayList<>();
    for (long v : new long[] {MARKER, MARKER + 1, MARKER + 2}) {
      forms.add(Long.toString(v));
      forms.add(Long.toUnsignedString(v));
      forms.add(Long.toHexString(v));
      byte[] be = ByteBuffer.allocate(8).putLong(v).array();
      byte[] le = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
      forms.add(HexFormat.of().formatHex(be));
      forms.add(HexFormat.of().formatHex(le));
      forms.add(HexFormat.ofDelimiter(":").formatHex(le));
      forms.add(HexFormat.ofDelimiter(", ").formatHex(le));
      forms.add(java.util.Arrays.toString(le));
    }
    for (Throwable c = t; c != null; c = c.getCause()) {
      String text = (c.toString() + " " + c.getMessage()).toLowerCase(Locale.ROOT);
      for (String f : forms) {
        assertFalse(text.contains(f.toLowerCase(Locale.ROOT)), () -> "exception reveals payload: " + t);
      }
    }
  }

  /** A port that was free a moment ago. */
  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parties {@code names} on 127.0.0.1 at {@code ports}, seen from {@code self}. */
  static PartyDirectory directory(List<String> names, int[] ports, String self) {
    List<PartyDirectory.Party> parties = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      parties.add(new PartyDirectory.Party(names.get(i), "127.0.0.1", ports[i]));
    }
    return new PartyDirectory(parties, self);
  }

  /** Gateways for every party of {@code names}, keys from {@code keyDir} (as {@code keygen demo} writes). */
  static final class Cluster implements AutoCloseable {
    final List<Gateway> gateways = new ArrayList<>();
    final int[] ports;

    Cluster(Path keyDir, List<String> names, Duration timeout, long maxBufferedBytes) {
      ports = new int[names.size()];
      for (int i = 0; i < ports.length; i++) {
        ports[i] = freePort();
      }
      try {
        for (String n : names) {
          GatewayConfig cfg = GatewayConfig.defaults(directory(names, ports, n), keyDir)
              .withTimeout(timeout)
              .withMaxBufferedBytes(maxBufferedBytes);
          gateways.add(Gateway.start(cfg));
        }
      } catch (RuntimeException e) {
        close();
        throw e;
      }
    }

    Gateway get(int i) {
      return gateways.get(i);
    }

    @Override
    public void close() {
      for (Gateway g : gateways) {
        g.close();
      }
    }
  }
}
