package org.sparkmpc.net;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The parties of a computation, in the order every party uses (party index = position), their
 * gateway addresses, and which of them this process is. Public information: no keys.
 */
public final class PartyDirectory implements Serializable {

  private static final long serialVersionUID = 1L;

  /**
   * Largest number of members: up to 5 computing parties (additive sharing among 2..5 parties)
   * and a dealer.
   */
  public static final int MAX_PARTIES = 6;

  /** One party: a name (its certificate's common name) and its gateway's host and port. */
  public record Party(String name, String host, int port) implements Serializable {
    public Party {
      Objects.requireNonNull(name, "party name");
      if (!name.matches("[A-Za-z0-9_.-]{1,64}")) {
        throw new IllegalArgumentException(
            "party name '" + name + "' must be 1-64 characters of letters, digits, '_', '.', '-'");
      }
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("party " + name + ": port " + port + " is out of range");
      }
    }

    /** {@code host:port}. */
    public String address() {
      return host + ":" + port;
    }
  }

  private final List<Party> parties;
  private final int selfIndex;

  public PartyDirectory(List<Party> parties, String selfName) {
    if (parties.size() < 2 || parties.size() > MAX_PARTIES) {
      throw new IllegalArgumentException(
          "a computation needs 2 to 5 parties (and at most one dealer), got " + parties.size());
    }
    List<Party> copy = new ArrayList<>(parties);
    for (int i = 0; i < copy.size(); i++) {
      for (int j = i + 1; j < copy.size(); j++) {
        if (copy.get(i).name().equals(copy.get(j).name())) {
          throw new IllegalArgumentException("party '" + copy.get(i).name() + "' is listed twice");
        }
      }
    }
    int idx = -1;
    for (int i = 0; i < copy.size(); i++) {
      if (copy.get(i).name().equals(selfName)) {
        idx = i;
      }
    }
    if (idx < 0) {
      throw new IllegalArgumentException(
          "this party '" + selfName + "' is not in the party list " + names(copy));
    }
    this.parties = Collections.unmodifiableList(copy);
    this.selfIndex = idx;
  }

  /**
   * Parse {@code name=host:port,name=host:port,...} (the {@code spark.mpc.parties} format).
   */
  public static PartyDirectory parse(String spec, String selfName) {
    List<Party> list = new ArrayList<>();
    for (String item : spec.split(",")) {
      String t = item.trim();
      if (t.isEmpty()) {
        continue;
      }
      int eq = t.indexOf('=');
      int colon = t.lastIndexOf(':');
      if (eq <= 0 || colon <= eq + 1 || colon == t.length() - 1) {
        throw new IllegalArgumentException(
            "party entry '" + t + "' is not of the form name=host:port");
      }
      int port;
      try {
        port = Integer.parseInt(t.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("party entry '" + t + "' has a port that is not a number");
      }
      list.add(new Party(t.substring(0, eq), t.substring(eq + 1, colon), port));
    }
    return new PartyDirectory(list, selfName);
  }

  public int size() {
    return parties.size();
  }

  public int selfIndex() {
    return selfIndex;
  }

  public Party self() {
    return parties.get(selfIndex);
  }

  public Party party(int index) {
    return parties.get(index);
  }

  public String name(int index) {
    return parties.get(index).name();
  }

  public List<Party> parties() {
    return parties;
  }

  /** Index of the party named {@code name}; an error naming it if unknown. */
  public int indexOf(String name) {
    for (int i = 0; i < parties.size(); i++) {
      if (parties.get(i).name().equals(name)) {
        return i;
      }
    }
    throw new IllegalArgumentException("unknown party '" + name + "'; parties are " + names(parties));
  }

  /** The same parties, seen from another member (for tests that run parties as threads). */
  public PartyDirectory as(String selfName) {
    return new PartyDirectory(parties, selfName);
  }

  /** Canonical text of the party list, the same at every party (goes into session fingerprints). */
  public String canonical() {
    StringBuilder sb = new StringBuilder();
    for (Party p : parties) {
      sb.append(p.name()).append(';');
    }
    return sb.toString();
  }

  private static List<String> names(List<Party> ps) {
    List<String> out = new ArrayList<>();
    for (Party p : ps) {
      out.add(p.name());
    }
    return out;
  }

  @Override
  public String toString() {
    return "PartyDirectory" + names(parties) + " self=" + self().name();
  }
}
