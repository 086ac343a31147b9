package dev.ferry.proxy.engine.tls;

import dev.ferry.proxy.CertificateAuthority;
import dev.ferry.proxy.InterceptTls;
import dev.ferry.proxy.ServerTls.ClientAuth;
import java.io.IOException;
import java.net.Socket;
import java.security.GeneralSecurityException;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;

/**
 * The TLS side of HTTPS interception for one proxy: which CONNECT hosts are intercepted, and the
 * server-side TLS toward the client with leaves issued on demand. Thread-safe.
 *
 * <pre>{@code
 * Interception interception = Interception.create(config.interceptTls());   // at proxy creation
 * // on CONNECT host:port, after the 200 and after peeking the first bytes:
 * if (interception.intercepts(host) && TlsRecords.looksLikeClientHello(peek, n)) {
 *   EngineSocket tls = interception.accept(plain, Arrays.copyOf(peek, n), host);
 *   tls.setSoTimeout(handshakeTimeoutMillis);
 *   tls.startHandshake(); // or let the first read handshake
 * }
 * }</pre>
 */
public final class Interception {
  private static final int MAX_CACHED_LEAVES = 1024;

  private final InterceptTls spec;
  private final LeafCertificates leaves;
  private final IssuingKeyManager keyManager;
  private final SSLContext context;

  private Interception(InterceptTls spec, LeafCertificates leaves) {
    this.spec = spec;
    this.leaves = leaves;
    this.keyManager = new IssuingKeyManager(leaves);
    try {
      this.context = SSLContext.getInstance("TLS");
      context.init(new KeyManager[] {keyManager}, null, null);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make a TLS server context", e);
    }
  }

  /**
   * Sets up interception: checks that BouncyCastle is present and the CA is valid now, and makes
   * the proxy's leaf key pair.
   *
   * @throws IllegalStateException naming {@code org.bouncycastle:bcpkix-jdk18on} if BouncyCastle
   *     is missing, or if the CA has expired
   */
  public static Interception create(InterceptTls spec) {
    return new Interception(spec, new LeafCertificates(spec.authority(), MAX_CACHED_LEAVES));
  }

  /** True if a CONNECT to {@code host} is to be intercepted. */
  public boolean intercepts(String host) {
    return spec.intercepts(host);
  }

  /**
   * Layers server-side TLS over the client's socket inside an intercepted CONNECT. The leaf shown
   * is for {@code connectHost}, whatever name the client's SNI gives. {@code consumed} holds exactly the
   * bytes already read (the peeked ClientHello). Closing the returned socket closes
   * {@code plain}. The handshake has not started: the first read (or {@code startHandshake()})
   * does it, under the read timeout, and can stop at a timeout and go on later.
   */
  public EngineSocket accept(Socket plain, byte[] consumed, String connectHost) throws IOException {
    EngineSocket socket = EngineSocket.server(plain, context, TlsParameters.server(context, ClientAuth.NONE), consumed);
    keyManager.expect(socket.engine(), connectHost);
    return socket;
  }

  /** The CA leaves are signed with. */
  public CertificateAuthority authority() {
    return spec.authority();
  }

  /** The leaf issuer (cached by host). */
  public LeafCertificates leaves() {
    return leaves;
  }
}
