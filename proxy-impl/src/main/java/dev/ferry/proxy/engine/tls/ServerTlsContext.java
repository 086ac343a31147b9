package dev.ferry.proxy.engine.tls;

import dev.ferry.proxy.ServerTls;
import dev.ferry.proxy.ServerTls.ClientAuth;
import dev.ferry.proxy.engine.http1.LogValues;
import java.io.IOException;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listener's TLS, built once from a {@link ServerTls}: an {@link SSLContext} whose key
 * manager picks a certificate by SNI, plus the parameters every accepted connection's engine gets (protocols,
 * ALPN, client authentication). Immutable; {@link ReloadingServerTls} swaps in a new one when
 * the files change.
 */
public final class ServerTlsContext {
  private static final Logger log = LoggerFactory.getLogger(ServerTlsContext.class);
  private final SSLContext context;
  private final ClientAuth clientAuth;
  private final List<CertifiedKey> keys;

  private ServerTlsContext(SSLContext context, ClientAuth clientAuth, List<CertifiedKey> keys) {
    this.context = context;
    this.clientAuth = clientAuth;
    this.keys = List.copyOf(keys);
  }

  /**
   * Reads the files or keystore of {@code tls} and builds the context.
   *
   * @throws IllegalArgumentException naming the file if a certificate, key or keystore is unusable
   * @throws java.io.UncheckedIOException if a file cannot be read
   */
  public static ServerTlsContext create(ServerTls tls) {
    return create(keys(tls), tls.clientAuth(), trustManagers(tls));
  }

  /** A context showing {@code keys} (chosen by SNI, the first the default), without client auth. */
  public static ServerTlsContext create(List<CertifiedKey> keys) {
    return create(keys, ClientAuth.NONE, null);
  }

  private static ServerTlsContext create(List<CertifiedKey> keys, ClientAuth clientAuth,
      TrustManager[] trust) {
    for (CertifiedKey unused : SniKeyManager.unreachable(keys)) {
      log.warn("tls_certificate_unused subject={} reason=\"an earlier certificate of the same key "
          + "type serves every name it has; remove it, or replace the other with it\"",
          LogValues.quoted(unused.leaf().getSubjectX500Principal().getName()));
    }
    for (CertifiedKey key : keys) {
      warnIfNotValidNow(key);
    }
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(new KeyManager[] {new SniKeyManager(keys)}, trust, null);
      return new ServerTlsContext(context, clientAuth, keys);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make a TLS server context", e);
    }
  }

  /**
   * A certificate every client refuses is still served (a renewal may be on its way, and the
   * files reload when it lands), but said at every load, at start and reload alike: it started
   * without a word (probe g24). Any certificate of the chain served: clients refuse a chain with
   * an expired intermediate as they refuse an expired leaf (probe v27).
   */
  private static void warnIfNotValidNow(CertifiedKey key) {
    Instant now = Instant.now();
    for (X509Certificate certificate : key.chain()) {
      if (now.isAfter(certificate.getNotAfter().toInstant()) || now.isBefore(certificate.getNotBefore().toInstant())) {
        log.warn("tls_certificate_not_valid subject={} leaf={} not_before={} not_after={} reason=\"clients refuse "
            + "it; renew it (the files are reloaded when they change)\"",
            LogValues.quoted(certificate.getSubjectX500Principal().getName()),
            LogValues.quoted(key.leaf().getSubjectX500Principal().getName()),
            certificate.getNotBefore().toInstant(), certificate.getNotAfter().toInstant());
      }
    }
  }

  private static List<CertifiedKey> keys(ServerTls tls) {
    if (tls.keyStoreFile().isPresent()) {
      char[] password = tls.keyStorePassword();
      KeyStore store = Stores.load(tls.keyStoreFile().get(), password);
      return Stores.keyEntries(store, password, tls.keyStoreFile().get().toString());
    }
    if (tls.keyStore().isPresent()) {
      return Stores.keyEntries(tls.keyStore().get(), tls.keyStorePassword(), "(in memory)");
    }
    List<CertifiedKey> keys = new ArrayList<>();
    for (int i = 0; i < tls.certificateChainFiles().size(); i++) {
      keys.add(CertifiedKey.load(tls.certificateChainFiles().get(i), tls.privateKeyFiles().get(i)));
    }
    return keys;
  }

  /** The client-certificate trust; null (the JDK's default CAs) when none was configured. */
  private static TrustManager[] trustManagers(ServerTls tls) {
    if (tls.clientCaFile().isPresent()) {
      return new TrustManager[] {Stores.trustManager(tls.clientCaFile().get())};
    }
    if (tls.clientTrustStore().isPresent()) {
      return new TrustManager[] {Stores.trustManager(tls.clientTrustStore().get())};
    }
    return null;
  }

  /** The context, for callers that make engines themselves (then apply {@link #parameters()}). */
  public SSLContext sslContext() {
    return context;
  }

  /** Fresh parameters: TLS 1.2/1.3, ALPN {@code http/1.1} (or 1.0), and the client-auth mode. */
  public SSLParameters parameters() {
    return TlsParameters.server(context, clientAuth);
  }

  /**
   * Layers server-side TLS over an accepted plain socket. {@code consumed} holds exactly the bytes
   * already read from it (empty if none), which the handshake reads first. Closing the returned
   * socket closes {@code plain}. The handshake has not started: the first read (or
   * {@code startHandshake()}) does it, bounded by the read timeout, and can stop at a timeout
   * and go on later (see {@link EngineSocket}).
   */
  public EngineSocket accept(Socket plain, byte[] consumed) throws IOException {
    return EngineSocket.server(plain, context, parameters(), consumed);
  }

  /** The certificates shown, in order (the first is the default). */
  public List<CertifiedKey> keys() {
    return keys;
  }
}
