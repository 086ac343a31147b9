package dev.ferry.proxy.engine.tls;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * The TLS handshake with an https upstream, one for every connection the proxy makes to one:
 * those that carry requests and those of active health checks, so that a check passes exactly
 * when a request's connection would. TLS 1.3 or 1.2, SNI for a host name, the host name
 * verified against the certificate, and then what {@link OriginCertificates} refuses, unless the
 * configuration is the explicitly insecure trust-all one.
 */
public final class UpstreamHandshake {
  private static final String RECEIVED_ALERT = "Received fatal alert:";

  /** The configured context's factory; null for the JVM's default, taken at the first handshake. */
  private final SSLSocketFactory factory;
  private final boolean verifyHosts;

  /**
   * The JVM's default factory, made when a class loads it: at the first handshake with the
   * default trust, not at every proxy's start. Making it reads the JDK's CA file and loads the
   * JSSE provider (about 60 ms and 300 classes), which a proxy with no https upstream never uses.
   */
  private static final class JvmDefault {
    static final SSLSocketFactory FACTORY = (SSLSocketFactory) SSLSocketFactory.getDefault();
  }

  /**
   * @param sslContext for https upstreams; null for the JVM's default trust
   * @param verifyHosts false only for an explicitly insecure trust-all configuration
   */
  public UpstreamHandshake(SSLContext sslContext, boolean verifyHosts) {
    this.factory = sslContext != null ? sslContext.getSocketFactory() : null;
    this.verifyHosts = verifyHosts;
  }

  /**
   * Layers TLS over {@code plain}, connected to {@code host}, and completes the handshake by
   * {@code deadlineNanos} ({@link System#nanoTime}): every read is bounded by it, and, when
   * {@code plain} is a {@link BeneathTlsSocket}, all of them together. What is left of it then
   * stays the socket's read timeout. Throws {@link RefusedCertificateException} for a chain the
   * JDK accepted and {@link OriginCertificates} does not; the caller closes {@code plain} on any
   * failure.
   */
  public SSLSocket handshake(Socket plain, String host, int port, long deadlineNanos) throws IOException {
    BeneathTlsSocket beneath = plain instanceof BeneathTlsSocket socket ? socket : null;
    if (beneath != null) {
      beneath.deadline(deadlineNanos);
    }
    try {
      return handshakeBy(plain, host, port, remainingMillis(deadlineNanos));
    } finally {
      if (beneath != null) {
        beneath.deadline(0);
      }
    }
  }

  private static int remainingMillis(long deadlineNanos) throws SocketTimeoutException {
    long remaining = (deadlineNanos - System.nanoTime()) / 1_000_000;
    if (remaining <= 0) {
      throw new SocketTimeoutException("deadline passed");
    }
    return (int) Math.min(Integer.MAX_VALUE, remaining);
  }

  private SSLSocket handshakeBy(Socket plain, String host, int port, int timeoutMillis) throws IOException {
    SSLSocketFactory tls = factory != null ? factory : JvmDefault.FACTORY;
    SSLSocket socket = (SSLSocket) tls.createSocket(plain, host, port, true);
    SSLParameters parameters = socket.getSSLParameters();
    // "backend1" and "web01" are names: they went without, taken for IP literals (probe i14).
    List<SNIServerName> names = SubjectNames.serverNames(host);
    // The JDK's host check refuses a name SNI cannot carry (web_1) whatever the certificate says:
    // such a name is matched here, against the chain the JDK verified (probe v15).
    boolean ownHostCheck = verifyHosts && names.isEmpty()
        && !SubjectNames.isIpLiteral(SubjectNames.normalise(host));
    parameters.setEndpointIdentificationAlgorithm(verifyHosts && !ownHostCheck ? "HTTPS" : null);
    parameters.setProtocols(TlsParameters.PROTOCOLS);
    // What the engine speaks: a server of HTTP/2 alone refuses it, where without ALPN it took the
    // connection for HTTP/2 and answered the request with an error (clients probe F2).
    parameters.setApplicationProtocols(TlsParameters.ALPN);
    parameters.setServerNames(names);
    socket.setSSLParameters(parameters);
    socket.setSoTimeout(timeoutMillis);
    socket.startHandshake();
    String refused = verifyHosts ? OriginCertificates.problem(socket.getSession()) : null;
    // Every host is matched against the SAN here too: the JDK's check falls back to the CN when
    // the SAN holds no DNS name (an IP address alone), which RFC 9525 §6.3 and browsers do not,
    // and interception showed such an origin clean (probe s25).
    if (refused == null && verifyHosts
        && !SubjectNames.matchesOrigin((X509Certificate) socket.getSession().getPeerCertificates()[0], host)) {
      refused = "certificate does not match the host name";
    }
    if (refused != null) {
      throw new RefusedCertificateException(refused);
    }
    return socket;
  }

