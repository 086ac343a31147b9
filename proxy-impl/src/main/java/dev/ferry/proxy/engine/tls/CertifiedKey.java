package dev.ferry.proxy.engine.tls;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A certificate chain (leaf first) and the private key of its leaf: what a TLS server shows,
 * or a client presents for mutual TLS.
 */
public record CertifiedKey(List<X509Certificate> chain, PrivateKey privateKey) {
  private static final byte[] CHALLENGE = "ferry key check".getBytes(StandardCharsets.US_ASCII);

  public CertifiedKey {
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("a certificate chain needs at least one certificate");
    }
  }

  /**
   * Loads a PEM chain and PKCS#8 PEM key, checking that the key belongs to the chain's first
   * certificate (a mismatch otherwise only shows as a handshake failure on every connection).
   *
   * @throws IllegalArgumentException naming the files if either is unusable or they do not match
   */
  public static CertifiedKey load(Path chainFile, Path keyFile) {
    CertifiedKey key = new CertifiedKey(Pem.certificates(chainFile), Pem.privateKey(keyFile));
    String unusable = key.cannotSign();
    if (unusable != null) {
      throw new IllegalArgumentException("private key file " + keyFile + " cannot sign in this JDK ("
          + unusable + "): use an RSA key, or an EC key on P-256, P-384 or P-521");
    }
    if (!key.keyMatchesLeaf()) {
      throw new IllegalArgumentException("private key file " + keyFile
          + " does not belong to the first certificate in " + chainFile + " ("
          + key.leaf().getSubjectX500Principal().getName() + ")");
    }
    return key;
  }

  /** The certificate the key belongs to. */
  public X509Certificate leaf() {
    return chain.get(0);
  }

  /**
   * Why the private key cannot sign at all, or null: a curve the JDK does not support
   * (secp256k1 since Java 16) failed the match below, reported as a key that does not belong
   * to its certificate (probe v24).
   */
  private String cannotSign() {
    String algorithm = signatureAlgorithm(privateKey.getAlgorithm());
    if (algorithm == null) {
      return null;
    }
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(privateKey);
      signer.update(CHALLENGE);
      signer.sign();
      return null;
    } catch (GeneralSecurityException | RuntimeException e) {
      return String.valueOf(e.getMessage());
    }
  }

  private static String signatureAlgorithm(String keyAlgorithm) {
    return switch (keyAlgorithm) {
      case "EC" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      default -> null;
    };
  }

  /** True if the private key signs what the leaf's public key verifies. */
  public boolean keyMatchesLeaf() {
    PublicKey publicKey = leaf().getPublicKey();
    if (!publicKey.getAlgorithm().equals(privateKey.getAlgorithm())) {
      return false;
    }
    String algorithm = signatureAlgorithm(publicKey.getAlgorithm());
    if (algorithm == null) {
      return true; // other algorithms: the handshake is the check
    }
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(privateKey);
      signer.update(CHALLENGE);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(CHALLENGE);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** The key type name TLS key managers are asked for ("RSA", "EC", ...). */
  String keyType() {
    return privateKey.getAlgorithm();
  }

  @Override
  public String toString() {
    return "CertifiedKey[" + leaf().getSubjectX500Principal().getName() + "]";
  }
}
