package org.sparkmpc.connectors.federated;

import java.io.IOException;
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
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.sparkmpc.net.PartyCredentials;

/**
 * The clients' certificate authority: an EC P-256 key with a self-signed CA certificate, which issues
 * each client a certificate whose CN is its client id. Upload endpoints trust this CA (and only it) for
 * client authentication, and take the client id from the verified certificate.
 *
 * <p>Files, PEM as {@link org.sparkmpc.net.KeyGen} writes them: {@code NAME.key.pem} (PKCS#8, created
 * with mode 600 on POSIX file systems) and {@code NAME.crt.pem}. Everything also works in memory
 * ({@link #createAuthority(String)}, {@link #issue}), so a benchmark can make thousands of clients
 * without files. Never prints or logs key material.
 */
public final class ClientCertificates {

  /** Default lifetime of a CA or client certificate, in days. */
  public static final int DEFAULT_DAYS = 365;

  private static final Pattern CLIENT_ID = Pattern.compile("[A-Za-z0-9._@-]{1,128}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private ClientCertificates() {}

  /** A certificate authority in memory: its key (secret) and self-signed certificate. */
  public record Authority(PrivateKey key, X509Certificate certificate) {
    public Authority {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(certificate, "certificate");
    }

    /** The authority's name, never its key. */
    @Override
    public String toString() {
      return "Authority[" + certificate.getSubjectX500Principal().getName() + "]";
    }
  }

  /** A client's identity in memory: its id (the certificate's CN), key (secret) and certificate. */
  public record ClientIdentity(String clientId, PrivateKey key, X509Certificate certificate) {
    public ClientIdentity {
      requireValidClientId(clientId);
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(certificate, "certificate");
    }

    /** The client's id, never its key. */
    @Override
    public String toString() {
      return "ClientIdentity[" + clientId + "]";
    }
  }

  /** The two files of a key and its certificate. */
  public record PemFiles(Path keyFile, Path certFile) {}

  /** @throws IllegalArgumentException unless {@code id} is 1 to 128 characters of {@code [A-Za-z0-9._@-]} */
  public static String requireValidClientId(String id) {
    if (id == null || !CLIENT_ID.matcher(id).matches()) {
      throw new IllegalArgumentException("a client id must be 1 to 128 characters of [A-Za-z0-9._@-]");
    }
    return id;
  }

  /** Whether {@code id} is a valid client id. */
  public static boolean isValidClientId(String id) {
    return id != null && CLIENT_ID.matcher(id).matches();
  }

  /** A new CA (CN = {@code name}), valid for {@value #DEFAULT_DAYS} days, in memory. */
  public static Authority createAuthority(String name) {
    return createAuthority(name, DEFAULT_DAYS);
  }

  /** A new CA (CN = {@code name}), valid for {@code days} days, in memory. */
  public static Authority createAuthority(String name, int days) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a CA needs a name");
    }
    KeyPair kp = newKeyPair();
    X500Name subject = cn(name);
    try {
      X509v3CertificateBuilder b = builder(subject, subject, kp.getPublic(), days);
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
      return new Authority(kp.getPrivate(), sign(b, kp.getPrivate()));
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot create a CA certificate in this JVM: " + e.getMessage(), e);
    }
  }

  /** A new CA written to {@code DIR/NAME.key.pem} and {@code DIR/NAME.crt.pem}; refuses to replace files. */
  public static Authority createAuthority(String name, Path dir) {
    Authority ca = createAuthority(name);
    write(dir, name, ca.key(), ca.certificate());
    return ca;
  }

  /** Read a CA written by {@link #createAuthority(String, Path)}. */
  public static Authority readAuthority(Path keyFile, Path certFile) {
    return new Authority(PartyCredentials.readPrivateKey(keyFile), single(certFile));
  }

  /** A new client key and certificate (CN = {@code clientId}) signed by {@code ca}, in memory. */
  public static ClientIdentity issue(Authority ca, String clientId) {
    return issue(ca, clientId, DEFAULT_DAYS);
  }

  /** A new client key and certificate (CN = {@code clientId}, valid {@code days} days) signed by {@code ca}. */
  public static ClientIdentity issue(Authority ca, String clientId, int days) {
    requireValidClientId(clientId);
    KeyPair kp = newKeyPair();
    try {
      X500Name issuer = X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded());
      X509v3CertificateBuilder b = builder(issuer, cn(clientId), kp.getPublic(), days);
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
      b.addExtension(Extension.authorityKeyIdentifier, false,
          ext.createAuthorityKeyIdentifier(ca.certificate()));
      return new ClientIdentity(clientId, kp.getPrivate(), sign(b, ca.key()));
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot issue a client certificate in this JVM: " + e.getMessage(), e);
    }
  }

  /** Issue a client certificate and write {@code DIR/CLIENTID.key.pem} and {@code DIR/CLIENTID.crt.pem}. */
  public static PemFiles issueToFiles(Authority ca, String clientId, Path dir) {
    ClientIdentity id = issue(ca, clientId);
    return write(dir, clientId, id.key(), id.certificate());
  }

  /** Read a client identity from its key and certificate files; the client id is the certificate's CN. */
  public static ClientIdentity readClient(Path keyFile, Path certFile) {
    X509Certificate cert = single(certFile);
    String cn = PartyCredentials.commonName(cert);
    if (!isValidClientId(cn)) {
      throw new IllegalArgumentException("certificate file " + certFile + " has no valid client id as its CN");
    }
    return new ClientIdentity(cn, PartyCredentials.readPrivateKey(keyFile), cert);
  }

  private static X509Certificate single(Path certFile) {
    List<X509Certificate> certs = PartyCredentials.readCertificates(certFile);
    if (certs.size() != 1) {
      throw new IllegalArgumentException("certificate file " + certFile + " holds " + certs.size()
          + " certificates; expected exactly one");
    }
    return certs.get(0);
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
      kpg.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return kpg.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("EC P-256 is not available in this JVM", e);
    }
  }

  private static X500Name cn(String name) {
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name).build();
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, PublicKey key, int days) {
    if (days < 1) {
      throw new IllegalArgumentException("days must be at least 1, was " + days);
    }
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(issuer, new BigInteger(127, RANDOM).setBit(126),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(days))), subject, key);
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
    } catch (org.bouncycastle.operator.OperatorCreationException e) {
      throw new GeneralSecurityException(e.getMessage(), e);
    }
  }

  private static PemFiles write(Path dir, String name, PrivateKey key, X509Certificate cert) {
    Path keyFile = dir.resolve(name + ".key.pem");
    Path certFile = dir.resolve(name + ".crt.pem");
    try {
      Files.createDirectories(dir);
      if (Files.exists(certFile)) {
        throw new IllegalArgumentException(certFile + " already exists");
      }
      try {
        if (Files.getFileStore(dir).supportsFileAttributeView(PosixFileAttributeView.class)) {
          Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
          Files.createFile(keyFile);
        }
      } catch (FileAlreadyExistsException e) {
        throw new IllegalArgumentException(keyFile + " already exists", e);
      }
      try (Writer w = Files.newBufferedWriter(keyFile, StandardCharsets.US_ASCII, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING);
           JcaPEMWriter pem = new JcaPEMWriter(w)) {
        pem.writeObject(new JcaPKCS8Generator(key, null));
      }
      try (Writer w = Files.newBufferedWriter(certFile, StandardCharsets.US_ASCII);
           JcaPEMWriter pem = new JcaPEMWriter(w)) {
        pem.writeObject(cert);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + keyFile + " and " + certFile + ": " + e.getMessage(), e);
    }
    return new PemFiles(keyFile, certFile);
  }
}
