package dev.ferry.proxy.engine.tls;

import dev.ferry.proxy.ServerTls.ClientAuth;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * The handshake parameters Ferry uses on both sides: TLS 1.2 and 1.3 only (older versions are
 * broken, RFC 8996), ALPN {@code http/1.1} (and, as a server, {@code http/1.0} for a client that
 * offers only that, as {@code curl --http1.0} does: the engine serves HTTP/1.0 too), never
 * {@code h2}: a client that negotiated it would send frames the engine cannot read.
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
