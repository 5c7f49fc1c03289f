package org.sparkmpc.spark.table;

import java.io.Serializable;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.spark.sql.types.DataType;
import org.sparkmpc.MpcInputException;

/**
 * The manifest of one party's stored copy of a secure table ({@code _manifest} in the table's
 * folder): what the table is, what this party's files hold, and an HMAC-SHA256 over all of it under
 * this party's storage key ({@link StoredTableKey}), so that an edited manifest, a manifest copied
 * from another party, or one written under another key is refused before anything in it is used.
 *
 * <p>Text, one {@code key=value} per line, in this order:
 * <pre>
 * format=spark-mpc-stored-table/1
 * table=&lt;identity: 32 hex digits, equal at every party for the same save&gt;
 * name=&lt;the table's name given at save, URL-encoded; may be empty&gt;
 * savedAt=&lt;milliseconds since the epoch, agreed: the latest of the parties' clocks&gt;
 * session=&lt;the session id of the save&gt;
 * source=&lt;the table id in that session&gt;
 * party=&lt;this party&gt;
 * parties=&lt;every party, in session order&gt;
 * column=secure,&lt;name&gt;,&lt;index&gt;,&lt;scale&gt;,&lt;integral&gt;,&lt;factor&gt;,&lt;bits&gt;,&lt;wide&gt;
 * column=public,&lt;name&gt;,&lt;index&gt;,&lt;nullable&gt;,&lt;Spark type as JSON, URL-encoded&gt;
 * part=&lt;partition&gt;,&lt;file&gt;,&lt;rows&gt;,&lt;bytes&gt;,&lt;SHA-256 of the file&gt;
 * rule=&lt;column&gt;,&lt;from&gt;,&lt;reveal&gt;,&lt;minRows&gt;,&lt;to;...&gt;,&lt;shareWith;...&gt;
 * hmac=&lt;HMAC-SHA256 of every byte before this line&gt;
 * </pre>
 * Everything but the {@code part} digests is public metadata of the table, the same at every party
 * (schema, row counts per partition, the identity); the digests differ per party and never leave it.
 */
