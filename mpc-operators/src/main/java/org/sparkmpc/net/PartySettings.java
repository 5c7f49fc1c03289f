package org.sparkmpc.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * How every program of a party reads the settings its one party config shares with the Spark side:
 * the key files and which {@code spark.mpc.*} keys exist. The Spark session ({@code MpcRuntime}),
 * the standalone gateway, the dealer and secure inference all call this class, so one config
 * serves them all with the same precedence and the same errors.
 *
 * <p>Key files: {@value #KEY_FILE}, {@value #CERT_FILE} and {@value #TRUST_FILE} name the files;
 * each one left unset defaults to the file {@link KeyGen} writes into {@value #KEY_DIR} ({@code
 * <party>.key.pem}, {@code <party>.crt.pem}, {@code trust.pem}). Holds paths, never key material.
 */
public final class PartySettings {
  /** This party's name. */
  public static final String PARTY = "spark.mpc.party";
  /** The party list, {@code name=host:port,...}. */
  public static final String PARTIES = "spark.mpc.parties";
  /** The folder {@code keygen} wrote; default of the three files below. */
  public static final String KEY_DIR = "spark.mpc.keyDir";
  /** This party's private key (PEM, PKCS#8). */
  public static final String KEY_FILE = "spark.mpc.keyFile";
  /** This party's certificate (PEM). */
  public static final String CERT_FILE = "spark.mpc.certFile";
  /** Every party's certificate (PEM bundle). */
  public static final String TRUST_FILE = "spark.mpc.trustFile";
  /** How long a party waits for a peer. */
  public static final String TIMEOUT = "spark.mpc.timeout";
  /** The joint job's name. */
  public static final String SESSION_NAME = "spark.mpc.session.name";
  /** The prefix of the keys {@link #refuseUnknown} checks. */
  public static final String PREFIX = "spark.mpc.";

  /**
   * The three files of a party's TLS identity.
   *
   * @param key   the private key
   * @param cert  the certificate
   * @param trust the trust bundle
   */
  public record KeyFiles(Path key, Path cert, Path trust) {}

  private PartySettings() {}

  /**
   * The key files of {@code party}: each explicit setting, or else its file in {@value #KEY_DIR}.
   *
   * @param setting a setting's value by key; null or blank when it is not set
   * @throws IllegalArgumentException naming the file setting that is missing while {@value
   *     #KEY_DIR} is not set either
   */
  public static KeyFiles keyFiles(String party, UnaryOperator<String> setting) {
    String dir = setting.apply(KEY_DIR);
    return new KeyFiles(file(setting, KEY_FILE, dir, KeyGen.keyFile(Path.of(""), party)),
        file(setting, CERT_FILE, dir, KeyGen.certFile(Path.of(""), party)),
        file(setting, TRUST_FILE, dir, KeyGen.trustFile(Path.of(""))));
  }

  private static Path file(UnaryOperator<String> setting, String key, String dir, Path name) {
    String explicit = setting.apply(key);
    if (explicit != null && !explicit.isBlank()) {
      return Path.of(explicit.trim());
    }
    if (dir == null || dir.isBlank()) {
      throw new IllegalArgumentException("setting " + key + " is required (or set " + KEY_DIR
          + " to the folder keygen wrote)");
    }
    return Path.of(dir.trim()).resolve(name);
  }

  /**
   * Read a party config (Java properties).
   *
   * @throws UncheckedIOException naming the file when it cannot be read
   */
  public static Properties load(Path file) {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the party config " + file + ": "
          + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage()), e);
    }
    return p;
  }

  /**
   * The {@code spark.mpc.*} keys the installation knows ({@link KnownSettings} services); empty
   * when none is on the class path (then nothing can be judged unknown).
   */
  public static Set<String> knownKeys() {
    Set<String> keys = new TreeSet<>();
    for (KnownSettings k : ServiceLoader.load(KnownSettings.class, PartySettings.class.getClassLoader())) {
      keys.addAll(k.keys());
    }
    return keys;
  }

  /**
   * Refuse a {@code spark.mpc.*} key of {@code conf} that the installation does not know (a
   * misspelling would otherwise be ignored and its default used in silence). Keys of other
   * prefixes (Spark's own, a job's) are not checked.
   *
   * @throws IllegalArgumentException naming the first unknown key, and the known key it differs
   *     from only in case, if there is one
   */
  public static void refuseUnknown(Properties conf) {
    Set<String> known = knownKeys();
    if (known.isEmpty()) {
      return;
    }
    for (String key : new TreeSet<>(conf.stringPropertyNames())) {
      if (key.startsWith(PREFIX) && !known.contains(key)) {
        String hint = known.stream().filter(k -> k.equalsIgnoreCase(key)).findFirst()
            .map(k -> " (did you mean " + k + "?)").orElse("");
        throw new IllegalArgumentException("unknown setting " + key + hint
            + ": not a Spark MPC setting (see the README's settings table)");
      }
    }
  }
}
