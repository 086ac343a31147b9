package dev.ferry.proxy;

import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS on the proxy's listener: the certificates it shows clients and whether it asks them for
 * theirs. Immutable: each option returns a new value.
 *
 * <p>The listener speaks TLS 1.2 and 1.3 only, TLS 1.2 with forward-secret AEAD cipher suites
 * only (ECDHE or DHE with AES-GCM or ChaCha20-Poly1305, RFC 9325; unless the JVM's
 * {@code jdk.tls.server.cipherSuites} names others), and offers ALPN {@code http/1.1}. With several
 * certificates, the one whose subject alternative names match the client's SNI name is shown;
 * the first is the default (no SNI, or no match). Certificate files are checked for changes
 * as connections arrive and reloaded without a restart; a file that fails to load keeps the
 * previous certificates in use (the failure is logged).
 *
 * <pre>{@code
 * ServerTls tls = ServerTls.pem(Path.of("site.crt"), Path.of("site.key"))
 *     .certificate(Path.of("api.crt"), Path.of("api.key"))      // chosen by SNI
 *     .clientAuth(ServerTls.ClientAuth.NEED, Path.of("clients-ca.pem"));
 * ProxyServer.builder().port(8443).tls(tls).upstream(...).build().start();
 * }</pre>
 *
 * <p>{@link #toString()} never shows a password.
 */
public final class ServerTls {

  /** Whether the listener asks clients for a certificate (mutual TLS). */
  public enum ClientAuth {
    /** Never asks; the default. */
    NONE,
    /** Asks, and accepts a client that sends none; one that sends an untrusted one is refused. */
    WANT,
    /** Requires a certificate issued by a trusted CA; a client without one is refused. */
    NEED
  }

  private final List<Path> chainFiles;
  private final List<Path> keyFiles;
  private final Path keyStoreFile;
  private final KeyStore keyStore;
  private final char[] password;
  private final ClientAuth clientAuth;
  private final Path clientCaFile;
  private final KeyStore clientTrustStore;

  private ServerTls(List<Path> chainFiles, List<Path> keyFiles, Path keyStoreFile,
      KeyStore keyStore, char[] password, ClientAuth clientAuth, Path clientCaFile,
      KeyStore clientTrustStore) {
    this.chainFiles = List.copyOf(chainFiles);
    this.keyFiles = List.copyOf(keyFiles);
    this.keyStoreFile = keyStoreFile;
    this.keyStore = keyStore;
    this.password = password.clone();
    this.clientAuth = clientAuth;
    this.clientCaFile = clientCaFile;
    this.clientTrustStore = clientTrustStore;
  }

  /**
   * A certificate chain (PEM, leaf first, intermediates after it) and its private key (PEM,
   * PKCS#8 {@code -----BEGIN PRIVATE KEY-----}, RSA or EC, unencrypted). The files are read when
   * the proxy is built, and again whenever they change.
   */
  public static ServerTls pem(Path certificateChain, Path privateKey) {
    Objects.requireNonNull(certificateChain, "certificateChain");
    Objects.requireNonNull(privateKey, "privateKey");
    return new ServerTls(List.of(certificateChain), List.of(privateKey), null, null, new char[0],
        ClientAuth.NONE, null, null);
  }

  /**
   * A PKCS#12 or JKS keystore file (the type is detected). Every private-key entry is a
   * certificate chosen by SNI, the first alias in alphabetical order being the default; each key
   * is protected by {@code password}, as {@code keytool} makes them. The file is reloaded when it
   * changes.
   */
  public static ServerTls keyStore(Path file, char[] password) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(password, "password");
    return new ServerTls(List.of(), List.of(), file, null, password, ClientAuth.NONE, null, null);
  }

  /**
   * A loaded keystore; as {@link #keyStore(Path, char[])}, but never reloaded. The store is read
   * when the proxy is built: do not change it afterwards.
   */
  public static ServerTls keyStore(KeyStore store, char[] password) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(password, "password");
    return new ServerTls(List.of(), List.of(), null, store, password, ClientAuth.NONE, null, null);
  }

  /**
   * Adds another PEM certificate chain and key, shown to clients whose SNI name it matches.
   *
   * @throws IllegalStateException if this value was made from a keystore, whose key entries are
   *     all chosen by SNI already
   */
  public ServerTls certificate(Path certificateChain, Path privateKey) {
    Objects.requireNonNull(certificateChain, "certificateChain");
    Objects.requireNonNull(privateKey, "privateKey");
    if (chainFiles.isEmpty()) {
      throw new IllegalStateException("certificate(chain, key) adds PEM files to ServerTls.pem; "
          + "with a keystore, put every certificate in the keystore");
    }
    List<Path> chains = new ArrayList<>(chainFiles);
    List<Path> keys = new ArrayList<>(keyFiles);
    chains.add(certificateChain);
    keys.add(privateKey);
    return new ServerTls(chains, keys, keyStoreFile, keyStore, password, clientAuth, clientCaFile,
        clientTrustStore);
  }

  /**
   * Asks clients for certificates issued by one of the CAs in {@code caCertificatesPem} (PEM,
   * one or more certificates); default {@link ClientAuth#NONE}. The file is reloaded when it
   * changes. A reverse proxy passes the certificate it verified to upstreams in RFC 9440's
   * {@code Client-Cert} and {@code Client-Cert-Chain} fields, and drops those a client sends
   * itself (with {@code X-Forwarded-Client-Cert}) whatever the mode.
   */
  public ServerTls clientAuth(ClientAuth mode, Path caCertificatesPem) {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(caCertificatesPem, "caCertificatesPem");
    return new ServerTls(chainFiles, keyFiles, keyStoreFile, keyStore, password, mode,
        caCertificatesPem, null);
  }

  /**
   * Asks clients for certificates issued by one of the CAs in {@code trustStore}; as
   * {@link #clientAuth(ClientAuth, Path)}, but never reloaded.
   */
  public ServerTls clientAuth(ClientAuth mode, KeyStore trustStore) {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(trustStore, "trustStore");
    return new ServerTls(chainFiles, keyFiles, keyStoreFile, keyStore, password, mode, null,
        trustStore);
  }

  /** The PEM certificate chain files, in order; the first is the default. Empty with a keystore. */
  public List<Path> certificateChainFiles() {
    return chainFiles;
  }

  /** The PEM private key files; the i-th belongs to the i-th {@linkplain #certificateChainFiles chain}. */
  public List<Path> privateKeyFiles() {
    return keyFiles;
  }

  /** The keystore file, if the certificates come from one. */
  public Optional<Path> keyStoreFile() {
    return Optional.ofNullable(keyStoreFile);
  }

  /** The loaded keystore, if the certificates come from one. */
  public Optional<KeyStore> keyStore() {
    return Optional.ofNullable(keyStore);
  }

  /** A copy of the keystore password; empty for PEM files. */
  public char[] keyStorePassword() {
    return password.clone();
  }

  /** Whether clients are asked for a certificate. */
  public ClientAuth clientAuth() {
    return clientAuth;
  }

  /** The PEM file of CAs trusted to issue client certificates, if one was given. */
  public Optional<Path> clientCaFile() {
    return Optional.ofNullable(clientCaFile);
  }

  /** The trust store of CAs trusted to issue client certificates, if one was given. */
  public Optional<KeyStore> clientTrustStore() {
    return Optional.ofNullable(clientTrustStore);
  }

  @Override
  public boolean equals(Object other) {
    if (!(other instanceof ServerTls)) {
      return false;
    }
    ServerTls that = (ServerTls) other;
    return chainFiles.equals(that.chainFiles) && keyFiles.equals(that.keyFiles)
        && Objects.equals(keyStoreFile, that.keyStoreFile) && keyStore == that.keyStore
        && Arrays.equals(password, that.password) && clientAuth == that.clientAuth
        && Objects.equals(clientCaFile, that.clientCaFile)
        && clientTrustStore == that.clientTrustStore;
  }

  @Override
  public int hashCode() {
    return Objects.hash(chainFiles, keyFiles, keyStoreFile, clientAuth, clientCaFile);
  }

  /** The files and client-auth mode; never the password. */
  @Override
  public String toString() {
    StringBuilder text = new StringBuilder("ServerTls[");
    if (keyStoreFile != null) {
      text.append("keyStore=").append(keyStoreFile);
    } else if (keyStore != null) {
      text.append("keyStore=").append(keyStore.getType());
    } else {
      for (int i = 0; i < chainFiles.size(); i++) {
        text.append(i == 0 ? "pem=" : ", ").append(chainFiles.get(i)).append('+').append(keyFiles.get(i));
      }
    }
    if (clientAuth != ClientAuth.NONE) {
      text.append("; clientAuth=").append(clientAuth).append(" trusting ")
          .append(clientCaFile != null ? clientCaFile.toString() : "a trust store");
    }
    return text.append(']').toString();
  }
}
