package dev.ferry.proxy.engine.tls;

import dev.ferry.proxy.CertificateAuthority;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/** Makes {@link CertificateAuthority} values: generated per run, or loaded from PEM files. */
public final class Authorities {
  /** Clients whose clocks run a little behind must still accept a certificate made just now. */
  static final Duration BACKDATE = Duration.ofHours(1);
  /** The index of keyCertSign in {@link X509Certificate#getKeyUsage()}. */
  private static final int KEY_CERT_SIGN = 5;
  private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  private static final SecureRandom RANDOM = new SecureRandom();

  private Authorities() {}

  /**
   * A new CA with an EC P-256 key, named {@code CN=Ferry Interception CA <12 hex digits>, O=Ferry}
   * so that two runs never share a name, valid from an hour ago until {@code validity} from now.
   *
   * @throws IllegalStateException naming the artifact if BouncyCastle is missing
   */
  public static CertificateAuthority generate(Duration validity) {
    BouncyCastle.require();
    byte[] id = new byte[6];
    RANDOM.nextBytes(id);
    Instant now = Instant.now();
    KeyPair keys = ecP256();
    X509Certificate certificate = CertificateBuilder.authority(keys,
        "Ferry Interception CA " + HexFormat.of().formatHex(id), now.minus(BACKDATE), now.plus(validity));
    return CertificateAuthority.of(certificate, keys.getPrivate());
  }

  /**
   * A CA from a PEM certificate (the first in the file) and a PKCS#8 PEM key. Needs no
   * BouncyCastle: only issuing leaves does.
   *
   * @throws IllegalArgumentException naming the file if either is unusable, they do not match,
   *     or the certificate is not a CA, may not sign certificates (key usage), may not stand
   *     above server certificates (extended key usage), or has a key of another type than RSA
   *     or EC, or a weak one
   */
  public static CertificateAuthority load(Path certificatePem, Path privateKeyPem) {
    // The certificate is judged before the key is matched to it: a key on a curve this JDK
    // cannot sign with read as "does not belong to" the certificate (probe v24).
    String unfit = unfitToIssue(Pem.certificates(certificatePem).get(0));
    if (unfit != null) {
      throw new IllegalArgumentException("certificate file " + certificatePem + " " + unfit);
    }
    CertifiedKey key = CertifiedKey.load(certificatePem, privateKeyPem);
    return CertificateAuthority.of(key.leaf(), key.privateKey());
  }

  /**
   * Why clients would refuse every certificate {@code ca} issues (or Ferry could not issue
   * one), as what follows "certificate file F", or null. Each of these used to start, and
   * every intercepted session then failed in the client (probes s24, v24).
   */
  private static String unfitToIssue(X509Certificate ca) {
    if (ca.getBasicConstraints() < 0) {
      return "is not a CA: " + ca.getSubjectX500Principal().getName() + " lacks basic constraints CA:true";
    }
    boolean[] usage = ca.getKeyUsage();
    if (usage != null && (usage.length <= KEY_CERT_SIGN || !usage[KEY_CERT_SIGN])) {
      return "cannot issue certificates: its key usage lacks keyCertSign (RFC 5280 §4.2.1.3)";
    }
    List<String> purposes;
    try {
      purposes = ca.getExtendedKeyUsage();
    } catch (CertificateParsingException e) {
      return "has an extended key usage that cannot be read: " + e.getMessage();
    }
    if (purposes != null && !purposes.contains(SERVER_AUTH)) {
      // Browsers and OpenSSL apply a CA's extended key usage to every certificate below it, and
      // OpenSSL takes anyExtendedKeyUsage alone for no server purpose (probe v25).
      return "cannot issue server certificates: its extended key usage lacks serverAuth";
    }
    String algorithm = ca.getPublicKey().getAlgorithm();
    if (!algorithm.equals("RSA") && !algorithm.equals("EC")) {
      return "holds a CA with an " + algorithm + " key: Ferry issues certificates with RSA or EC CA keys";
    }
    String weak = OriginCertificates.weakKey(ca.getPublicKey());
    if (weak != null) {
      return "holds a CA with a " + weak
          + ": clients refuse certificates it signs; use a key of at least 2048 bits (RSA) or 256 bits (EC)";
    }
    return null;
  }

  /** A new EC key pair on P-256 (secp256r1), which every TLS client accepts. */
  static KeyPair ecP256() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("EC P-256 is not available in this JDK", e);
    }
  }
}
