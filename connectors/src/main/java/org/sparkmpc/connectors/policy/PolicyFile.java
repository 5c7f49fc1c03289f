package org.sparkmpc.connectors.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.connectors.policy.TablePolicy.ColumnClass;

/**
 * Reads a data policy file (YAML, or JSON for a name ending in {@code .json}) into a
 * {@link Policy}, checking it whole: an unknown key, a column named under two classes, a usage
 * rule for a column that is not shared, a malformed value, are refused naming the file and the
 * place in it. The schema is in the README ("Data policies").
 */
final class PolicyFile {
  private static final Set<String> TOP = Set.of("party", "unlisted", "keys", "tables");
  private static final Set<String> KEYS = Set.of("own", "joint");
  private static final Set<String> TABLE = Set.of("share", "public", "pii", "private", "usage");
  private static final Set<String> PII = Set.of("drop", "tokenize", "tokenizeJoint");
  private static final Set<String> USAGE = Set.of("reveal", "minRows", "to", "shareWith");

  private final Path file;

  private PolicyFile(Path file) {
    this.file = file;
  }

  static Policy read(Path file) {
    JsonNode root;
    try {
      ObjectMapper mapper = file.getFileName().toString().toLowerCase(Locale.ROOT)
          .endsWith(".json") ? new ObjectMapper() : new ObjectMapper(new YAMLFactory());
      root = mapper.readTree(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new MpcInputException("data policy " + file + " could not be read: "
          + e.getClass().getSimpleName() + ": " + firstLine(e.getMessage()));
    }
    return new PolicyFile(file).policy(root);
  }

  private Policy policy(JsonNode root) {
    if (root == null || !root.isObject()) {
      throw error("", "must be a mapping with the keys " + TOP);
    }
    known(root, TOP, "");
    String party = text(root.get("party"), "party", true);
    String unlisted = text(root.get("unlisted"), "unlisted", false);
    Policy.Unlisted rule = Policy.Unlisted.DROP;
    if (unlisted != null) {
      try {
        rule = Policy.Unlisted.valueOf(unlisted.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw error("unlisted", "must be drop or refuse, was '" + unlisted + "'");
      }
    }
    Path own = null;
    Path joint = null;
    JsonNode keys = root.get("keys");
    if (keys != null) {
      object(keys, "keys");
      known(keys, KEYS, "keys");
      String o = text(keys.get("own"), "keys.own", false);
      String j = text(keys.get("joint"), "keys.joint", false);
      own = o == null ? null : resolve(o);
      joint = j == null ? null : resolve(j);
    }
    JsonNode tables = root.get("tables");
    if (tables == null) {
      throw error("tables", "is missing: name at least one table");
    }
    object(tables, "tables");
    Map<String, TablePolicy> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = tables.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      out.put(e.getKey(), table(e.getKey(), e.getValue()));
    }
    return new Policy(file, party, rule, own, joint, out);
  }

  private TablePolicy table(String name, JsonNode t) {
    String at = "tables." + name;
    object(t, at);
    known(t, TABLE, at);
    Map<String, ColumnClass> classes = new LinkedHashMap<>();
    put(classes, t.get("share"), at + ".share", ColumnClass.SHARE);
    put(classes, t.get("public"), at + ".public", ColumnClass.PUBLIC);
    JsonNode pii = t.get("pii");
    if (pii != null) {
      object(pii, at + ".pii");
      known(pii, PII, at + ".pii");
      put(classes, pii.get("drop"), at + ".pii.drop", ColumnClass.PII_DROP);
      put(classes, pii.get("tokenize"), at + ".pii.tokenize", ColumnClass.PII_TOKENIZE);
      put(classes, pii.get("tokenizeJoint"), at + ".pii.tokenizeJoint",
          ColumnClass.PII_TOKENIZE_JOINT);
    }
    put(classes, t.get("private"), at + ".private", ColumnClass.PRIVATE);
    Map<String, ColumnUsage> usage = new LinkedHashMap<>();
    JsonNode u = t.get("usage");
    if (u != null) {
      object(u, at + ".usage");
      for (Iterator<Map.Entry<String, JsonNode>> it = u.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String col = e.getKey();
        String where = at + ".usage." + col;
        if (classes.get(col) != ColumnClass.SHARE) {
          throw error(where, "sets how column '" + col + "' may be used once shared, but "
              + (classes.containsKey(col) ? "the policy lists it under "
              + classes.get(col).rule() : "the table's share list does not name it"));
        }
        usage.put(col, usage(e.getValue(), where));
      }
    }
    return new TablePolicy(name, classes, usage);
  }

  private ColumnUsage usage(JsonNode u, String at) {
    object(u, at);
    known(u, USAGE, at);
    ColumnUsage.Reveal reveal = ColumnUsage.Reveal.AGGREGATES;
    String r = text(u.get("reveal"), at + ".reveal", false);
    if (r != null) {
      try {
        reveal = ColumnUsage.Reveal.valueOf(r.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw error(at + ".reveal", "must be aggregates, rows or never, was '" + r + "'");
      }
    }
    int minRows = 1;
    JsonNode k = u.get("minRows");
    if (k != null) {
      if (!k.canConvertToInt() || !k.isIntegralNumber() || k.intValue() < 1) {
        throw error(at + ".minRows", "must be a whole number of at least 1, was '" + k.asText()
            + "'");
      }
      minRows = k.intValue();
      if (reveal != ColumnUsage.Reveal.AGGREGATES) {
        throw error(at + ".minRows", "applies to reveal: aggregates only, and reveal is "
            + reveal.spelling());
      }
    }
    return new ColumnUsage(reveal, minRows, names(u.get("to"), at + ".to"),
        names(u.get("shareWith"), at + ".shareWith"));
  }

  private void put(Map<String, ColumnClass> classes, JsonNode list, String at, ColumnClass c) {
    for (String col : names(list, at)) {
      ColumnClass before = classes.putIfAbsent(col, c);
      if (before != null) {
        throw error(at, "names column '" + col + "', which is also listed under "
            + before.rule() + ": a column has one class");
      }
    }
  }

  private List<String> names(JsonNode list, String at) {
    List<String> out = new ArrayList<>();
    if (list == null || list.isNull()) {
      return out;
    }
    if (!list.isArray()) {
      throw error(at, "must be a list of names");
    }
    for (JsonNode n : list) {
      if (!n.isTextual() || n.asText().isBlank()) {
        throw error(at, "must be a list of names, and holds '" + n + "'");
      }
      if (out.contains(n.asText())) {
        throw error(at, "names '" + n.asText() + "' twice");
      }
      out.add(n.asText());
    }
    return out;
  }

  private String text(JsonNode n, String at, boolean required) {
    if (n == null || n.isNull()) {
      if (required) {
        throw error(at, "is missing");
      }
      return null;
    }
    if (!n.isValueNode() || n.asText().isBlank()) {
      throw error(at, "must be a single value");
    }
    return n.asText().trim();
  }

  private void object(JsonNode n, String at) {
    if (!n.isObject()) {
      throw error(at, "must be a mapping");
    }
  }

  private void known(JsonNode n, Set<String> allowed, String at) {
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!allowed.contains(k)) {
        throw error(at.isEmpty() ? k : at + "." + k, "is not a key of the policy schema here; "
            + "the keys are " + new java.util.TreeSet<>(allowed));
      }
    }
  }

  private Path resolve(String p) {
    Path path = Path.of(p);
    return path.isAbsolute() || file.getParent() == null ? path : file.getParent().resolve(path);
  }

  private MpcInputException error(String at, String what) {
    return new MpcInputException("data policy " + file + ": " + (at.isEmpty() ? "" : at + " ")
        + what);
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
