package dev.ferry.proxy.engine.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.PrivateKey;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/** Keystores and trust stores: loading PKCS#12/JKS files, and turning certificates into trust. */
public final class Stores {
  private Stores() {}

  /**
   * Loads a PKCS#12 or JKS file; the JDK detects which from its content.
   *
   * @throws IllegalArgumentException naming the file if it is not a keystore or the password is
   *     wrong
   * @throws UncheckedIOException if the file cannot be read
   */
  public static KeyStore load(Path file, char[] password) {
    if (!Files.isRegularFile(file)) {
      // KeyStore.getInstance(File, ...) would throw an IllegalArgumentException without the path
      throw new UncheckedIOException(new NoSuchFileException(file.toString(), null,
          "keystore file not found"));
    }
    try {
      return KeyStore.getInstance(file.toFile(), password);
    } catch (IOException e) {
      if (e.getCause() instanceof UnrecoverableKeyException) {
        throw new IllegalArgumentException("keystore " + file + " could not be opened: wrong password", e);
      }
      throw new IllegalArgumentException("keystore " + file + " could not be opened ("
          + e.getMessage() + "); is it PKCS#12 or JKS, and is the password right?", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("keystore " + file + " is not a PKCS#12 or JKS keystore: "
          + e.getMessage(), e);
    }
  }

  /**
   * The private-key entries of a keystore, in alphabetical alias order, each key protected by
   * {@code password} (as keytool makes them).
   *
   * @throws IllegalArgumentException naming {@code source} if it has no key entry or a key cannot
   *     be read with the password
   */
  public static List<CertifiedKey> keyEntries(KeyStore store, char[] password, String source) {
    List<CertifiedKey> keys = new ArrayList<>();
    try {
      List<String> aliases = Collections.list(store.aliases());
      Collections.sort(aliases);
      for (String alias : aliases) {
        if (store.isKeyEntry(alias)) {
          keys.add(keyEntry(store, alias, password, source));
        }
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("keystore " + source + " could not be read: " + e.getMessage(), e);
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("keystore " + source + " holds no private key entry");
    }
    return keys;
  }

  private static CertifiedKey keyEntry(KeyStore store, String alias, char[] password, String source)
      throws GeneralSecurityException {
    PrivateKey key;
    try {
      key = (PrivateKey) store.getKey(alias, password);
    } catch (UnrecoverableKeyException e) {
      throw new IllegalArgumentException("keystore " + source + ": the key of entry " + alias
          + " is not protected by the keystore password", e);
    }
    List<X509Certificate> chain = new ArrayList<>();
    for (Certificate certificate : store.getCertificateChain(alias)) {
      chain.add((X509Certificate) certificate);
    }
    return new CertifiedKey(chain, key);
  }

  /** A new in-memory PKCS#12 trust store holding {@code certificates}. */
  public static KeyStore trustStore(List<X509Certificate> certificates) {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      for (int i = 0; i < certificates.size(); i++) {
        store.setCertificateEntry("ca-" + i, certificates.get(i));
      }
      return store;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make a trust store", e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The trusted certificates of {@code trustStore}: its certificate entries that are X.509. */
  public static List<X509Certificate> certificates(KeyStore trustStore) {
    try {
      List<X509Certificate> certificates = new ArrayList<>();
      for (String alias : Collections.list(trustStore.aliases())) {
        if (trustStore.isCertificateEntry(alias)
            && trustStore.getCertificate(alias) instanceof X509Certificate certificate) {
          certificates.add(certificate);
        }
      }
      return certificates;
    } catch (KeyStoreException e) {
      throw new IllegalArgumentException("trust store is unusable: " + e.getMessage(), e);
    }
  }

  /** A PKIX trust manager trusting the certificates of {@code trustStore}, and only those. */
  public static X509TrustManager trustManager(KeyStore trustStore) {
    try {
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trustStore);
      for (TrustManager manager : factory.getTrustManagers()) {
        if (manager instanceof X509TrustManager) {
          return (X509TrustManager) manager;
        }
      }
      throw new IllegalStateException("no X509TrustManager from " + factory.getAlgorithm());
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("trust store is unusable: " + e.getMessage(), e);
    }
  }

  /** A trust manager for the CA certificates in a PEM file; errors name the file. */
  public static X509TrustManager trustManager(Path caPem) {
    return trustManager(trustStore(Pem.certificates(caPem)));
  }
}
