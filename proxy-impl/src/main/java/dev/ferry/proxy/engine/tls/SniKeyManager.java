package dev.ferry.proxy.engine.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Chooses, among several certificates, the one whose subject alternative names match the SNI
 * name the client sent; without SNI or a match, the first one, the default (another of a key
 * type the client accepts only when it cannot take the first one's).
 * As a client key manager it presents the first certificate of an accepted type. Aliases are the
 * index in the list, so lookups need no map. Immutable, hence thread-safe.
 */
final class SniKeyManager extends X509ExtendedKeyManager {
  private final List<CertifiedKey> keys;

  SniKeyManager(List<CertifiedKey> keys) {
    this.keys = List.copyOf(keys);
  }

  /**
   * The keys {@link #choose} can never pick: not the first of their key type (the default for
   * clients that cannot take the first key's), and with every name they have matched first by an
   * earlier key of their type. Such a certificate is a configuration mistake (the same one given
   * twice, a renewal added beside the old one instead of replacing it).
   */
  static List<CertifiedKey> unreachable(List<CertifiedKey> keys) {
    List<CertifiedKey> unreachable = new ArrayList<>();
    for (int i = 1; i < keys.size(); i++) {
      CertifiedKey key = keys.get(i);
      List<CertifiedKey> earlier = keys.subList(0, i).stream()
          .filter(before -> before.keyType().equals(key.keyType())).toList();
      if (!earlier.isEmpty() && SubjectNames.names(key.leaf()).stream().allMatch(
          name -> earlier.stream().anyMatch(before -> SubjectNames.matches(before.leaf(), name)))) {
        unreachable.add(key);
      }
    }
    return unreachable;
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    SSLSession handshake = socket instanceof SSLSocket ? ((SSLSocket) socket).getHandshakeSession() : null;
    return choose(keyType, handshake);
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return choose(keyType, engine.getHandshakeSession());
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

  /**
   * The JDK asks once per key type it can use, in the client's order of preference, and takes
   * the first answer that is not null: a certificate of another type is chosen by answering
   * null for this one, when the client can take that type too.
   */
  private String choose(String keyType, SSLSession handshake) {
    String sni = sniName(handshake);
    if (sni != null) {
      CertifiedKey matching = null;
      for (int i = 0; i < keys.size(); i++) {
        CertifiedKey key = keys.get(i);
        if (SubjectNames.matches(key.leaf(), sni)) {
          if (key.keyType().equals(keyType)) {
            return Integer.toString(i);
          }
          matching = matching == null ? key : matching;
        }
      }
      if (matching != null && clientAccepts(handshake, matching.keyType())) {
        return null;
      }
    }
    // No SNI, or no certificate for it: the first is the default, of whatever type.
    CertifiedKey first = keys.get(0);
    if (first.keyType().equals(keyType)) {
      return "0";
    }
    if (clientAccepts(handshake, first.keyType())) {
      return null;
    }
    for (int i = 1; i < keys.size(); i++) {
      if (keys.get(i).keyType().equals(keyType)) {
        return Integer.toString(i);
      }
    }
    return null;
  }

  /**
   * True if the client's signature algorithms include one for keys of {@code keyType} (EC: an
   * ECDSA one; RSA: RSA or RSASSA-PSS), or if the handshake does not tell.
   */
  private static boolean clientAccepts(SSLSession handshake, String keyType) {
    if (!(handshake instanceof ExtendedSSLSession session)) {
      return true;
    }
    String[] algorithms = session.getPeerSupportedSignatureAlgorithms();
    if (algorithms.length == 0) {
      return true; // a TLS 1.2 client without the extension: RSA and ECDSA with SHA-1 (RFC 5246)
    }
    String family = keyType.equals("EC") ? "ECDSA" : keyType.toUpperCase(Locale.ROOT);
    for (String algorithm : algorithms) {
      if (algorithm.toUpperCase(Locale.ROOT).contains(family)) {
        return true;
      }
    }
    return false;
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
