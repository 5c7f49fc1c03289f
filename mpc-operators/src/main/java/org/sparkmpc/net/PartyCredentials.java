package org.sparkmpc.net;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Reader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A party's TLS identity and the certificates it pins for its peers, loaded from the PEM files
 * {@link KeyGen} writes, and the {@link SSLContext}s the {@link Gateway} uses.
 *
 * <p>Loading checks, with errors naming the file: the files exist and hold what they should (a
 * PKCS#8 or traditional unencrypted private key; exactly one X.509 certificate; a bundle of
 * certificates, each with a subject CN and no name twice), the certificate's CN is this party's
 * name, key and certificate belong together, the certificate is currently valid, and the trust file
 * holds a certificate for every party in the directory, byte-equal to this party's own certificate
 * for this party.
 *
 * <p>Trust is pinning, not a CA: the server context accepts a client only if its certificate is
 * byte-equal to the trust file's certificate of another party in the directory; the client context
 * for peer {@code i} accepts only the certificate pinned for party {@code i}. The key manager always
 * presents this party's one certificate. Only TLS 1.3 contexts are built.
 *
 * <p>Holds the private key in memory; never logs or prints it. Error messages show file paths,
 * subject names and SHA-256 fingerprints of certificates (public data).
 */
public final class PartyCredentials {

  private static final Logger LOG = LoggerFactory.getLogger(PartyCredentials.class);

  private final PartyDirectory directory;
  private final PrivateKey privateKey;
  private final X509Certificate certificate;
  private final X509Certificate[] pinned;

  private PartyCredentials(PartyDirectory directory, PrivateKey privateKey, X509Certificate certificate,
      X509Certificate[] pinned) {
    this.directory = directory;
    this.privateKey = privateKey;
    this.certificate = certificate;
    this.pinned = pinned;
  }

  /** Load the files named in {@code config}. */
  public static PartyCredentials load(GatewayConfig config) {
    return load(config.directory(), config.keyFile(), config.certFile(), config.trustFile());
  }

  /**
   * Load and cross-check this party's key, certificate and the trust bundle.
   *
   * @throws IllegalArgumentException naming the file and what is wrong with it
   */
  public static PartyCredentials load(PartyDirectory directory, Path keyFile, Path certFile, Path trustFile) {
    Objects.requireNonNull(directory, "directory");
    String self = directory.self().name();
    PrivateKey key = readPrivateKey(keyFile);
    warnIfReadableByOthers(keyFile);

    List<X509Certificate> own = readCertificates(certFile);
    if (own.size() != 1) {
      throw new IllegalArgumentException("certificate file " + certFile + " holds " + own.size()
          + " certificates; expected exactly one (this party's)");
    }
    X509Certificate cert = own.get(0);
    String cn = commonName(cert);
    if (!self.equals(cn)) {
      throw new IllegalArgumentException("certificate file " + certFile + " is for CN=" + cn
          + ", but this party is '" + self + "'");
    }
    try {
      cert.checkValidity();
    } catch (CertificateExpiredException | CertificateNotYetValidException e) {
      throw new IllegalArgumentException("certificate file " + certFile + " is not valid now (valid "
          + cert.getNotBefore() + " to " + cert.getNotAfter() + ")", e);
    }
    if (!keyMatches(key, cert)) {
      throw new IllegalArgumentException("private key " + keyFile + " does not belong to the certificate "
          + certFile + " (CN=" + cn + ")");
    }

    Map<String, X509Certificate> trusted = readTrustBundle(trustFile);
    X509Certificate[] pins = new X509Certificate[directory.size()];
    for (int i = 0; i < directory.size(); i++) {
      String name = directory.name(i);
      X509Certificate c = trusted.get(name);
      if (c == null) {
        throw new IllegalArgumentException("trust file " + trustFile + " has no certificate for party '" + name
            + "' (it holds " + trusted.keySet() + ")");
      }
      pins[i] = c;
    }
    if (!Arrays.equals(encoded(pins[directory.selfIndex()]), encoded(cert))) {
      throw new IllegalArgumentException("trust file " + trustFile + " holds a different certificate for this party '"
          + self + "' than " + certFile + " (SHA-256 " + fingerprint(pins[directory.selfIndex()]) + " vs "
          + fingerprint(cert) + "); rebuild the trust file from the current certificates");
    }
    for (int i = 0; i < pins.length; i++) {
      if (i != directory.selfIndex()) {
        try {
          pins[i].checkValidity();
        } catch (CertificateExpiredException | CertificateNotYetValidException e) {
          LOG.warn("trust file {}: the certificate of party '{}' is not valid now (valid {} to {}); "
              + "connections with that party will be refused", trustFile, directory.name(i),
              pins[i].getNotBefore(), pins[i].getNotAfter());
        }
      }
    }
    return new PartyCredentials(directory, key, cert, pins);
  }

