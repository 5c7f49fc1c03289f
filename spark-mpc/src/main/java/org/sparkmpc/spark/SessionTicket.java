package org.sparkmpc.spark;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sparkmpc.crypto.PairwiseKeys;
import org.sparkmpc.crypto.TicketSeal;
import org.sparkmpc.net.PartyCredentials;
import org.sparkmpc.net.PartyDirectory;

/**
 * The executor ticket of a party's session: what the driver attaches to every task (the Spark
 * local property {@link ExecutorSession#TICKET_PROPERTY}) so that an executor in another JVM can
 * open the session. Text, one {@code name=value} per line after the header {@value #HEADER}:
 *
 * <pre>
 *   party, parties, computing, key, cert, trust, gatewayHost, gatewayPort, timeoutMs, session,
 *   correlations   public structure and file paths
 *   sealed         base64 of the pairwise keys sealed by {@link TicketSeal}: AES-256-GCM under a key
 *                  derived from the party's private key for this purpose only, with the party, the
 *                  session, the gateway's address and every byte of the lines above as associated data
 * </pre>
 *
 * So a ticket opens only in a JVM that holds the party's key file, for the session the task asks for,
 * and only unaltered: a changed byte anywhere, or a ticket presented for another session, party or
 * gateway, is refused with an error naming the party and the session, never key material or ticket
 * bytes. Only the path of the key file crosses, never its content.
 */
final class SessionTicket {
  static final String HEADER = "sparkmpc-ticket v1";
  private static final String SEALED = "sealed=";
  private static final List<String> FIELDS = List.of("party", "parties", "computing", "key", "cert", "trust",
      "gatewayHost", "gatewayPort", "timeoutMs", "session", "correlations");

  final PartyDirectory directory;
  final int computing;
  final Path key;
  final Path cert;
  final Path trust;
  final String gatewayHost;
  final int gatewayPort;
  final Duration timeout;
  final String session;
  final String correlations;
  final PairwiseKeys keys;

  private SessionTicket(Map<String, String> f, PairwiseKeys keys) {
    this.directory = PartyDirectory.parse(f.get("parties"), f.get("party"));
    this.computing = Integer.parseInt(f.get("computing"));
    this.key = Path.of(f.get("key"));
    this.cert = Path.of(f.get("cert"));
    this.trust = Path.of(f.get("trust"));
    this.gatewayHost = f.get("gatewayHost");
    this.gatewayPort = Integer.parseInt(f.get("gatewayPort"));
    this.timeout = Duration.ofMillis(Long.parseLong(f.get("timeoutMs")));
    this.session = f.get("session");
    this.correlations = f.get("correlations");
    this.keys = keys;
  }

  /** The ticket of session {@code sessionId} of party {@code directory.self()}, keys sealed. */
  static String write(PartyDirectory directory, int computing, String sessionId, PairwiseKeys keys, Path key,
      Path cert, Path trust, String gatewayHost, int gatewayPort, Duration timeout, String correlations) {
    List<String> parties = new ArrayList<>();
    for (PartyDirectory.Party party : directory.parties()) {
      parties.add(party.name() + "=" + party.host() + ":" + party.port());
    }
    Map<String, String> f = new LinkedHashMap<>();
    f.put("party", directory.self().name());
    f.put("parties", String.join(",", parties));
    f.put("computing", Integer.toString(computing));
    f.put("key", key.toAbsolutePath().toString());
    f.put("cert", cert.toAbsolutePath().toString());
    f.put("trust", trust.toAbsolutePath().toString());
    f.put("gatewayHost", gatewayHost);
    f.put("gatewayPort", Integer.toString(gatewayPort));
    f.put("timeoutMs", Long.toString(timeout.toMillis()));
    f.put("session", sessionId);
    f.put("correlations", correlations);
    StringBuilder text = new StringBuilder(HEADER).append('\n');
    for (Map.Entry<String, String> e : f.entrySet()) {
      if (e.getValue().indexOf('\n') >= 0 || e.getValue().indexOf('\r') >= 0) {
        throw new IllegalArgumentException("the session ticket's field '" + e.getKey() + "' holds a line break");
      }
      text.append(e.getKey()).append('=').append(e.getValue()).append('\n');
    }
    String fields = text.toString();
    byte[] sealKey = sealKey(key);
    try {
      byte[] sealed = TicketSeal.seal(keys, sealKey, binding(f, sessionId, fields));
      return fields + SEALED + Base64.getEncoder().encodeToString(sealed) + "\n";
    } finally {
      Arrays.fill(sealKey, (byte) 0);
    }
  }

