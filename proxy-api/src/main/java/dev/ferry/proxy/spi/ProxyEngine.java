package dev.ferry.proxy.spi;

import dev.ferry.proxy.CertificateAuthority;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ProxyServer;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The contract between the API and an engine, found with {@link java.util.ServiceLoader}.
 * Users never call it; {@code dev.ferry:proxy-impl} provides the one implementation.
 */
public interface ProxyEngine {

  /** Creates a proxy, not yet started, for this validated configuration. */
  ProxyServer create(ProxyConfig config);

  /**
   * Returns the engine's implementation of a built-in filter value made by
   * {@link dev.ferry.proxy.Filters} (an access-control, authentication, rate or in-flight limit
   * value). The values hold only configuration; this is how one used outside a proxy's own chain
   * (inside {@link dev.ferry.proxy.Filters#when}, say) finds its behaviour.
   *
   * @throws IllegalArgumentException if {@code builtIn} is not such a value
   * @throws UnsupportedOperationException if this engine has no built-in filters
   */
  default Filter realise(Filter builtIn) {
    throw new UnsupportedOperationException(getClass().getName() + " has no built-in filters");
  }

  /**
   * Generates a new certificate authority for HTTPS interception, valid for {@code validity}
   * from now; backs {@link CertificateAuthority#generate(Duration)}. The API cannot build
   * certificates itself: that needs BouncyCastle, which only the engine may depend on.
   *
   * @throws IllegalStateException if the engine cannot build certificates (BouncyCastle missing;
   *     the message names the artifact to add)
   */
  default CertificateAuthority generateAuthority(Duration validity) {
    throw new UnsupportedOperationException(getClass().getName() + " cannot generate a CA");
  }

  /**
   * Loads a certificate authority from a PEM certificate file and a PKCS#8 PEM key file; backs
   * {@link CertificateAuthority#fromPem(Path, Path)}.
   *
   * @throws IllegalArgumentException if a file holds no such certificate or key, or they do not
   *     belong together; the message names the file
   * @throws java.io.UncheckedIOException if a file cannot be read
   */
  default CertificateAuthority loadAuthority(Path certificatePem, Path privateKeyPem) {
    throw new UnsupportedOperationException(getClass().getName() + " cannot load a CA");
  }
}
