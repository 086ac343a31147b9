package dev.ferry.proxy.engine.tls;

import java.net.Socket;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts every certificate for every host: the explicitly insecure upstream option. Extends
 * {@link X509ExtendedTrustManager} so the JDK does not wrap it and add hostname checks back.
 */
final class InsecureTrustManager extends X509ExtendedTrustManager {
  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
    // trusts everything, by design
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
    // trusts everything, by design
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
    // trusts everything, by design
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
    // trusts everything, by design
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) {
    // trusts everything, by design
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) {
    // trusts everything, by design
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }
}
