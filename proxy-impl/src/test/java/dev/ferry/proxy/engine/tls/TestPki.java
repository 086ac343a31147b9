package dev.ferry.proxy.engine.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
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
 * Certificates made at test time, independently of the code under test (BouncyCastle directly),
 * so a test never checks the issuing code against itself. Nothing is checked in.
 */
final class TestPki {
  private static final AtomicLong SERIAL = new AtomicLong(System.nanoTime());

  private TestPki() {}

  /** A certificate, its key pair and the chain above it. */
  record Issued(X509Certificate certificate, KeyPair keys, List<X509Certificate> chain) {
    CertifiedKey certifiedKey() {
      return new CertifiedKey(chain, keys.getPrivate());
    }
  }

  static KeyPair ec() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  static KeyPair rsa() {
    return rsa(2048);
  }

  static Issued ca(String name) {
    return ca(name, ec(), KeyUsage.keyCertSign | KeyUsage.cRLSign);
  }

  /**
   * A CA with these keys and key usage (BouncyCastle's {@link KeyUsage} bits), and these extended
   * key usages if any.
   */
  static Issued ca(String name, KeyPair keys, int keyUsage, KeyPurposeId... purposes) {
    X500Name subject = new X500Name("CN=" + name);
    X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(),
        from(-1), from(2), subject, keys.getPublic());
    if (purposes.length > 0) {
      try {
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }
    X509Certificate certificate = build(builder, keyUsage, null, keys.getPrivate());
    return new Issued(certificate, keys, List.of(certificate));
  }

  /** An Ed25519 key pair. */
  static KeyPair ed25519() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  /** An RSA key pair of {@code bits}. */
  static KeyPair rsa(int bits) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(bits);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  /** A server certificate (serverAuth) for these DNS names and IP literals. */
  static Issued server(Issued ca, KeyPair keys, String... names) {
    return leaf(ca, keys, KeyPurposeId.id_kp_serverAuth, names);
  }

  /** A client certificate (clientAuth). */
  static Issued client(Issued ca, String name) {
    return leaf(ca, ec(), KeyPurposeId.id_kp_clientAuth, name);
  }

  private static Issued leaf(Issued ca, KeyPair keys, KeyPurposeId purpose, String... names) {
    List<GeneralName> sans = new ArrayList<>();
    for (String name : names) {
      boolean ip = name.matches("[0-9.]+") || name.contains(":");
      sans.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, name));
    }
    X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
        X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()), serial(),
        from(-1), from(1), new X500Name("CN=" + names[0].replace(':', '-')), keys.getPublic());
    X509Certificate certificate = build(builder, 0,
        new Object[] {purpose, new GeneralNames(sans.toArray(new GeneralName[0]))},
        ca.keys().getPrivate());
    List<X509Certificate> chain = new ArrayList<>(List.of(certificate));
    chain.addAll(ca.chain());
    return new Issued(certificate, keys, chain);
  }

  /** A CA's certificate with {@code caKeyUsage}, or with 0 a leaf's described by {@code leaf}. */
  private static X509Certificate build(X509v3CertificateBuilder builder, int caKeyUsage, Object[] leaf,
      PrivateKey signer) {
    try {
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(caKeyUsage != 0));
      if (caKeyUsage != 0) {
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(caKeyUsage));
      } else {
        builder.addExtension(Extension.keyUsage, true,
            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage((KeyPurposeId) leaf[0]));
        builder.addExtension(Extension.subjectAlternativeName, false, (GeneralNames) leaf[1]);
      }
      String algorithm = switch (signer.getAlgorithm()) {
        case "EC" -> "SHA256withECDSA";
        case "RSA" -> "SHA256withRSA";
        default -> "Ed25519";
      };
      return new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder(algorithm).build(signer)));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Writes certificates as one PEM file. */
  static Path writePem(Path dir, String name, List<X509Certificate> certificates) throws IOException {
    StringBuilder text = new StringBuilder();
    for (X509Certificate certificate : certificates) {
      try {
        text.append(Pem.encode("CERTIFICATE", certificate.getEncoded()));
      } catch (GeneralSecurityException e) {
        throw new AssertionError(e);
      }
    }
    return Files.writeString(dir.resolve(name), text);
  }

  /** Writes a private key as PKCS#8 PEM. */
  static Path writeKey(Path dir, String name, PrivateKey key) throws IOException {
    return Files.writeString(dir.resolve(name), Pem.encode("PRIVATE KEY", key.getEncoded()));
  }

  private static BigInteger serial() {
    return BigInteger.valueOf(SERIAL.incrementAndGet());
  }

  private static Date from(int days) {
    return Date.from(Instant.now().plus(Duration.ofDays(days)));
  }
}
