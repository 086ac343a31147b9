package dev.ferry.proxy;

import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Objects;
import java.util.Optional;

/**
 * How the proxy verifies the TLS certificates of {@code https://} upstreams and of intercepted
 * origins, and which client certificate it shows them. Immutable: each option returns a new
 * value.
 *
 * <p>Verification is on by default: the chain must lead to a trusted CA and the certificate must
 * name the host (RFC 9110 §4.3.4) in a subject alternative name (a CN alone is refused, RFC 9525
 * §6.3); no signature in the chain may use SHA-1 or MD5, and no key may be shorter than 2048 bits
 * (RSA, DSA) or 256 (EC), the trusted CA's included: a CA of {@link #trusting(Path)} or
 * {@link #trusting(KeyStore)} with a shorter key is left out of the trust (and logged), and one
 * holding no other CA fails the start. The proxy sends SNI for host names and offers TLS 1.2 and 1.3.
 * A certificate that fails verification makes the request fail with 502, naming the reason.
 *
 * <pre>{@code
 * ProxyServer.builder()
 *     .upstream(Upstream.pool("https://10.0.0.5:8443"))
 *     .upstreamTls(UpstreamTls.trusting(Path.of("internal-ca.pem"))
 *         .clientCertificate(Path.of("proxy.crt"), Path.of("proxy.key")))
 * }</pre>
 */
public final class UpstreamTls {
  private static final UpstreamTls SYSTEM = new UpstreamTls(null, null, false, null, null);
  private static final UpstreamTls INSECURE = new UpstreamTls(null, null, true, null, null);

  private final Path caFile;
  private final KeyStore trustStore;
  private final boolean insecure;
  private final Path clientChainFile;
  private final Path clientKeyFile;

  private UpstreamTls(Path caFile, KeyStore trustStore, boolean insecure, Path clientChainFile,
      Path clientKeyFile) {
    this.caFile = caFile;
    this.trustStore = trustStore;
    this.insecure = insecure;
    this.clientChainFile = clientChainFile;
    this.clientKeyFile = clientKeyFile;
  }

  /** Trusts the JDK's default CAs (its {@code cacerts}); the default. */
  public static UpstreamTls systemTrust() {
    return SYSTEM;
  }

  /** Trusts only the CAs in this PEM file (one or more certificates), not the JDK's defaults. */
  public static UpstreamTls trusting(Path caCertificatesPem) {
    Objects.requireNonNull(caCertificatesPem, "caCertificatesPem");
    return new UpstreamTls(caCertificatesPem, null, false, null, null);
  }

  /** Trusts only the certificates in this trust store, not the JDK's defaults. */
  public static UpstreamTls trusting(KeyStore trustStore) {
    Objects.requireNonNull(trustStore, "trustStore");
    return new UpstreamTls(null, trustStore, false, null, null);
  }

  /**
   * Accepts any certificate for any host, without verification. Anyone on the path can then read
   * and change the traffic; for tests against throw-away certificates only. The proxy logs a
   * warning every time it starts with this option.
   */
  public static UpstreamTls insecureTrustAll() {
    return INSECURE;
  }

  /**
   * Shows upstreams this client certificate chain (PEM, leaf first) and PKCS#8 PEM private key,
   * for upstreams that require mutual TLS.
   */
  public UpstreamTls clientCertificate(Path certificateChain, Path privateKey) {
    Objects.requireNonNull(certificateChain, "certificateChain");
    Objects.requireNonNull(privateKey, "privateKey");
    return new UpstreamTls(caFile, trustStore, insecure, certificateChain, privateKey);
  }

  /** The PEM file of trusted CAs, if one was given. */
  public Optional<Path> caFile() {
    return Optional.ofNullable(caFile);
  }

  /** The trust store of trusted certificates, if one was given. */
  public Optional<KeyStore> trustStore() {
    return Optional.ofNullable(trustStore);
  }

  /** True if certificates are not verified at all; see {@link #insecureTrustAll()}. */
  public boolean insecure() {
    return insecure;
  }

  /** The client certificate chain file, if one was given. */
  public Optional<Path> clientCertificateFile() {
    return Optional.ofNullable(clientChainFile);
  }

  /** The client private key file, if one was given. */
  public Optional<Path> clientKeyFile() {
    return Optional.ofNullable(clientKeyFile);
  }

  @Override
  public boolean equals(Object other) {
    if (!(other instanceof UpstreamTls)) {
      return false;
    }
    UpstreamTls that = (UpstreamTls) other;
    return Objects.equals(caFile, that.caFile) && trustStore == that.trustStore
        && insecure == that.insecure && Objects.equals(clientChainFile, that.clientChainFile)
        && Objects.equals(clientKeyFile, that.clientKeyFile);
  }

  @Override
  public int hashCode() {
    return Objects.hash(caFile, insecure, clientChainFile, clientKeyFile);
  }

  @Override
  public String toString() {
    String trust = insecure ? "INSECURE trust-all" : caFile != null ? "trusting " + caFile
        : trustStore != null ? "trusting a trust store" : "system trust";
    return "UpstreamTls[" + trust
        + (clientChainFile != null ? "; client certificate " + clientChainFile : "") + "]";
  }
}