public record StoredManifest(String uid, String name, long savedAt, String session, String source,
    String party, List<String> parties, List<Column> columns, List<Part> parts, List<Rule> rules)
    implements Serializable {

  /**
   * A usage rule of this party's data policy that governed a column when the table was saved
   * ({@code from}: the shared column it comes from), restored at load so that a stored table is
   * opened under the same rules as the table it was saved from.
   */
  public record Rule(String column, String from, org.sparkmpc.connectors.policy.ColumnUsage usage)
      implements Serializable {}

  /** The first line of every manifest: the format and its version. */
  public static final String FORMAT = "spark-mpc-stored-table/1";
  /** The manifest's file name inside the table's folder. */
  public static final String FILE = "_manifest";

  /**
   * One column of the table, in output order: a secure column (its share type's public facts) or a
   * public column (its Spark type).
   */
  public record Column(String name, boolean secure, int index, int scale, boolean integral,
      String factor, int bits, boolean wide, DataType type, boolean nullable)
      implements Serializable {}

  /** One partition file of this party: its rows, its length and its SHA-256. */
  public record Part(int partition, String file, long rows, long bytes, String sha256)
      implements Serializable {}

  /** Rows per partition: the table's partitioning contract. */
  public long[] contract() {
    return parts.stream().mapToLong(Part::rows).toArray();
  }

  /** The table's name for messages: its name if it has one, else its identity. */
  public String label() {
    return name.isEmpty() ? "table " + uid : "'" + name + "' (table " + uid + ")";
  }

  /** The public columns' Spark types, by public index. */
  public DataType[] publicTypes() {
    List<DataType> t = new ArrayList<>();
    for (Column c : columns) {
      if (!c.secure()) {
        t.add(c.type());
      }
    }
    return t.toArray(new DataType[0]);
  }

  /** How many secure columns the table has. */
  public int secureColumns() {
    return (int) columns.stream().filter(Column::secure).count();
  }

  /**
   * The schema in one line, public (names, kinds, types, scales, bounds): what the parties compare
   * before loading, and what a save agrees.
   */
  public static String schema(List<Column> columns) {
    StringBuilder sb = new StringBuilder("[");
    for (Column c : columns) {
      sb.append(sb.length() > 1 ? " " : "").append(c.name()).append(':');
      if (c.secure()) {
        sb.append("secure@").append(c.scale()).append(c.integral() ? "/int" : "/real")
            .append("/x").append(c.factor()).append("/b").append(c.bits())
            .append(c.wide() ? "/wide" : "");
      } else {
        sb.append(c.type().simpleString()).append(c.nullable() ? "" : "/notnull");
      }
    }
    return sb.append(']').toString();
  }

  /** The manifest's text, signed with {@code key} (the {@code hmac} line last). */
  public byte[] render(byte[] key) {
    StringBuilder sb = new StringBuilder();
    line(sb, "format", FORMAT);
    line(sb, "table", uid);
    line(sb, "name", enc(name));
    line(sb, "savedAt", Long.toString(savedAt));
    line(sb, "session", session);
    line(sb, "source", source);
    line(sb, "party", enc(party));
    line(sb, "parties", String.join(",", parties.stream().map(StoredManifest::enc).toList()));
    for (Column c : columns) {
      line(sb, "column", c.secure()
          ? "secure," + enc(c.name()) + "," + c.index() + "," + c.scale() + "," + c.integral()
              + "," + enc(c.factor()) + "," + c.bits() + "," + c.wide()
          : "public," + enc(c.name()) + "," + c.index() + "," + c.nullable() + ","
              + enc(c.type().json()));
    }
    for (Part p : parts) {
      line(sb, "part", p.partition() + "," + p.file() + "," + p.rows() + "," + p.bytes() + ","
          + p.sha256());
    }
    for (Rule r : rules) {
      var u = r.usage();
      line(sb, "rule", enc(r.column()) + "," + enc(r.from()) + "," + u.reveal().spelling() + ","
          + u.minRows() + "," + String.join(";", u.to().stream().map(StoredManifest::enc).toList())
          + "," + String.join(";", u.shareWith().stream().map(StoredManifest::enc).toList()));
    }
    byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
    String mac = "hmac=" + HexFormat.of().formatHex(hmac(key, body)) + "\n";
    byte[] out = Arrays.copyOf(body, body.length + mac.length());
    System.arraycopy(mac.getBytes(StandardCharsets.US_ASCII), 0, out, body.length, mac.length());
    return out;
  }

  /**
   * Authenticate, then parse, a manifest read from {@code where}: the HMAC is checked first (in
   * constant time) and nothing of the text is interpreted before it verifies.
   *
   * @throws MpcInputException naming {@code where} when the manifest was altered, is not this
   *     party's or was written under another key, or is malformed
   */
  public static StoredManifest verifyAndParse(byte[] bytes, byte[] key, String where) {
    int cut = bytes.length - 1;
    while (cut > 0 && bytes[cut - 1] != '\n') {
      cut--;
    }
    if (bytes.length == 0 || bytes[bytes.length - 1] != '\n' || cut <= 0) {
      throw notAuthentic(where, "it is truncated (no hmac line at its end)");
    }
    String last = new String(bytes, cut, bytes.length - cut - 1, StandardCharsets.US_ASCII);
    byte[] claimed;
    try {
      if (!last.startsWith("hmac=")) {
        throw new IllegalArgumentException();
      }
      claimed = HexFormat.of().parseHex(last.substring(5));
    } catch (IllegalArgumentException e) {
      throw notAuthentic(where, "its last line is not its hmac");
    }
    byte[] body = Arrays.copyOf(bytes, cut);
    if (!MessageDigest.isEqual(claimed, hmac(key, body))) {
      throw notAuthentic(where, "its HMAC does not verify under this party's storage key: the "
          + "manifest was edited, or it was written by another party or under another key");
    }
    return parse(new String(body, StandardCharsets.UTF_8), where);
  }

  private static StoredManifest parse(String text, String where) {
    String[] lines = text.split("\n");
    int[] at = {0};
    try {
      if (!value(lines, at, "format").equals(FORMAT)) {
        throw new IllegalArgumentException("format is not " + FORMAT);
      }
      String uid = value(lines, at, "table");
      String name = dec(value(lines, at, "name"));
      long savedAt = Long.parseLong(value(lines, at, "savedAt"));
      String session = value(lines, at, "session");
      String source = value(lines, at, "source");
      String party = dec(value(lines, at, "party"));
      List<String> parties = Arrays.stream(value(lines, at, "parties").split(","))
          .map(StoredManifest::dec).toList();
      List<Column> columns = new ArrayList<>();
      while (at[0] < lines.length && lines[at[0]].startsWith("column=")) {
        String[] f = value(lines, at, "column").split(",", -1);
        if (f[0].equals("secure") && f.length == 8) {
          columns.add(new Column(dec(f[1]), true, Integer.parseInt(f[2]), Integer.parseInt(f[3]),
              Boolean.parseBoolean(f[4]), dec(f[5]), Integer.parseInt(f[6]),
              Boolean.parseBoolean(f[7]), null, false));
        } else if (f[0].equals("public") && f.length == 5) {
          columns.add(new Column(dec(f[1]), false, Integer.parseInt(f[2]), 0, false, "1", 0,
              false, DataType.fromJson(dec(f[4])), Boolean.parseBoolean(f[3])));
        } else {
          throw new IllegalArgumentException("a malformed column line");
        }
      }
      List<Part> parts = new ArrayList<>();
      while (at[0] < lines.length && lines[at[0]].startsWith("part=")) {
        String[] f = value(lines, at, "part").split(",", -1);
        if (f.length != 5 || !f[1].matches("part-[0-9]{5}\\.arrow")) {
          throw new IllegalArgumentException("a malformed part line");
        }
        int i = Integer.parseInt(f[0]);
        if (i != parts.size()) {
          throw new IllegalArgumentException("partition " + i + " out of order");
        }
        parts.add(new Part(i, f[1], Long.parseLong(f[2]), Long.parseLong(f[3]), f[4]));
      }
      List<Rule> rules = new ArrayList<>();
      while (at[0] < lines.length && lines[at[0]].startsWith("rule=")) {
        String[] f = value(lines, at, "rule").split(",", -1);
        if (f.length != 6) {
          throw new IllegalArgumentException("a malformed rule line");
        }
        rules.add(new Rule(dec(f[0]), dec(f[1]), new org.sparkmpc.connectors.policy.ColumnUsage(
            org.sparkmpc.connectors.policy.ColumnUsage.Reveal.valueOf(
                f[2].toUpperCase(java.util.Locale.ROOT)), Integer.parseInt(f[3]), names(f[4]),
            names(f[5]))));
      }
      if (at[0] != lines.length || columns.isEmpty() || parts.isEmpty()) {
        throw new IllegalArgumentException("unexpected or missing lines");
      }
      return new StoredManifest(uid, name, savedAt, session, source, party, parties,
          List.copyOf(columns), List.copyOf(parts), List.copyOf(rules));
    } catch (RuntimeException e) {
      throw new MpcInputException("the stored table manifest " + where + " is authentic but "
          + "malformed (" + e.getMessage() + "); it was not written by this version of Spark MPC");
    }
  }

  private static List<String> names(String list) {
    return list.isEmpty() ? List.of()
        : Arrays.stream(list.split(";")).map(StoredManifest::dec).toList();
  }

  private static String value(String[] lines, int[] at, String key) {
    if (at[0] >= lines.length || !lines[at[0]].startsWith(key + "=")) {
      throw new IllegalArgumentException("line " + (at[0] + 1) + " is not '" + key + "='");
    }
    return lines[at[0]++].substring(key.length() + 1);
  }

  private static void line(StringBuilder sb, String key, String value) {
    sb.append(key).append('=').append(value).append('\n');
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String dec(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  static byte[] hmac(byte[] key, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(body);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is not available", e);
    }
  }

  private static MpcInputException notAuthentic(String where, String why) {
    return new MpcInputException("the stored table manifest " + where + " is refused: " + why);
  }
}
