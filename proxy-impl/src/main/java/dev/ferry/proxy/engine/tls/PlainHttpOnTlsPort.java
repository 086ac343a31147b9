package dev.ferry.proxy.engine.tls;

import javax.net.ssl.SSLHandshakeException;

/**
 * The handshake failed because the client sent a plain HTTP request to the TLS port, and was
 * answered 400 in plain HTTP ({@link TlsRecords#plainHttpAnswer}): a request the proxy refused,
 * to be accounted for as one, not only as a failed handshake.
 */
public final class PlainHttpOnTlsPort extends SSLHandshakeException {
  private static final long serialVersionUID = 1L;

  PlainHttpOnTlsPort() {
    super("plain HTTP sent to the TLS port");
  }

  /** The bytes of the answer's body, for the access log. */
  public static long answerBodyBytes() {
    return TlsRecords.plainHttpBodyBytes();
  }
}
