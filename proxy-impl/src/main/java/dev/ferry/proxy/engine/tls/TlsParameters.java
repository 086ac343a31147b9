package dev.ferry.proxy.engine.tls;

import dev.ferry.proxy.ServerTls.ClientAuth;
import java.util.Arrays;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * The handshake parameters Ferry uses on both sides: TLS 1.2 and 1.3 only (older versions are
 * broken, RFC 8996), ALPN {@code http/1.1} (and, as a server, {@code http/1.0} for a client that
 * offers only that, as {@code curl --http1.0} does: the engine serves HTTP/1.0 too), never
 * {@code h2}: a client that negotiated it would send frames the engine cannot read.
 *
 * <p>As a server, TLS 1.2 is offered with forward-secret AEAD suites only (ECDHE or DHE with
 * AES-GCM or ChaCha20-Poly1305: RFC 9325 §4.2, Mozilla's "intermediate" set): the JDK's defaults
 * also allow RSA key transport, which RFC 9325 §4.1 says not to negotiate, and CBC suites. Unless
 * the JVM's {@code jdk.tls.server.cipherSuites} names the suites, whose choice then stands. To
 * upstreams the JDK's defaults stay, as nginx's {@code proxy_ssl_ciphers} does: an older backend
 * must still be reachable, and {@code jdk.tls.client.cipherSuites} narrows them.
 */
public final class TlsParameters {
  static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
  static final String[] ALPN = {"http/1.1"};
  /** In the server's order of preference: http/1.1 whenever the client offers it. */
  static final String[] SERVER_ALPN = {"http/1.1", "http/1.0"};

  private TlsParameters() {}

  /** Server-side parameters for sockets of {@code context}, asking for client certificates per {@code clientAuth}. */
  public static SSLParameters server(SSLContext context, ClientAuth clientAuth) {
    SSLParameters parameters = context.getDefaultSSLParameters();
    parameters.setProtocols(PROTOCOLS);
    if (System.getProperty("jdk.tls.server.cipherSuites") == null) {
      parameters.setCipherSuites(Arrays.stream(parameters.getCipherSuites())
          .filter(TlsParameters::servedSuite).toArray(String[]::new));
    }
    parameters.setApplicationProtocols(SERVER_ALPN);
    parameters.setUseCipherSuitesOrder(true);
    if (clientAuth == ClientAuth.NEED) {
      parameters.setNeedClientAuth(true);
    } else if (clientAuth == ClientAuth.WANT) {
      parameters.setWantClientAuth(true);
    }
    return parameters;
  }

  /**
   * TLS 1.3's suites (all AEAD, all forward-secret), TLS 1.2's that are both, and the
   * renegotiation-info signal (RFC 5746).
   */
  static boolean servedSuite(String suite) {
    boolean tls13 = suite.startsWith("TLS_AES_") || suite.startsWith("TLS_CHACHA20_");
    boolean forwardSecret = suite.startsWith("TLS_ECDHE_") || suite.startsWith("TLS_DHE_");
    boolean aead = suite.contains("_GCM_") || suite.contains("_CHACHA20_POLY1305_");
    return tls13 || forwardSecret && aead || suite.equals("TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
  }

  /**
   * Client-side parameters to {@code host}: SNI for a host name (RFC 6066 §3 forbids it for IP
   * literals), and hostname verification ({@code HTTPS} endpoint identification) unless
   * {@code verifyHost} is false.
   */
  public static SSLParameters client(SSLContext context, String host, boolean verifyHost) {
    SSLParameters parameters = context.getDefaultSSLParameters();
    parameters.setProtocols(PROTOCOLS);
    parameters.setApplicationProtocols(ALPN);
    parameters.setServerNames(SubjectNames.serverNames(host));
    if (verifyHost) {
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
    }
    return parameters;
  }
}
