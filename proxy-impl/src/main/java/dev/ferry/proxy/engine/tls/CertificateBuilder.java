package dev.ferry.proxy.engine.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import javax.security.auth.x500.X500Principal;
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
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Builds CA and leaf certificates with BouncyCastle. The only class that names BouncyCastle
 * types: callers run {@link BouncyCastle#require()} first. Signing goes through the JDK's own
 * providers (SunEC, SunRsaSign); BouncyCastle is never registered as a security provider, since
 * an embedded library must not change its host's JVM-wide state.
 */
final class CertificateBuilder {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int MAX_COMMON_NAME = 64;

  private CertificateBuilder() {}

  /** A self-signed CA certificate: basic constraints CA (path length 0), keyCertSign and cRLSign. */
  static X509Certificate authority(KeyPair keys, String commonName, Instant notBefore, Instant notAfter) {
    X500Name name = new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.O, "Ferry").addRDN(BCStyle.CN, commonName).build();
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
          Date.from(notBefore), Date.from(notAfter), name, keys.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, true,
              new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature))
          .addExtension(Extension.subjectKeyIdentifier, false,
              extensions.createSubjectKeyIdentifier(keys.getPublic()));
      return sign(builder, keys.getPrivate());
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build a CA certificate", e);
    }
  }

  /**
   * A server certificate for {@code host} (a DNS name, or an IP literal when {@code ip}), signed
   * by the CA: subject alternative name, serverAuth, digitalSignature (the key is EC); the host
   * is the subject's CN too when it fits one.
   */
  static X509Certificate leaf(String host, boolean ip, PublicKey leafKey, X509Certificate caCertificate,
      PrivateKey caKey, Instant notBefore, Instant notAfter) {
    // RFC 5280 caps a commonName at 64 characters; past that, the SAN alone names the host,
    // under an empty subject, which makes the SAN critical (§4.1.2.6).
    boolean nameFits = host.length() <= MAX_COMMON_NAME;
    X500NameBuilder names = new X500NameBuilder(BCStyle.INSTANCE);
    X500Name subject = nameFits ? names.addRDN(BCStyle.CN, host).build() : names.build();
    GeneralName san = new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, host);
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(caCertificate, serial(),
          Date.from(notBefore), Date.from(notAfter), new X500Principal(subject.getEncoded()), leafKey)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
          .addExtension(Extension.subjectAlternativeName, !nameFits, new GeneralNames(san))
          .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(leafKey))
          .addExtension(Extension.authorityKeyIdentifier, false,
              extensions.createAuthorityKeyIdentifier(caCertificate));
      return sign(builder, caKey);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build a certificate for " + host, e);
    }
  }

  /** A random positive serial of at most 20 octets (RFC 5280 §4.1.2.2), never 0. */
  private static BigInteger serial() {
    return new BigInteger(159, RANDOM).add(BigInteger.ONE);
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signingKey)
      throws GeneralSecurityException {
    try {
      ContentSigner signer = new JcaContentSignerBuilder(signatureAlgorithm(signingKey)).build(signingKey);
      return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    } catch (OperatorCreationException e) {
      throw new IllegalStateException("cannot sign with a " + signingKey.getAlgorithm() + " key", e);
    }
  }

  private static String signatureAlgorithm(PrivateKey key) {
    switch (key.getAlgorithm()) {
      case "EC":
        return "SHA256withECDSA";
      case "RSA":
        return "SHA256withRSA";
      default:
        throw new IllegalArgumentException("CA key algorithm " + key.getAlgorithm()
            + " is not supported; use an RSA or EC key");
    }
  }
}