  /** The party list these credentials were checked against. */
  public PartyDirectory directory() {
    return directory;
  }

  /** This party's certificate. */
  public X509Certificate certificate() {
    return certificate;
  }

  /** The certificate pinned for party {@code party} (from the trust file). */
  public X509Certificate pinnedCertificate(int party) {
    return pinned[party];
  }

  /**
   * Index of the party whose pinned certificate is byte-equal to {@code cert}, or -1 if there is none
   * or it is this party's own certificate.
   */
  public int peerIndexOf(X509Certificate cert) {
    byte[] enc = encoded(cert);
    for (int i = 0; i < pinned.length; i++) {
      if (i != directory.selfIndex() && MessageDigest.isEqual(enc, encoded(pinned[i]))) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Whether {@code cert} is byte-equal to this party's own pinned certificate (and names this party):
   * a connection presenting it comes from this party's own executors or driver, a client of the
   * gateway rather than a peer.
   */
  public boolean isOwnCertificate(X509Certificate cert) {
    return MessageDigest.isEqual(encoded(cert), encoded(pinned[directory.selfIndex()]))
        && directory.self().name().equals(commonName(cert));
  }

  /**
   * A TLS 1.3 context for the gateway's server socket that accepts the other parties' certificates
   * (peers) and this party's own certificate ({@link GatewayClient}s of this party); nothing else.
   */
  public SSLContext serverContext() {
    Map<Integer, X509Certificate> accepted = new LinkedHashMap<>();
    for (int i = 0; i < pinned.length; i++) {
      accepted.put(i, pinned[i]);
    }
    return context(new PinnedTrustManager(directory, accepted, "client"));
  }

  /**
   * A TLS 1.3 context for a {@link GatewayClient} connecting to this party's own gateway: presents
   * this party's certificate and accepts only this party's pinned certificate as the server.
   */
  public SSLContext ownGatewayClientContext() {
    int self = directory.selfIndex();
    return context(new PinnedTrustManager(directory, Map.of(self, pinned[self]), "server"));
  }

  /** A TLS 1.3 context for connecting to party {@code peer}: accepts only the certificate pinned for it. */
  public SSLContext clientContext(int peer) {
    if (peer < 0 || peer >= pinned.length || peer == directory.selfIndex()) {
      throw new IllegalArgumentException("party index " + peer + " is not a peer of party '"
          + directory.self().name() + "'");
    }
    return context(new PinnedTrustManager(directory, Map.of(peer, pinned[peer]), "server"));
  }

  private SSLContext context(TrustManager tm) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLSv1.3");
      ctx.init(new KeyManager[] {new SingleKeyManager(privateKey, certificate)}, new TrustManager[] {tm},
          new SecureRandom());
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM cannot create a TLS 1.3 context: " + e.getMessage(), e);
    }
  }

  // ---- PEM reading ----

  /**
   * Read an unencrypted private key (PEM {@code PRIVATE KEY}, PKCS#8; or a traditional {@code EC
   * PRIVATE KEY}) as a key of the JDK's providers.
   *
   * @throws IllegalArgumentException naming the file if it is missing, unreadable or holds no such key
   */
  public static PrivateKey readPrivateKey(Path file) {
    Object obj = readSinglePemObject(file, "key file");
    PrivateKeyInfo info;
    if (obj instanceof PrivateKeyInfo pki) {
      info = pki;
    } else if (obj instanceof PEMKeyPair kp) {
      info = kp.getPrivateKeyInfo();
    } else if (obj instanceof PKCS8EncryptedPrivateKeyInfo || obj instanceof PEMEncryptedKeyPair) {
      throw new IllegalArgumentException("key file " + file + " holds an encrypted private key; the gateway "
          + "needs an unencrypted PKCS#8 key protected by file permissions (as keygen writes)");
    } else {
      throw new IllegalArgumentException("key file " + file + " does not hold a private key (found "
          + describePemObject(obj) + ")");
    }
    ASN1ObjectIdentifier oid = info.getPrivateKeyAlgorithm().getAlgorithm();
    String alg;
    if (X9ObjectIdentifiers.id_ecPublicKey.equals(oid)) {
      alg = "EC";
    } else if (EdECObjectIdentifiers.id_Ed25519.equals(oid)) {
      alg = "Ed25519";
    } else if (PKCSObjectIdentifiers.rsaEncryption.equals(oid)) {
      alg = "RSA";
    } else {
      throw new IllegalArgumentException("key file " + file + " holds a key of unsupported algorithm " + oid
          + "; use EC P-256 (keygen)");
    }
    try {
      return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("key file " + file + " holds an " + alg + " key that cannot be decoded: "
          + e.getClass().getSimpleName(), e);
    }
  }

