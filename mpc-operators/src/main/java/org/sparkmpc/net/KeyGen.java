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
 * The {@code keygen} command ({@link KeyGenCommand} parses it): creates the per-party TLS identities the {@link Gateway} uses.
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

  /** Command-line entry point ({@code bin/keygen}; see {@link KeyGenCommand}); exits with a non-zero status on error. */
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
    return ToolCommands.execute(new KeyGenCommand(), out, err, args);
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