  /**
   * Open {@code ticket} for the task's session {@code sessionId}.
   *
   * @throws IllegalArgumentException if it is malformed, for another session, or does not open (see
   *     the class comment); the message names the party and the session only
   */
  static SessionTicket read(String ticket, String sessionId) {
    int at = ticket.lastIndexOf("\n" + SEALED);
    if (!ticket.startsWith(HEADER + "\n") || at < 0 || !ticket.endsWith("\n")) {
      throw malformed(sessionId, "not a ticket of this version");
    }
    String fields = ticket.substring(0, at + 1);
    String sealedText = ticket.substring(at + 1 + SEALED.length(), ticket.length() - 1);
    Map<String, String> f = new LinkedHashMap<>();
    for (String line : fields.substring(HEADER.length() + 1).split("\n", -1)) {
      if (line.isEmpty()) {
        continue; // only the end of the text; a blank line elsewhere changes the sealed fields
      }
      int eq = line.indexOf('=');
      String name = eq < 0 ? line : line.substring(0, eq);
      if (eq < 0 || !FIELDS.contains(name) || f.put(name, line.substring(eq + 1)) != null) {
        throw malformed(sessionId, "an unknown, repeated or broken field");
      }
    }
    for (String name : FIELDS) {
      if (!f.containsKey(name)) {
        throw malformed(sessionId, "no field '" + name + "'");
      }
    }
    if (!sessionId.equals(f.get("session"))) {
      throw new IllegalArgumentException("the task's session ticket is for session " + f.get("session")
          + ", not for session " + sessionId + " that the task runs in");
    }
    byte[] sealed;
    try {
      sealed = Base64.getDecoder().decode(sealedText);
    } catch (IllegalArgumentException e) {
      throw malformed(sessionId, "its sealed keys are not base64");
    }
    byte[] sealKey = sealKey(Path.of(f.get("key")));
    PairwiseKeys keys;
    try {
      keys = TicketSeal.open(sealKey, sealed, binding(f, sessionId, fields));
    } finally {
      Arrays.fill(sealKey, (byte) 0);
    }
    try {
      return new SessionTicket(f, keys);
    } catch (RuntimeException e) {
      // Authenticated fields that do not parse: a driver of another version.
      throw malformed(sessionId, "a field that does not parse (" + e.getClass().getSimpleName() + ")");
    }
  }

  /** The gateway's address as bound into the seal. */
  String gatewayAddress() {
    return gatewayHost + ":" + gatewayPort;
  }

  private static TicketSeal.Binding binding(Map<String, String> f, String sessionId, String fields) {
    return new TicketSeal.Binding(f.get("party"), sessionId, f.get("gatewayHost") + ":" + f.get("gatewayPort"),
        fields);
  }

  private static byte[] sealKey(Path keyFile) {
    return TicketSeal.sealKey(PartyCredentials.readPrivateKey(keyFile));
  }

  private static IllegalArgumentException malformed(String sessionId, String why) {
    return new IllegalArgumentException("the task's session ticket for session " + sessionId
        + " is malformed (" + why + ")");
  }

  /** Public structure only: party, session, gateway. */
  @Override
  public String toString() {
    return "SessionTicket(party " + directory.self().name() + ", session " + session + ", gateway "
        + gatewayAddress() + ")";
  }
}
