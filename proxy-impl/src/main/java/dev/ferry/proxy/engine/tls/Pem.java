package dev.ferry.proxy.engine.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes PEM (RFC 7468): certificates and unencrypted PKCS#8 private keys. Every
 * error names the file and says how to fix it, since a misconfigured certificate is the most
 * common way a TLS listener fails to start.
 */
public final class Pem {
  private static final Pattern BLOCK = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);
  /** Key algorithms a PKCS#8 key is tried with; the spec fails fast for the wrong one. */
  private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC", "RSASSA-PSS", "Ed25519");

  private Pem() {}

  /**
   * The certificates in a PEM file, in file order (a chain: leaf first).
   *
   * @throws IllegalArgumentException if the file holds no certificate or a broken one
   * @throws UncheckedIOException if the file cannot be read
   */
  public static List<X509Certificate> certificates(Path file) {
    List<X509Certificate> certificates = new ArrayList<>();
    Matcher block = blocks(read(file, "certificate"), file);
    while (block.find()) {
      if (block.group(1).equals("CERTIFICATE")) {
        certificates.add(certificate(decode(block.group(2), file), file));
      }
    }
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException("certificate file " + file
          + " holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)");
    }
    return List.copyOf(certificates);
  }

  /**
   * The private key in a PEM file: an unencrypted PKCS#8 key ({@code BEGIN PRIVATE KEY}), RSA
   * or EC. Other key formats are refused with the command that converts them.
   *
   * @throws IllegalArgumentException if the file holds no such key
   * @throws UncheckedIOException if the file cannot be read
   */
  public static PrivateKey privateKey(Path file) {
    Matcher block = blocks(read(file, "private key"), file);
    while (block.find()) {
      String type = block.group(1);
      if (type.equals("PRIVATE KEY")) {
        return pkcs8(decode(block.group(2), file), file);
      }
      if (type.equals("RSA PRIVATE KEY") || type.equals("EC PRIVATE KEY")
          || type.equals("ENCRYPTED PRIVATE KEY")) {
        throw new IllegalArgumentException("private key file " + file + " holds a " + type
            + "; Ferry reads unencrypted PKCS#8 keys: convert it with "
            + "openssl pkcs8 -topk8 -nocrypt -in " + file + " -out key.pk8.pem");
      }
    }
    throw new IllegalArgumentException("private key file " + file
        + " holds no PEM private key (expected -----BEGIN PRIVATE KEY-----)");
  }

  /** One DER block as PEM text with 64-character lines. */
  public static String encode(String type, byte[] der) {
    String base64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + base64 + "\n-----END " + type + "-----\n";
  }

  /**
   * The PEM blocks of {@code text}, once it is known that each BEGIN line has its END: a file
   * caught half-written (a chain whose intermediate is cut short) would otherwise pass for the
   * blocks before the cut, a leaf without its chain.
   *
   * @throws IllegalArgumentException naming the file if a block is unfinished
   */
  private static Matcher blocks(String text, Path file) {
    Matcher block = BLOCK.matcher(text);
    int complete = 0;
    while (block.find()) {
      complete++;
    }
    int begun = 0;
    for (int at = text.indexOf("-----BEGIN "); at >= 0; at = text.indexOf("-----BEGIN ", at + 1)) {
      begun++;
    }
    if (begun > complete) {
      throw new IllegalArgumentException("PEM file " + file + " holds a BEGIN line without its END"
          + " line: a block is cut short (is the file still being written?)");
    }
    return block.reset();
  }

  private static String read(Path file, String what) {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException("could not read " + what + " file " + file + ": " + e, e);
    }
  }

  private static byte[] decode(String base64, Path file) {
    try {
      return Base64.getMimeDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("PEM file " + file + " holds broken base64: " + e.getMessage(), e);
    }
  }

  private static X509Certificate certificate(byte[] der, Path file) {
    try {
      return (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(new ByteArrayInputStream(der));
    } catch (CertificateException e) {
      throw new IllegalArgumentException("certificate file " + file + " holds a broken certificate: "
          + e.getMessage(), e);
    }
  }

  private static PrivateKey pkcs8(byte[] der, Path file) {
    for (String algorithm : KEY_ALGORITHMS) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // not this algorithm (or not available on this JDK); try the next
      }
    }
    throw new IllegalArgumentException("private key file " + file
        + " holds a PKCS#8 key that is neither RSA nor EC, or is broken");
  }
}