  /**
   * Read every certificate of a PEM file (one certificate, or a bundle).
   *
   * @throws IllegalArgumentException naming the file if it is missing, empty or holds anything else
   */
  public static List<X509Certificate> readCertificates(Path file) {
    List<Object> objects = readPemObjects(file, "certificate file");
    if (objects.isEmpty()) {
      throw new IllegalArgumentException("certificate file " + file + " holds no PEM certificate");
    }
    List<X509Certificate> out = new ArrayList<>();
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      for (int i = 0; i < objects.size(); i++) {
        Object o = objects.get(i);
        if (!(o instanceof X509CertificateHolder h)) {
          throw new IllegalArgumentException("certificate file " + file + ": entry " + (i + 1) + " is "
              + describePemObject(o) + ", not a certificate");
        }
        out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(h.getEncoded())));
      }
    } catch (CertificateException | IOException e) {
      throw new IllegalArgumentException("certificate file " + file + " holds a certificate that cannot be decoded: "
          + e.getMessage(), e);
    }
    return out;
  }

  /**
   * Read a trust bundle: certificates by subject CN, in file order.
   *
   * @throws IllegalArgumentException naming the file if a certificate has no CN or a name appears twice
   */
  public static Map<String, X509Certificate> readTrustBundle(Path file) {
    Map<String, X509Certificate> out = new LinkedHashMap<>();
    for (X509Certificate c : readCertificates(file)) {
      String cn = commonName(c);
      if (cn == null) {
        throw new IllegalArgumentException("trust file " + file + " holds a certificate without a subject CN ("
            + c.getSubjectX500Principal().getName() + ")");
      }
      if (out.containsKey(cn)) {
        throw new IllegalArgumentException("trust file " + file + " holds two certificates for party '" + cn + "'");
      }
      out.put(cn, c);
    }
    return out;
  }

  /** The subject's common name (the party name), or {@code null} if it has none. */
  public static String commonName(X509Certificate cert) {
    X500Name name = X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
    RDN[] rdns = name.getRDNs(BCStyle.CN);
    if (rdns.length == 0) {
      return null;
    }
    return IETFUtils.valueToString(rdns[0].getFirst().getValue());
  }

  /** SHA-256 of the DER certificate, as colon-separated upper-case hex. */
  public static String fingerprint(X509Certificate cert) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(encoded(cert));
      return HexFormat.ofDelimiter(":").withUpperCase().formatHex(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  static byte[] encoded(X509Certificate cert) {
    try {
      return cert.getEncoded();
    } catch (CertificateException e) {
      throw new IllegalArgumentException("certificate CN=" + commonName(cert) + " cannot be encoded", e);
    }
  }

  private static Object readSinglePemObject(Path file, String what) {
    List<Object> objects = readPemObjects(file, what);
    if (objects.isEmpty()) {
      throw new IllegalArgumentException(what + " " + file + " holds no PEM object");
    }
    if (objects.size() > 1) {
      throw new IllegalArgumentException(what + " " + file + " holds " + objects.size()
          + " PEM objects; expected exactly one");
    }
    return objects.get(0);
  }

  private static List<Object> readPemObjects(Path file, String what) {
    Objects.requireNonNull(file, what);
    if (!Files.exists(file)) {
      throw new IllegalArgumentException(what + " " + file + " does not exist");
    }
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(what + " " + file + " is not a regular file");
    }
    List<Object> out = new ArrayList<>();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
         PEMParser p = new PEMParser(r)) {
      Object o;
      while ((o = p.readObject()) != null) {
        out.add(o);
      }
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(what + " " + file + " does not exist", e);
    } catch (IOException | RuntimeException e) {
      // Parser messages describe structure only; the file content is not echoed.
      throw new IllegalArgumentException(what + " " + file + " is not a readable PEM file ("
          + e.getClass().getSimpleName() + ")", e);
    }
    return out;
  }

  private static String describePemObject(Object o) {
    if (o instanceof X509CertificateHolder) {
      return "a certificate";
    }
    if (o instanceof PrivateKeyInfo || o instanceof PEMKeyPair) {
      return "a private key";
    }
    if (o instanceof org.bouncycastle.asn1.x509.SubjectPublicKeyInfo) {
      return "a public key";
    }
    return "a " + o.getClass().getSimpleName();
  }

  private static boolean keyMatches(PrivateKey key, X509Certificate cert) {
    String alg;
    switch (key.getAlgorithm()) {
      case "EC":
        alg = "SHA256withECDSA";
        break;
      case "EdDSA":
      case "Ed25519":
        alg = "Ed25519";
        break;
      case "RSA":
        alg = "SHA256withRSA";
        break;
      default:
        return false;
    }
    try {
      byte[] probe = new byte[32];
      new SecureRandom().nextBytes(probe);
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      return v.verify(sig);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static void warnIfReadableByOthers(Path keyFile) {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(keyFile);
      if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
        LOG.warn("key file {} is readable by group or others; restrict it to its owner (chmod 600)", keyFile);
      }
    } catch (UnsupportedOperationException | IOException e) {
      // Not a POSIX file system: nothing to check.
    }
  }

  // ---- JSSE plumbing ----

  /** Raised by the pinned trust manager; lets the gateway tell an untrusted certificate from I/O errors. */
  static final class UntrustedCertificateException extends CertificateException {
    private static final long serialVersionUID = 1L;

    UntrustedCertificateException(String message) {
      super(message);
    }
  }

  /** Accepts a peer iff its leaf certificate is byte-equal to one of the pinned certificates and valid now. */
  private static final class PinnedTrustManager extends X509ExtendedTrustManager {
    private final PartyDirectory directory;
    private final Map<Integer, byte[]> accepted = new LinkedHashMap<>();
    private final X509Certificate[] issuers;
    private final String role;

    PinnedTrustManager(PartyDirectory directory, Map<Integer, X509Certificate> certs, String role) {
      this.directory = directory;
      this.role = role;
      for (Map.Entry<Integer, X509Certificate> e : certs.entrySet()) {
        accepted.put(e.getKey(), encoded(e.getValue()));
      }
      this.issuers = certs.values().toArray(new X509Certificate[0]);
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new UntrustedCertificateException("the " + role + " presented no certificate");
      }
      X509Certificate leaf = chain[0];
      byte[] enc = leaf.getEncoded();
      for (Map.Entry<Integer, byte[]> e : accepted.entrySet()) {
        if (MessageDigest.isEqual(enc, e.getValue())) {
          try {
            leaf.checkValidity();
          } catch (CertificateExpiredException | CertificateNotYetValidException ex) {
            throw new UntrustedCertificateException("the certificate of party '" + directory.name(e.getKey())
                + "' is not valid now (valid " + leaf.getNotBefore() + " to " + leaf.getNotAfter() + ")");
          }
          return;
        }
      }
      throw new UntrustedCertificateException("the " + role + " presented a certificate (CN=" + commonName(leaf)
          + ", SHA-256 " + fingerprint(leaf) + ") that is not the pinned certificate of " + expected());
    }

    private String expected() {
      List<String> names = new ArrayList<>();
      for (Integer i : accepted.keySet()) {
        names.add(directory.name(i));
      }
      return names.size() == 1 ? "party '" + names.get(0) + "'" : "any of the parties " + names;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return issuers.clone();
    }
  }

  /** Always presents this party's single certificate, whatever issuers the peer asks for. */
  private static final class SingleKeyManager extends X509ExtendedKeyManager {
    private static final String ALIAS = "party";
    private final PrivateKey key;
    private final X509Certificate cert;

    SingleKeyManager(PrivateKey key, X509Certificate cert) {
      this.key = key;
      this.cert = cert;
    }

    private boolean matches(String keyType) {
      return keyType != null && keyType.equalsIgnoreCase(key.getAlgorithm());
    }

    private String alias(String[] keyTypes) {
      if (keyTypes != null) {
        for (String t : keyTypes) {
          if (matches(t)) {
            return ALIAS;
          }
        }
      }
      return null;
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
      return alias(keyTypes);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return matches(keyType) ? ALIAS : null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
      return alias(keyTypes);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      return matches(keyType) ? ALIAS : null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return matches(keyType) ? new String[] {ALIAS} : null;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return matches(keyType) ? new String[] {ALIAS} : null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return ALIAS.equals(alias) ? new X509Certificate[] {cert} : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return ALIAS.equals(alias) ? key : null;
    }
  }
}
