package dev.ferry.proxy.testkit;

import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates made at test time with BouncyCastle (a dependency of the testkit), so no key or
 * certificate is ever checked in: a CA, and leaf certificates it issues for test origins. EC
 * P-256 keys, valid from an hour ago for a day.
 */
public final class TestPki {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final X509Certificate certificate;
  private final PrivateKey key;
  /** The issuer's certificate; this one's for a CA. */
  private final X509Certificate issuer;

  private TestPki(X509Certificate certificate, PrivateKey key, X509Certificate issuer) {
    this.certificate = certificate;
    this.key = key;
    this.issuer = issuer;
  }

  /** A new self-signed CA with a name unique to this call. */
  public static TestPki authority() throws Exception {
    KeyPair keys = keyPair();
    X500Name name = new X500Name("CN=Ferry Test CA " + Long.toHexString(RANDOM.nextLong()));
    X509v3CertificateBuilder builder = builder(name, name, keys);
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    builder.addExtension(Extension.keyUsage, true,
        new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    X509Certificate certificate = sign(builder, keys.getPrivate());
    return new TestPki(certificate, keys.getPrivate(), certificate);
  }

  /**
   * A leaf certificate issued by this CA for these DNS names or IP literals, usable by servers
   * and clients alike.
   */
  public TestPki issue(String... names) throws Exception {
    KeyPair keys = keyPair();
    X509v3CertificateBuilder builder = builder(
        X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
        new X500Name("CN=" + names[0]), keys);
    List<GeneralName> alternatives = new ArrayList<>();
    for (String name : names) {
      alternatives.add(Character.isDigit(name.charAt(0)) || name.contains(":")
          ? new GeneralName(GeneralName.iPAddress, InetAddress.getByName(name).getHostAddress())
          : new GeneralName(GeneralName.dNSName, name));
    }
    builder.addExtension(Extension.subjectAlternativeName, false,
        new GeneralNames(alternatives.toArray(new GeneralName[0])));
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
        new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
    return new TestPki(sign(builder, key), keys.getPrivate(), certificate);
  }

  public X509Certificate certificate() {
    return certificate;
  }

  /** The certificate as PEM. */
  public String certificatePem() throws Exception {
    return pem("CERTIFICATE", certificate.getEncoded());
  }

  /** The private key as PKCS#8 PEM. */
  public String privateKeyPem() {
    return pem("PRIVATE KEY", key.getEncoded());
  }

  /** Writes the certificate to {@code dir/name.crt} and the key to {@code dir/name.key}. */
  public Path writeCertificate(Path dir, String name) throws Exception {
    Files.writeString(dir.resolve(name + ".key"), privateKeyPem(), StandardCharsets.US_ASCII);
    return Files.writeString(dir.resolve(name + ".crt"), certificatePem(), StandardCharsets.US_ASCII);
  }

  /** A trust store holding this certificate (a CA's) and nothing else. */
  public KeyStore trustStore() throws GeneralSecurityException, java.io.IOException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setCertificateEntry("ca", certificate);
    return store;
  }

  /** A context that presents this certificate and its issuer, for a test server or client. */
  public SSLContext keyContext() throws Exception {
    return context(keyManagers(), null);
  }

  /** A context that presents this certificate and trusts {@code ca} only, for mutual TLS. */
  public SSLContext keyContextTrusting(TestPki ca) throws Exception {
    return context(keyManagers(), ca.trustManagers());
  }

  /** A client context that trusts this CA only. */
  public SSLContext trustContext() throws Exception {
    return context(null, trustManagers());
  }

  private KeyManager[] keyManagers() throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry("key", key, new char[0], new Certificate[] {certificate, issuer});
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, new char[0]);
    return keys.getKeyManagers();
  }

  private TrustManager[] trustManagers() throws Exception {
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trustStore());
    return trust.getTrustManagers();
  }

  private static SSLContext context(KeyManager[] keys, TrustManager[] trust) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys, trust, null);
    return context;
  }

  private static KeyPair keyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return generator.generateKeyPair();
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(issuer, new BigInteger(64, RANDOM).add(BigInteger.ONE),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))),
        subject, keys.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
      throws Exception {
    return new JcaX509CertificateConverter().getCertificate(
        builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
  }

  private static String pem(String type, byte[] der) {
    String base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + base64 + "\n-----END " + type + "-----\n";
  }
}
