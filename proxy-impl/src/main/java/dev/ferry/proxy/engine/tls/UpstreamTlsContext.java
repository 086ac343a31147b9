package dev.ferry.proxy.engine.tls;

import dev.ferry.proxy.UpstreamTls;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;

/**
 * Client-side TLS toward upstreams and intercepted origins, built once from an
 * {@link UpstreamTls}: verified (chain and host name) unless explicitly insecure, SNI for host
 * names, TLS 1.2/1.3, an optional client certificate. Immutable.
 */
public final class UpstreamTlsContext {
  private final SSLContext context;
  private final boolean verifiesHosts;

  private UpstreamTlsContext(SSLContext context, boolean verifiesHosts) {
    this.context = context;
    this.verifiesHosts = verifiesHosts;
  }

  /**
   * Builds the context for {@code tls}.
   *
   * @throws IllegalArgumentException naming the file if a CA, certificate or key is unusable
   * @throws java.io.UncheckedIOException if a file cannot be read
   */
  public static UpstreamTlsContext create(UpstreamTls tls) {
    if (tls.insecure()) {
      return insecureTrustAll();
    }
    TrustManager[] trust = null; // null: the JDK's default CAs
    if (tls.caFile().isPresent()) {
      trust = anchoredAt(Pem.certificates(tls.caFile().get()), tls.caFile().get().toString());
    } else if (tls.trustStore().isPresent()) {
      trust = anchoredAt(Stores.certificates(tls.trustStore().get()), "trust store");
    }
    KeyManager[] keys = null;
    if (tls.clientCertificateFile().isPresent() && tls.clientKeyFile().isPresent()) {
      keys = new KeyManager[] {new SniKeyManager(List.of(
          CertifiedKey.load(tls.clientCertificateFile().get(), tls.clientKeyFile().get())))};
    }
    return new UpstreamTlsContext(context(keys, trust), true);
  }

  /** Verified TLS trusting the CAs of a PEM file, with an optional client certificate and key (null for none). */
  public static UpstreamTlsContext trusting(Path caPem, Path clientChain, Path clientKey) {
    UpstreamTls tls = UpstreamTls.trusting(caPem);
    return create(clientChain == null ? tls : tls.clientCertificate(clientChain, clientKey));
  }

  /**
   * Trusts any certificate for any host: for {@link UpstreamTls#insecureTrustAll()} only, whose
   * use the caller logs as a warning at every start.
   */
  public static UpstreamTlsContext insecureTrustAll() {
    return new UpstreamTlsContext(context(null, new TrustManager[] {new InsecureTrustManager()}), false);
  }

  private static TrustManager[] anchoredAt(List<X509Certificate> configured, String source) {
    List<X509Certificate> anchors = OriginCertificates.usableAnchors(configured, source);
    if (anchors.isEmpty()) {
      throw new IllegalArgumentException(source + ": no CA certificate with a key of at least 2048 bits"
          + " (RSA, DSA) or 256 bits (EC), valid now, to trust upstreams with");
    }
    return new TrustManager[] {Stores.trustManager(Stores.trustStore(anchors))};
  }

  private static SSLContext context(KeyManager[] keys, TrustManager[] trust) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys, trust, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make a TLS client context", e);
    }
  }

  /** The context; sockets made from it directly need {@link #parameters(String)}. */
  public SSLContext sslContext() {
    return context;
  }

  /** False only for the insecure trust-all context. */
  public boolean verifiesHosts() {
    return verifiesHosts;
  }

  /** Parameters for a connection to {@code host}: SNI, hostname verification unless insecure. */
  public SSLParameters parameters(String host) {
    return TlsParameters.client(context, host, verifiesHosts);
  }

  /**
   * Layers client-side TLS over a connected plain socket to {@code host:port}. Closing the
   * returned socket closes {@code plain}. The handshake has not started: the caller sets the
   * timeout left of its connect deadline and calls {@code startHandshake()}; a verification
   * failure then surfaces as an {@code SSLHandshakeException} whose message names the reason.
   */
  public SSLSocket connect(Socket plain, String host, int port) throws IOException {
    String name = SubjectNames.normalise(host);
    SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, name, port, true);
    socket.setSSLParameters(parameters(name));
    return socket;
  }
}
