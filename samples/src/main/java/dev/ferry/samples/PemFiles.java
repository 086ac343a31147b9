package dev.ferry.samples;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.DSAKey;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;

/**
 * Checks the PEM files named on the command line as the flags are read, so that a wrong file
 * fails with exit code 2 and the flag's name rather than later, when the proxy starts. The
 * engine reads (and re-reads) the files itself; this only looks at what they hold.
 */
final class PemFiles {
  private PemFiles() {}

  /**
   * Returns {@code value} as a path if it names a readable file of PEM certificates.
   *
   * @throws IllegalArgumentException naming {@code flag} otherwise
   */
  static Path certificates(String flag, String value) {
    parse(flag, value);
    return Path.of(value);
  }

  /**
   * Returns {@code value} as a path if it holds a CA certificate the proxy will trust upstreams
   * with: one whose key is at least 2048 bits (RSA, DSA) or 256 (EC), as browsers require; the
   * proxy leaves weaker ones out of its trust, so a file of nothing else would trust no one.
   */
  static Path trustAnchors(String flag, String value) {
    for (Certificate certificate : parse(flag, value)) {
      PublicKey key = certificate.getPublicKey();
      boolean strong = key instanceof RSAKey rsa ? rsa.getModulus().bitLength() >= 2048
          : key instanceof DSAKey dsa ? dsa.getParams() != null && dsa.getParams().getP().bitLength() >= 2048
          : !(key instanceof ECKey ec) || ec.getParams().getOrder().bitLength() >= 256;
      if (strong) {
        return Path.of(value);
      }
    }
    throw new IllegalArgumentException(flag + " file holds no CA certificate with a key of at least 2048 bits"
        + " (RSA, DSA) or 256 bits (EC) (was " + value + ")");
  }

