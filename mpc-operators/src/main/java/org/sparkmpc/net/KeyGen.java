package org.sparkmpc.net;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The {@code keygen} command: creates the per-party TLS identities the {@link Gateway} uses.
 *
 * <pre>
 *   keygen party --name NAME --out DIR [--days N] [--force]
 *       DIR/NAME.key.pem  private key, PEM PKCS#8, EC P-256, file mode 600 on POSIX file systems
 *       DIR/NAME.crt.pem  self-signed X.509 certificate, CN=NAME, SHA256withECDSA,
 *                         subjectAltName DNS:NAME, DNS:localhost, IP:127.0.0.1,
 *                         keyUsage digitalSignature, extendedKeyUsage serverAuth + clientAuth
 *   keygen trust --out FILE CERT.pem...
 *       FILE              the certificates, concatenated (a party name may appear once)
 *   keygen demo --parties a,b,c --out DIR [--days N] [--force]
 *       both, for every party, and DIR/trust.pem with all their certificates
 * </pre>
 *
 * Each party runs {@code party} on its own machine and sends only its {@code .crt.pem} to the others;
 * every party builds the same trust file with {@code trust}. {@code demo} is for one machine (demos
 * and tests). Existing key or certificate files are not replaced unless {@code --force} is given.
 *
 * <p>The same operations are static methods ({@link #generateParty}, {@link #writeTrust}, {@link
 * #generateDemo}). What it prints: the paths written and certificate fingerprints, never key
 * material.
 */
public final class KeyGen {

  /** Default certificate lifetime in days. */
  public static final int DEFAULT_DAYS = 365;

  /** Name of the trust file {@code demo} writes. */
  public static final String TRUST_FILE_NAME = "trust.pem";

  /**
   * The files written for one party.
   *
   * @param name     the party name (the certificate's CN)
   * @param keyFile  {@code DIR/NAME.key.pem}, the private key (secret)
   * @param certFile {@code DIR/NAME.crt.pem}, the certificate (public; goes to the other parties)
   */
  public record PartyFiles(String name, Path keyFile, Path certFile) {}

  private static final SecureRandom RANDOM = new SecureRandom();

  private KeyGen() {}

  /** {@code DIR/NAME.key.pem}. */
  public static Path keyFile(Path dir, String name) {
    return dir.resolve(name + ".key.pem");
  }

  /** {@code DIR/NAME.crt.pem}. */
  public static Path certFile(Path dir, String name) {
    return dir.resolve(name + ".crt.pem");
  }

  /** {@code DIR/trust.pem}. */
  public static Path trustFile(Path dir) {
    return dir.resolve(TRUST_FILE_NAME);
  }

  /** A key pair and a certificate valid for {@value #DEFAULT_DAYS} days; refuses to replace files. */
  public static PartyFiles generateParty(String name, Path dir) {
    return generateParty(name, dir, DEFAULT_DAYS, false);
  }

  /**
   * Write {@code DIR/NAME.key.pem} and {@code DIR/NAME.crt.pem} (see the class comment), creating
   * {@code dir} if needed.
   *
   * @param overwrite whether existing files may be replaced
   * @throws IllegalArgumentException for an invalid name or days, or existing files without {@code overwrite}
   * @throws UncheckedIOException if the files cannot be written
   */
  public static PartyFiles generateParty(String name, Path dir, int days, boolean overwrite) {
    new PartyDirectory.Party(name, "localhost", 0); // validates the name
    Objects.requireNonNull(dir, "dir");
    if (days < 1) {
      throw new IllegalArgumentException("--days must be at least 1, was " + days);
    }
    Path key = keyFile(dir, name);
    Path cert = certFile(dir, name);
    if (!overwrite) {
      for (Path p : List.of(key, cert)) {
        if (Files.exists(p)) {
          throw new IllegalArgumentException(p + " already exists; use --force to replace it");
        }
      }
    }
    KeyPair kp;
    X509Certificate certificate;
    try {
      KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
      kpg.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      kp = kpg.generateKeyPair();
      certificate = selfSigned(name, kp, days);
    } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
      throw new IllegalStateException("cannot create an EC P-256 certificate in this JVM: " + e.getMessage(), e);
    }
    try {
      Files.createDirectories(dir);
      if (overwrite) {
        Files.deleteIfExists(key);
      }
      createPrivateFile(key);
      try (Writer w = Files.newBufferedWriter(key, StandardCharsets.US_ASCII, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING);
           JcaPEMWriter pem = new JcaPEMWriter(w)) {
        pem.writeObject(new JcaPKCS8Generator(kp.getPrivate(), null));
      }
      try (Writer w = Files.newBufferedWriter(cert, StandardCharsets.US_ASCII);
           JcaPEMWriter pem = new JcaPEMWriter(w)) {
        pem.writeObject(certificate);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the key files of party '" + name + "' into " + dir + ": "
          + e.getMessage(), e);
    }
    return new PartyFiles(name, key, cert);
  }

  /**
   * Write the certificates of {@code certFiles} (each one certificate or a bundle) into one trust file.
   *
   * @return the party names (certificate CNs), in file order
   * @throws IllegalArgumentException if a certificate has no CN or a party name appears twice
   */
  public static List<String> writeTrust(Path out, List<Path> certFiles) {
    Objects.requireNonNull(out, "out");
    if (certFiles.isEmpty()) {
      throw new IllegalArgumentException("trust: no certificate files given");
    }
    Map<String, Path> seen = new LinkedHashMap<>();
    List<X509Certificate> all = new ArrayList<>();
    for (Path f : certFiles) {
      for (X509Certificate c : PartyCredentials.readCertificates(f)) {
        String cn = PartyCredentials.commonName(c);
        if (cn == null) {
          throw new IllegalArgumentException("certificate file " + f + " holds a certificate without a subject CN");
        }
        Path before = seen.putIfAbsent(cn, f);
        if (before != null) {
          throw new IllegalArgumentException("party '" + cn + "' appears twice (in " + before + " and " + f
              + "); a trust file holds one certificate per party");
        }
        all.add(c);
      }
    }
    try {
      Path parent = out.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      try (Writer w = Files.newBufferedWriter(out, StandardCharsets.US_ASCII);
           JcaPEMWriter pem = new JcaPEMWriter(w)) {
        for (X509Certificate c : all) {
          pem.writeObject(c);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write trust file " + out + ": " + e.getMessage(), e);
    }
    return new ArrayList<>(seen.keySet());
  }

  /** {@link #generateDemo(List, Path, int, boolean)} with the default lifetime, not replacing files. */
  public static Path generateDemo(List<String> names, Path dir) {
    return generateDemo(names, dir, DEFAULT_DAYS, false);
  }

  /**
   * Keys and certificates for every party in {@code names}, and {@code DIR/trust.pem} holding all
   * their certificates.
   *
   * @return the trust file
   */
  public static Path generateDemo(List<String> names, Path dir, int days, boolean overwrite) {
    if (names.isEmpty()) {
      throw new IllegalArgumentException("demo: no parties given");
    }
    List<Path> certs = new ArrayList<>();
    for (String n : names) {
      if (certs.contains(certFile(dir, n))) {
        throw new IllegalArgumentException("party '" + n + "' is listed twice");
      }
      certs.add(certFile(dir, n));
    }
    for (String n : names) {
      generateParty(n, dir, days, overwrite);
    }
    Path trust = trustFile(dir);
    writeTrust(trust, certs);
    return trust;
  }

  /** Command-line entry point; exits with a non-zero status on error. */
  public static void main(String[] args) {
    int code = run(args, System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }

  /**
   * Run the command with {@code args}, printing to {@code out} and {@code err}.
   *
   * @return 0 on success, 1 if the operation failed, 2 for a usage error
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0 || isHelp(args[0])) {
      (args.length == 0 ? err : out).print(usage());
      return args.length == 0 ? 2 : 0;
    }
    String command = args[0];
    Map<String, String> options = new LinkedHashMap<>();
    List<String> positional = new ArrayList<>();
    boolean force = false;
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      if (isHelp(a)) {
        out.print(usage());
        return 0;
      }
      if (a.equals("--force")) {
        force = true;
      } else if (a.startsWith("--")) {
        String name = a;
        String value;
        int eq = a.indexOf('=');
        if (eq > 0) {
          name = a.substring(0, eq);
          value = a.substring(eq + 1);
        } else if (i + 1 < args.length) {
          value = args[++i];
        } else {
          err.println("keygen " + command + ": option " + a + " needs a value");
          return 2;
        }
        options.put(name, value);
      } else {
        positional.add(a);
      }
    }
    try {
      switch (command) {
        case "party":
          return party(options, positional, force, out, err);
        case "trust":
          return trust(options, positional, out, err);
        case "demo":
          return demo(options, positional, force, out, err);
        default:
          err.println("keygen: unknown command '" + command + "'");
          err.print(usage());
          return 2;
      }
    } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
      err.println("keygen " + command + ": " + e.getMessage());
      return 1;
    }
  }

  private static int party(Map<String, String> o, List<String> positional, boolean force, PrintStream out,
      PrintStream err) {
    if (!allowed(o, positional, "party", err, "--name", "--out", "--days")) {
      return 2;
    }
    String name = required(o, "--name", "party", err);
    String dir = required(o, "--out", "party", err);
    Integer days = days(o, err);
    if (name == null || dir == null || days == null) {
      return 2;
    }
    PartyFiles f = generateParty(name, Path.of(dir), days, force);
    printParty(f, out);
    return 0;
  }

  private static int trust(Map<String, String> o, List<String> positional, PrintStream out, PrintStream err) {
    if (!allowed(o, List.of(), "trust", err, "--out")) {
      return 2;
    }
    String file = required(o, "--out", "trust", err);
    if (file == null) {
      return 2;
    }
    if (positional.isEmpty()) {
      err.println("keygen trust: give the certificate files (CERT.pem...)");
      return 2;
    }
    List<Path> certs = new ArrayList<>();
    for (String p : positional) {
      certs.add(Path.of(p));
    }
    List<String> names = writeTrust(Path.of(file), certs);
    out.println("wrote " + Path.of(file) + " (trust file: " + String.join(", ", names) + ")");
    return 0;
  }

  private static int demo(Map<String, String> o, List<String> positional, boolean force, PrintStream out,
      PrintStream err) {
    if (!allowed(o, positional, "demo", err, "--parties", "--out", "--days")) {
      return 2;
    }
    String parties = required(o, "--parties", "demo", err);
    String dir = required(o, "--out", "demo", err);
    Integer days = days(o, err);
    if (parties == null || dir == null || days == null) {
      return 2;
    }
    List<String> names = new ArrayList<>();
    for (String n : parties.split(",")) {
      if (!n.isBlank()) {
        names.add(n.trim());
      }
    }
    Path d = Path.of(dir);
    Path trust = generateDemo(names, d, days, force);
    for (String n : names) {
      printParty(new PartyFiles(n, keyFile(d, n), certFile(d, n)), out);
    }
    out.println("wrote " + trust + " (trust file: " + String.join(", ", names) + ")");
    return 0;
  }

  private static void printParty(PartyFiles f, PrintStream out) {
    X509Certificate c = PartyCredentials.readCertificates(f.certFile()).get(0);
    out.println("wrote " + f.keyFile() + " (private key of party '" + f.name() + "'; keep it secret)");
    out.println("wrote " + f.certFile() + " (certificate CN=" + f.name() + ", SHA-256 "
        + PartyCredentials.fingerprint(c) + ", valid until " + c.getNotAfter().toInstant() + ")");
  }

  private static boolean allowed(Map<String, String> o, List<String> positional, String cmd, PrintStream err,
      String... names) {
    List<String> ok = List.of(names);
    for (String k : o.keySet()) {
      if (!ok.contains(k)) {
        err.println("keygen " + cmd + ": unknown option " + k);
        err.print(usage());
        return false;
      }
    }
    if (!positional.isEmpty()) {
      err.println("keygen " + cmd + ": unexpected argument '" + positional.get(0) + "'");
      return false;
    }
    return true;
  }

  private static String required(Map<String, String> o, String name, String cmd, PrintStream err) {
    String v = o.get(name);
    if (v == null || v.isBlank()) {
      err.println("keygen " + cmd + ": " + name + " is required");
      return null;
    }
    return v;
  }

  private static Integer days(Map<String, String> o, PrintStream err) {
    String v = o.get("--days");
    if (v == null) {
      return DEFAULT_DAYS;
    }
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      err.println("keygen: --days must be a number of days, was '" + v + "'");
      return null;
    }
  }

  private static boolean isHelp(String a) {
    return a.equals("-h") || a.equals("--help") || a.equals("help");
  }

  static String usage() {
    return String.join(System.lineSeparator(),
        "usage: keygen <command> [options]",
        "  party --name NAME --out DIR [--days N] [--force]",
        "        write DIR/NAME.key.pem (private key, mode 600) and DIR/NAME.crt.pem (certificate)",
        "  trust --out FILE CERT.pem...",
        "        write a trust file holding the given parties' certificates",
        "  demo  --parties a,b,c --out DIR [--days N] [--force]",
        "        keys and certificates for several parties, and DIR/" + TRUST_FILE_NAME,
        "");
  }

  private static X509Certificate selfSigned(String name, KeyPair kp, int days)
      throws GeneralSecurityException, OperatorCreationException, CertIOException {
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name).build();
    Instant now = Instant.now();
    Date notBefore = Date.from(now.minus(Duration.ofHours(1)));
    Date notAfter = Date.from(now.plus(Duration.ofDays(days)));
    BigInteger serial = new BigInteger(127, RANDOM).setBit(126);
    X509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(subject, serial, notBefore, notAfter, subject, kp.getPublic());
    JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
    b.addExtension(Extension.extendedKeyUsage, false,
        new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
    b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
        new GeneralName(GeneralName.dNSName, name),
        new GeneralName(GeneralName.dNSName, "localhost"),
        new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
    b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
    return new JcaX509CertificateConverter()
        .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
  }

  private static void createPrivateFile(Path file) throws IOException {
    try {
      if (Files.getFileStore(file.toAbsolutePath().getParent()).supportsFileAttributeView(PosixFileAttributeView.class)) {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } else {
        Files.createFile(file);
      }
    } catch (FileAlreadyExistsException e) {
      throw new IllegalArgumentException(file + " already exists; use --force to replace it", e);
    }
  }
}
