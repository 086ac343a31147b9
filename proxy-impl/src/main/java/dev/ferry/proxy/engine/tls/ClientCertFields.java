package dev.ferry.proxy.engine.tls;

import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.util.Base64;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * The client certificate a TLS listener verified, as RFC 9440 hands it to upstreams: {@code
 * Client-Cert}, the end-entity certificate's DER as a structured-field byte sequence, and {@code
 * Client-Cert-Chain}, the rest of the chain the client sent, a list of them (absent when the client
 * sent its certificate alone).
 *
 * @param cert the {@code Client-Cert} value
 * @param chain the {@code Client-Cert-Chain} value, or null
 */
public record ClientCertFields(String cert, String chain) {
  /** No client certificate: a session without client authentication, or a client that sent none. */
  public static final ClientCertFields NONE = new ClientCertFields(null, null);

  /** The fields for {@code session}'s verified peer certificates; {@link #NONE} without them. */
  public static ClientCertFields of(SSLSession session) {
    Certificate[] certificates;
    try {
      certificates = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException none) {
      return NONE;
    }
    if (certificates.length == 0) {
      return NONE;
    }
    try {
      StringBuilder chain = new StringBuilder();
      for (int i = 1; i < certificates.length; i++) {
        chain.append(i > 1 ? ", " : "").append(byteSequence(certificates[i]));
      }
      return new ClientCertFields(byteSequence(certificates[0]), chain.length() == 0 ? null : chain.toString());
    } catch (CertificateEncodingException e) {
      return NONE;
    }
  }

  public boolean present() {
    return cert != null;
  }

  /** RFC 8941 §3.3.5: base64 with padding between colons. */
  private static String byteSequence(Certificate certificate) throws CertificateEncodingException {
    return ':' + Base64.getEncoder().encodeToString(certificate.getEncoded()) + ':';
  }
}
