package dev.ferry.samples;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Builds TLS contexts from PEM files named on the command line. */
final class TrustFiles {
  private TrustFiles() {}

  /**
   * A context that trusts exactly the CA certificates in the PEM file {@code path}.
   *
   * @throws IllegalArgumentException naming {@code flag} if the file cannot be read or holds no
   *     certificate
   */
  static SSLContext trusting(String flag, String path) {
    try (InputStream in = Files.newInputStream(Path.of(path))) {
      Collection<? extends Certificate> certificates =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certificates.isEmpty()) {
        throw new IllegalArgumentException(flag + " file holds no PEM certificate (was " + path + ")");
      }
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      int index = 0;
      for (Certificate certificate : certificates) {
        trust.setCertificateEntry("ca-" + index++, certificate);
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      return context;
    } catch (IOException e) {
      throw new IllegalArgumentException(flag + " cannot read " + path + ": " + e.getMessage());
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(flag + " file is not a PEM certificate (was " + path + ")");
    }
  }
}
