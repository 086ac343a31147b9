package dev.ferry.proxy.engine.tls;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.ferry.proxy.engine.http1.LogValues;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A key manager that shows each intercepted client a leaf issued for the host of its CONNECT,
 * which the session is pinned to (see {@link #leafHost}). The alias is that host, so one
 * {@code SSLContext} serves every host and the handshake itself picks the leaf.
 *
 * <p>The CONNECT host of an engine is kept in a weak-keyed map (identity, as Caffeine's weak keys
 * compare): an entry goes when its engine is collected, so a handshake that fails or is never
 * started leaks nothing and nobody has to remember to remove it. Handshakes run on engines
 * ({@link EngineSocket}); a socket-based handshake, whose CONNECT host is unknown, gets no leaf.
 */
final class IssuingKeyManager extends X509ExtendedKeyManager {
  private static final Logger log = LoggerFactory.getLogger(IssuingKeyManager.class);
  /** Leaves use the proxy's EC P-256 key, so only ECDSA can be offered. */
  private static final String KEY_TYPE = "EC";

  private final LeafCertificates leaves;
  private final Cache<SSLEngine, String> connectHosts = Caffeine.newBuilder().weakKeys().build();

  IssuingKeyManager(LeafCertificates leaves) {
    this.leaves = leaves;
  }

  /** Remembers the host an engine's client CONNECTed to, the fallback for a client that sends no SNI. */
  void expect(SSLEngine engine, String connectHost) {
    connectHosts.put(engine, connectHost);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    if (!KEY_TYPE.equals(keyType)) {
      return null;
    }
    // Handshakes run on engines, whose CONNECT host is known; a socket's is not, so it gets no leaf.
    return null;
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    if (!KEY_TYPE.equals(keyType)) {
      return null;
    }
    return usable(leafHost(SniKeyManager.sniName(engine.getHandshakeSession()), connectHosts.getIfPresent(engine)));
  }

  /**
   * The host a leaf is issued for: the CONNECT's, which the session is pinned to and the origin's
   * certificate is verified against. An SNI naming another host gets no leaf of its own, not
   * even where the CONNECT named an address: the CA would vouch for a name that nobody verified.
   */
  private static String leafHost(String sni, String connectHost) {
    return connectHost != null ? connectHost : sni;
  }

  /** The host if a leaf can be issued for it; null fails the handshake, which is then logged. */
  private String usable(String host) {
    if (host == null) {
      return null;
    }
    try {
      leaves.leafFor(host);
      return host;
    } catch (RuntimeException e) {
      log.debug("tls_leaf_refused host={} reason={}", LogValues.quoted(host), LogValues.quoted(e.getMessage()));
      return null;
    }
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return leaves.leafFor(alias).chain().toArray(new X509Certificate[0]);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return leaves.leafFor(alias).privateKey();
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
    return null;
  }
}
