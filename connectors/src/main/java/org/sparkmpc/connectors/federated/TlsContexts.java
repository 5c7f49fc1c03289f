package org.sparkmpc.connectors.federated;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.sparkmpc.net.PartyCredentials;

/** The TLS 1.3 contexts of federated uploads: the endpoint trusts the clients' CA, a client pins each party. */
final class TlsContexts {

  private static final char[] IN_MEMORY = "in-memory".toCharArray();

  private TlsContexts() {}

  /** A context presenting {@code key}/{@code cert} and trusting certificates issued by {@code cas}. */
  static SSLContext endpoint(PrivateKey key, X509Certificate cert, Collection<X509Certificate> cas) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int i = 0;
      for (X509Certificate ca : cas) {
        trust.setCertificateEntry("ca" + i++, ca);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(trust);
      return context(key, cert, tmf.getTrustManagers());
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot build the upload endpoint's TLS context: " + e.getMessage(), e);
    }
  }

  /** A client context presenting {@code key}/{@code cert} and accepting only {@code party}'s pinned certificate. */
  static SSLContext pinned(PrivateKey key, X509Certificate cert, String party, X509Certificate partyCert) {
    return context(key, cert, new TrustManager[] {new PinnedParty(party, partyCert)});
  }

  private static SSLContext context(PrivateKey key, X509Certificate cert, TrustManager[] tms) {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("self", key, IN_MEMORY, new X509Certificate[] {cert});
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, IN_MEMORY);
      SSLContext ctx = SSLContext.getInstance("TLSv1.3");
      ctx.init(kmf.getKeyManagers(), tms, new SecureRandom());
      return ctx;
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("this JVM cannot create a TLS 1.3 context: " + e.getMessage(), e);
    }
  }

  /** Accepts a server iff it presents exactly the pinned certificate, whose CN is the expected party. */
  private static final class PinnedParty extends X509ExtendedTrustManager {
    private final String party;
    private final byte[] pinned;
    private final X509Certificate cert;

    PinnedParty(String party, X509Certificate cert) {
      String cn = PartyCredentials.commonName(cert);
      if (!party.equals(cn)) {
        throw new IllegalArgumentException("the trusted certificate for party '" + party + "' has CN=" + cn);
      }
      this.party = party;
      this.cert = cert;
      try {
        this.pinned = cert.getEncoded();
      } catch (CertificateException e) {
        throw new IllegalArgumentException("the certificate of party '" + party + "' cannot be encoded", e);
      }
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("party '" + party + "' presented no certificate");
      }
      X509Certificate leaf = chain[0];
      if (!party.equals(PartyCredentials.commonName(leaf)) || !MessageDigest.isEqual(pinned, leaf.getEncoded())) {
        throw new CertificateException("the endpoint presented CN=" + PartyCredentials.commonName(leaf)
            + " (SHA-256 " + PartyCredentials.fingerprint(leaf) + "), not the pinned certificate of party '"
            + party + "'");
      }
      leaf.checkValidity();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("a federated client accepts no clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("a federated client accepts no clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("a federated client accepts no clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[] {cert};
    }
  }
}
