package dev.ferry.proxy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * A certificate authority with which the proxy signs the certificates it shows clients when it
 * intercepts HTTPS (see {@link InterceptTls}): a CA certificate and its private key. Immutable.
 *
 * <p>Clients must trust the CA for interception to work. This class hands them what they need:
 * the certificate as {@linkplain #certificatePem() PEM}, a {@linkplain #trustStore() trust store},
 * a {@linkplain #trustManager() trust manager} or a ready {@linkplain #sslContext() SSL context}.
 *
 * <pre>{@code
 * CertificateAuthority ca = CertificateAuthority.generate(Duration.ofDays(1));
 * ProxyServer proxy = ProxyServer.builder()
 *     .interceptTls(InterceptTls.of(ca).hosts("*.example.com"))
 *     .build()
 *     .start();
 * HttpClient client = HttpClient.newBuilder()
 *     .proxy(ProxySelector.of(new InetSocketAddress("localhost", proxy.port())))
 *     .sslContext(ca.sslContext())
 *     .build();
 * }</pre>
 *
 * <p>A generated CA is unique to one run ({@code CN=Ferry Interception CA <random>}) and short
 * lived, so a leaked one is of little use and none is ever bundled: a bundled CA is trusted by
 * everyone who trusts it for anyone, and expires under all its users at once. {@link #toString()}
 * never shows the private key.
 */
public final class CertificateAuthority {
  private static final Duration DEFAULT_VALIDITY = Duration.ofDays(30);
  private static final Duration MAX_VALIDITY = Duration.ofDays(3650);

  private final X509Certificate certificate;
  private final PrivateKey privateKey;

  private CertificateAuthority(X509Certificate certificate, PrivateKey privateKey) {
    this.certificate = certificate;
    this.privateKey = privateKey;
  }

  /**
   * Generates a new CA valid for 30 days, with an EC P-256 key and a name unique to this call.
   * Needs {@code org.bouncycastle:bcpkix-jdk18on} on the class path.
   *
   * @throws IllegalStateException if BouncyCastle or the engine is missing (the message names
   *     the artifact to add)
   */
  public static CertificateAuthority generate() {
    return generate(DEFAULT_VALIDITY);
  }

  /**
   * Generates a new CA valid for {@code validity} from now (an hour earlier, for clock skew), with
   * an EC P-256 key and a name unique to this call. Needs {@code org.bouncycastle:bcpkix-jdk18on}
   * on the class path.
   *
   * @throws IllegalArgumentException unless {@code validity} is between 1 minute and 3650 days
   * @throws IllegalStateException if BouncyCastle or the engine is missing (the message names
   *     the artifact to add)
   */
  public static CertificateAuthority generate(Duration validity) {
    Objects.requireNonNull(validity, "validity");
    if (validity.compareTo(Duration.ofMinutes(1)) < 0 || validity.compareTo(MAX_VALIDITY) > 0) {
      throw new IllegalArgumentException(String.format(Locale.ROOT,
          "CA validity must be between 1 minute and 3650 days (was %s)", validity));
    }
    return EngineLoader.engine().generateAuthority(validity);
  }

  /**
   * Loads a CA from a PEM certificate file and a PEM PKCS#8 private key file
   * ({@code -----BEGIN PRIVATE KEY-----}, RSA or EC, unencrypted).
   *
   * @throws IllegalArgumentException if a file holds no such certificate or key, the key does not
   *     belong to the certificate, or the certificate is not a CA; the message names the file
   * @throws java.io.UncheckedIOException if a file cannot be read
   */
  public static CertificateAuthority fromPem(Path certificatePem, Path privateKeyPem) {
    Objects.requireNonNull(certificatePem, "certificatePem");
    Objects.requireNonNull(privateKeyPem, "privateKeyPem");
    return EngineLoader.engine().loadAuthority(certificatePem, privateKeyPem);
  }

  /**
   * A CA made of a certificate and key the caller already holds.
   *
   * @throws IllegalArgumentException if the certificate is not a CA (basic constraints
   *     {@code CA:true})
   */
  public static CertificateAuthority of(X509Certificate certificate, PrivateKey privateKey) {
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(privateKey, "privateKey");
    if (certificate.getBasicConstraints() < 0) {
      throw new IllegalArgumentException("certificate is not a CA, it lacks basic constraints "
          + "CA:true (was " + certificate.getSubjectX500Principal().getName() + ")");
    }
    return new CertificateAuthority(certificate, privateKey);
  }

  /** The CA certificate. */
  public X509Certificate certificate() {
    return certificate;
  }

  /** The CA's private key; keep it secret. */
  public PrivateKey privateKey() {
    return privateKey;
  }

  /** The CA certificate as PEM text, for a client's trust store or {@code curl --cacert}. */
  public String certificatePem() {
    try {
      return pem("CERTIFICATE", certificate.getEncoded());
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("CA certificate cannot be encoded", e);
    }
  }

  /**
   * The private key as PKCS#8 PEM text, to keep a generated CA for later runs with
   * {@link #fromPem}. Store it where only the proxy can read it.
   */
  public String privateKeyPem() {
    return pem("PRIVATE KEY", privateKey.getEncoded());
  }

  /** The SHA-256 fingerprint of the certificate, as colon-separated upper-case hex, for logs. */
  public String sha256Fingerprint() {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
      return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }

  /**
   * A new in-memory PKCS#12 trust store holding the CA certificate (alias {@code ferry-ca}) and
   * nothing else; its password is empty.
   */
  public KeyStore trustStore() {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setCertificateEntry("ferry-ca", certificate);
      return store;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make a trust store", e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A trust manager that trusts certificates issued by this CA, and only those (not the JDK's
   * default CAs): for a client that talks to intercepted hosts only.
   */
  public X509TrustManager trustManager() {
    try {
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trustStore());
      for (TrustManager manager : factory.getTrustManagers()) {
        if (manager instanceof X509TrustManager) {
          return (X509TrustManager) manager;
        }
      }
      throw new IllegalStateException("no X509TrustManager from " + factory.getAlgorithm());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make a trust manager", e);
    }
  }

  /**
   * A new client-side {@code SSLContext} ({@code TLS}) that trusts this CA only; pass it to
   * {@code HttpClient.Builder.sslContext} or use its socket factory.
   */
  public SSLContext sslContext() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {trustManager()}, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make an SSL context", e);
    }
  }

  private static String pem(String type, byte[] der) {
    String base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + base64 + "\n-----END " + type + "-----\n";
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof CertificateAuthority
        && certificate.equals(((CertificateAuthority) other).certificate)
        && privateKey.equals(((CertificateAuthority) other).privateKey);
  }

  @Override
  public int hashCode() {
    return certificate.hashCode();
  }

  /** The subject, validity end and fingerprint; never the key. */
  @Override
  public String toString() {
    return "CertificateAuthority[" + certificate.getSubjectX500Principal().getName()
        + ", notAfter=" + certificate.getNotAfter().toInstant()
        + ", sha256=" + sha256Fingerprint() + "]";
  }
}