  /**
   * Why a handshake failed, in a fixed text per cause: never the exception's own message, which
   * may quote the peer.
   */
  public static String failure(IOException e) {
    if (e instanceof RefusedCertificateException refused) {
      return refused.getMessage();
    }
    if (e instanceof SocketTimeoutException) {
      return "timed out";
    }
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof CertificateExpiredException) {
        return "certificate expired";
      }
      if (cause instanceof CertificateNotYetValidException) {
        return "certificate not yet valid";
      }
    }
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      String message = String.valueOf(cause.getMessage());
      if (message.contains("No subject alternative") || message.contains("No name matching")) {
        return "certificate does not match the host name";
      }
      if (message.contains("PKIX") || message.contains("unable to find valid certification path")) {
        return "certificate not trusted";
      }
      if (message.contains("Extended key usage does not permit") || message.contains("KeyUsage does not allow")) {
        return "certificate not issued for TLS servers (key usage)";
      }
      if (message.contains("Unsupported or unrecognized SSL message")) {
        return "the upstream does not speak TLS (plain HTTP on this port?)";
      }
    }
    String alert = receivedAlert(e);
    if ("certificate_required".equals(alert)) {
      return "the upstream requires a client certificate";
    }
    if (refusedClientCertificate(e)) {
      return "the upstream refused the client certificate or its absence (alert " + alert + ")";
    }
    if ("no_application_protocol".equals(alert)) {
      return "the upstream does not speak HTTP/1.1 (HTTP/2 only?), which is what Ferry speaks to upstreams";
    }
    if (alert != null) {
      return "refused by the upstream (alert " + alert + ")";
    }
    return e instanceof SSLHandshakeException ? "handshake refused" : "connection lost during handshake";
  }

  /**
   * True if the upstream's fatal alert in {@code e} refuses the client's certificate, or its
   * absence: as a server's alerts, these are about the client's certificate (RFC 8446 §6.2).
   * Over TLS 1.3 the server checks it after the client's handshake is done, so its refusal comes
   * at the first read, as the answer to the first request.
   */
  public static boolean refusedClientCertificate(IOException e) {
    String alert = receivedAlert(e);
    return alert != null && switch (alert) {
      case "certificate_required", "bad_certificate", "unsupported_certificate", "certificate_revoked",
          "certificate_expired", "certificate_unknown", "unknown_ca", "access_denied" -> true;
      default -> false;
    };
  }

  /**
   * The fatal alert the peer sent, as the JDK reports it ({@code Received fatal alert:
   * certificate_required}), anywhere in {@code e}'s causes; null if none.
   */
  public static String receivedAlert(Throwable e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      String message = String.valueOf(cause.getMessage());
      int at = message.indexOf(RECEIVED_ALERT);
      if (at >= 0) {
        String alert = message.substring(at + RECEIVED_ALERT.length()).trim();
        int end = 0;
        while (end < alert.length() && (Character.isLetterOrDigit(alert.charAt(end)) || alert.charAt(end) == '_')) {
          end++;
        }
        return end == 0 ? null : alert.substring(0, end);
      }
    }
    return null;
  }

  /** A chain the JDK accepted and {@link OriginCertificates} refuses; the message is the reason. */
  public static final class RefusedCertificateException extends SSLHandshakeException {
    private static final long serialVersionUID = 1L;

    RefusedCertificateException(String reason) {
      super(reason);
    }
  }
}
