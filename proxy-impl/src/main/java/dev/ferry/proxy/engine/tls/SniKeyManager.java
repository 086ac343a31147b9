package dev.ferry.proxy.engine.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Chooses, among several certificates, the one whose subject alternative names match the SNI
 * name the client sent; without SNI or a match, the first one of a key type the client accepts.
 * As a client key manager it presents the first certificate of an accepted type. Aliases are the
 * index in the list, so lookups need no map. Immutable, hence thread-safe.
 */
final class SniKeyManager extends X509ExtendedKeyManager {
  private final List<CertifiedKey> keys;

  SniKeyManager(List<CertifiedKey> keys) {
    this.keys = List.copyOf(keys);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    SSLSession handshake = socket instanceof SSLSocket ? ((SSLSocket) socket).getHandshakeSession() : null;
    return choose(keyType, sniName(handshake));
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return choose(keyType, sniName(engine.getHandshakeSession()));
  }

  /** The host name a client asked for with SNI, or null. */
  static String sniName(SSLSession handshake) {
    if (!(handshake instanceof ExtendedSSLSession)) {
      return null;
    }
    for (SNIServerName name : ((ExtendedSSLSession) handshake).getRequestedServerNames()) {
      if (name instanceof SNIHostName) {
        return ((SNIHostName) name).getAsciiName();
      }
    }
    return null;
  }

  private String choose(String keyType, String sni) {
    String fallback = null;
    for (int i = 0; i < keys.size(); i++) {
      CertifiedKey key = keys.get(i);
      if (!key.keyType().equals(keyType)) {
        continue; // the JDK asks once per key type it can use and takes the first non-null answer
      }
      if (sni != null && SubjectNames.matches(key.leaf(), sni)) {
        return Integer.toString(i);
      }
      if (fallback == null) {
        fallback = Integer.toString(i);
      }
    }
    return sni != null && matchesAnyType(sni) ? null : fallback;
  }

  /**
   * True if some certificate of another key type matches: then this key type must not answer
   * with the default, so that the JDK goes on to ask for the type whose certificate matches.
   */
  private boolean matchesAnyType(String sni) {
    return keys.stream().anyMatch(key -> SubjectNames.matches(key.leaf(), sni));
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    CertifiedKey key = key(alias);
    return key == null ? null : key.chain().toArray(new X509Certificate[0]);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    CertifiedKey key = key(alias);
    return key == null ? null : key.privateKey();
  }

  private CertifiedKey key(String alias) {
    try {
      int index = Integer.parseInt(alias);
      return index >= 0 && index < keys.size() ? keys.get(index) : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return null; // only chooseServerAlias is used by the JDK's TLS server
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  /** As a client (mutual TLS to an upstream): the first certificate of a type the server accepts. */
  @Override
  public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
    return clientAlias(keyTypes);
  }

  @Override
  public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
    return clientAlias(keyTypes);
  }

  private String clientAlias(String[] keyTypes) {
    for (String keyType : keyTypes) {
      for (int i = 0; i < keys.size(); i++) {
        if (keys.get(i).keyType().equals(keyType)) {
          return Integer.toString(i);
        }
      }
    }
    return null;
  }
}
