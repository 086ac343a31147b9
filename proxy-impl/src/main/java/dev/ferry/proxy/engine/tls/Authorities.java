package dev.ferry.proxy.engine.tls;

import dev.ferry.proxy.CertificateAuthority;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;

/** Makes {@link CertificateAuthority} values: generated per run, or loaded from PEM files. */
public final class Authorities {
  /** Clients whose clocks run a little behind must still accept a certificate made just now. */
  static final Duration BACKDATE = Duration.ofHours(1);
  /** The index of keyCertSign in {@link X509Certificate#getKeyUsage()}. */
  private static final int KEY_CERT_SIGN = 5;
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
   *     or the certificate is not a CA, may not sign certificates (key usage) or has a weak key
   */
  public static CertificateAuthority load(Path certificatePem, Path privateKeyPem) {
    CertifiedKey key = CertifiedKey.load(certificatePem, privateKeyPem);
    if (key.leaf().getBasicConstraints() < 0) {
      throw new IllegalArgumentException("certificate file " + certificatePem + " is not a CA: "
          + key.leaf().getSubjectX500Principal().getName() + " lacks basic constraints CA:true");
    }
    boolean[] usage = key.leaf().getKeyUsage();
    if (usage != null && (usage.length <= KEY_CERT_SIGN || !usage[KEY_CERT_SIGN])) {
      // RFC 5280 §4.2.1.3: every client refuses what such a CA signs; it started, and every
      // intercepted session failed in the client (probe s24).
      throw new IllegalArgumentException("certificate file " + certificatePem + " cannot issue certificates: "
          + "its key usage lacks keyCertSign (RFC 5280 §4.2.1.3)");
    }
    String weak = OriginCertificates.weakKey(key.leaf().getPublicKey());
    if (weak != null) {
      throw new IllegalArgumentException("certificate file " + certificatePem + " holds a CA with a " + weak
          + ": clients refuse certificates it signs; use a key of at least 2048 bits (RSA) or 256 bits (EC)");
    }
    return CertificateAuthority.of(key.leaf(), key.privateKey());
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