  private static Collection<? extends Certificate> parse(String flag, String value) {
    Path path = Path.of(value);
    if (Files.isDirectory(path)) {
      // Opened, a directory fails at its first read, which the certificate parser reported as
      // "not a PEM certificate" (probe cli F4).
      throw new IllegalArgumentException(flag + " cannot read " + value + ": it is a directory");
    }
    try (InputStream in = Files.newInputStream(path)) {
      Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certificates.isEmpty()) {
        throw new IllegalArgumentException(flag + " file holds no PEM certificate (was " + value + ")");
      }
      return certificates;
    } catch (IOException e) {
      throw new IllegalArgumentException(flag + " cannot read " + value + ": " + why(e));
    } catch (CertificateException e) {
      throw new IllegalArgumentException(flag + " file is not a PEM certificate (was " + value + ")");
    }
  }

  /**
   * Returns {@code value} as a path if it names a readable, unencrypted PKCS#8 PEM private key.
   *
   * @throws IllegalArgumentException naming {@code flag} and, for another key format, the
   *     command that converts it
   */
  static Path privateKey(String flag, String value) {
    Path path = Path.of(value);
    String text;
    try {
      text = Files.readString(path, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw new IllegalArgumentException(flag + " cannot read " + value + ": " + why(e));
    }
    if (text.contains("-----BEGIN PRIVATE KEY-----")) {
      return path;
    }
    if (text.contains("-----BEGIN RSA PRIVATE KEY-----") || text.contains("-----BEGIN EC PRIVATE KEY-----")) {
      throw new IllegalArgumentException(flag + " must be a PKCS#8 key (-----BEGIN PRIVATE KEY-----), "
          + "not PKCS#1 or SEC1 (was " + value + "); convert it with: openssl pkcs8 -topk8 -nocrypt -in "
          + value + " -out key.pem");
    }
    if (text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
      throw new IllegalArgumentException(flag + " must be an unencrypted key (was " + value
          + "); decrypt it with: openssl pkcs8 -in " + value + " -out key.pem");
    }
    throw new IllegalArgumentException(flag + " file holds no PEM private key (was " + value + ")");
  }

  /**
   * Refuses to write a private key over another one at {@code path} (it may be the key of a CA
   * that clients trust); the same key again is fine.
   *
   * @throws IllegalArgumentException naming {@code flag} if the file holds something else
   */
  static void checkWritable(String flag, Path path, String pem) {
    try {
      String held = Files.isRegularFile(path) ? Files.readString(path, StandardCharsets.ISO_8859_1) : null;
      if (held != null && held.isEmpty()) {
        // Its permissions are not the key's to choose: the key goes to a file made for it.
        throw new IllegalArgumentException(flag + ": " + path + " exists and is empty; remove it, and the "
            + "key is written to a new file readable by its owner only");
      }
      if (held != null && !held.equals(pem)) {
        throw new IllegalArgumentException(flag + ": " + path + " exists and holds another key, "
            + "perhaps of a CA that clients trust: load that CA with --ca-cert and --ca-key, or "
            + "remove the file");
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(flag + " cannot read " + path + ": " + why(e));
    }
  }

  /**
   * Refuses {@code path} as a place for a certificate if it is a symbolic link, which the write
   * would follow to a file someone else chose (probe s28; the key's flag refuses one too), or
   * if it holds a private key, which the certificate would replace (probe c28:
   * {@code --ca-out ca.key} replaced the key of a CA clients trusted).
   *
   * @throws IllegalArgumentException naming {@code flag}
   */
  static void checkCertificateFile(String flag, Path path) {
    if (Files.isSymbolicLink(path)) {
      throw new IllegalArgumentException(flag + ": " + path + " is a symbolic link; name the file "
          + "itself (the link is not followed)");
    }
    try {
      String held = Files.isRegularFile(path) ? Files.readString(path, StandardCharsets.ISO_8859_1) : "";
      if (held.contains("PRIVATE KEY-----")) {
        throw new IllegalArgumentException(flag + ": " + path + " holds a private key, which the "
            + "certificate would replace; name another file (the key goes to --ca-key-out)");
      }
      if (!held.isBlank() && !held.stripLeading().startsWith("-----BEGIN CERTIFICATE-----")) {
        // A DER or PKCS#12 key shows no PEM label, and was refused as unreadable text (probe v36).
        throw new IllegalArgumentException(flag + ": " + path + " exists and holds no PEM certificate "
            + "(a key, a DER or PKCS#12 file?), which the certificate would replace; name another "
            + "file, or remove it");
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(flag + " cannot read " + path + ": " + why(e));
    }
  }

  /**
   * Checks that the private key in {@code key} belongs to the first certificate in
   * {@code chain}: a key signs a few bytes and the certificate's public key must verify them,
   * whatever the algorithm (RSA, EC, Ed25519).
   *
   * @throws IllegalArgumentException naming {@code keyFlag} if it does not, or cannot be read
   */
  static void checkPair(String keyFlag, Path chain, Path key) {
    try (InputStream in = Files.newInputStream(chain)) {
      X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      String text = Files.readString(key, StandardCharsets.ISO_8859_1);
      String base64 = text.substring(text.indexOf("-----BEGIN PRIVATE KEY-----") + 27,
          text.indexOf("-----END PRIVATE KEY-----")).replaceAll("\\s", "");
      PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64));
      String algorithm = leaf.getPublicKey().getAlgorithm();
      PrivateKey privateKey = KeyFactory.getInstance(algorithm).generatePrivate(spec);
      String signing = switch (algorithm) {
        case "RSA" -> "SHA256withRSA";
        case "EC" -> "SHA256withECDSA";
        default -> algorithm;
      };
      byte[] probe = "ferry".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(signing);
      signer.initSign(privateKey);
      signer.update(probe);
      Signature verifier = Signature.getInstance(signing);
      verifier.initVerify(leaf.getPublicKey());
      verifier.update(probe);
      if (!verifier.verify(signer.sign())) {
        throw new IllegalArgumentException(keyFlag + " " + key + " does not belong to the first "
            + "certificate in " + chain + " (" + leaf.getSubjectX500Principal().getName() + ")");
      }
    } catch (IOException | GeneralSecurityException | IllegalArgumentException | StringIndexOutOfBoundsException e) {
      if (e instanceof IllegalArgumentException && e.getMessage() != null && e.getMessage().startsWith(keyFlag)) {
        throw (IllegalArgumentException) e;
      }
      throw new IllegalArgumentException(keyFlag + " " + key + " does not belong to the first certificate in "
          + chain + " (" + e.getClass().getSimpleName() + ")", e);
    }
  }

  /** Why a file could not be read, in words: the JDK's message for these is the path alone. */
  static String why(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof java.nio.file.FileAlreadyExistsException exists) {
      return exists.getFile() != null && Files.isDirectory(Path.of(exists.getFile())) ? "it is a directory"
          : "something is in the way (a symbolic link to nowhere?)";
    }
    if (e instanceof java.nio.charset.CharacterCodingException) {
      return "not UTF-8 text"; // it read "Input length = 1" (probe cli F3)
    }
    if (e instanceof java.nio.file.FileSystemException failed && failed.getReason() != null) {
      return failed.getReason();
    }
    return e.getMessage();
  }

  /** What {@code path} holds now, or null if there is no such file. */
  static String readIfPresent(String flag, Path path) {
    try {
      return Files.isRegularFile(path) ? Files.readString(path, StandardCharsets.ISO_8859_1) : null;
    } catch (IOException e) {
      throw new IllegalArgumentException(flag + " cannot read " + path + ": " + why(e));
    }
  }

  /**
   * Writes {@code pem} to {@code path} unless it holds exactly that already (a config reload
   * parses the flags again). A private key is never written over another one (it may be the key
   * of a CA that clients trust), and its file is created readable by its owner only, where the
   * file system has POSIX permissions, before any byte of the key is in it.
   *
   * @return true if the file was written
   * @throws IllegalArgumentException naming {@code flag} if the file cannot be written, or holds
   *     another private key
   */
  static boolean write(String flag, Path path, String pem, boolean secret) {
    try {
      boolean exists = Files.isRegularFile(path);
      if (exists && Files.readString(path, StandardCharsets.ISO_8859_1).equals(pem)) {
        return false;
      }
      if (secret) {
        checkWritable(flag, path, pem);
      }
      if (secret && FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
        Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      }
      Files.writeString(path, pem, StandardCharsets.US_ASCII);
      return true;
    } catch (IOException e) {
      throw new IllegalArgumentException(flag + " cannot write " + path + ": "
          + (e instanceof NoSuchFileException ? "no such directory" : why(e)));
    }
  }
}
