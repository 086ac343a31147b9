package dev.ferry.proxy.engine.tls;

import dev.ferry.proxy.engine.http1.LogValues;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.DSAKey;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What browsers refuse in an upstream's certificate chain and the JDK lets through, checked once
 * the JDK has verified the chain and the host name. A proxy that intercepts TLS shows its client
 * a certificate of its own, so a laxer check here would launder an origin the client would have
 * refused:
 *
 * <ul>
 *   <li>a leaf without a subject alternative name: the JDK then matches the host against the
 *       subject's CN, which RFC 9525 §6.3 no longer allows (nor do browsers);
 *   <li>a signature by SHA-1 or MD5, which the JDK refuses only in chains ending at its own CAs
 *       (a self-signed root's signature on itself is not checked: nothing relies on it);
 *   <li>an RSA or DSA key under 2048 bits, an EC key under 256 (CA/Browser Forum Baseline
 *       Requirements §6.1.5), in the chain and in the trust anchor it ends at: a configured CA
 *       with such a key is left out of the trust ({@link #usableAnchors});
 *   <li>a leaf, or a configured anchor, that is not valid now (the JDK checks the rest of the
 *       path it builds).
 * </ul>
 */
public final class OriginCertificates {
  private static final Logger log = LoggerFactory.getLogger(OriginCertificates.class);
  private static final int SAN_DNS = 2;
  private static final int SAN_IP = 7;

  private OriginCertificates() {}

  /** Why the peer's chain of {@code session} is refused, in a fixed text; null when it is not. */
  public static String problem(SSLSession session) {
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return "no certificate";
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate)) {
      return "no certificate";
    }
    if (!namesAHost((X509Certificate) chain[0])) {
      return "certificate has no subject alternative name (a CN alone names no host)";
    }
    // Dates of the leaf only: the JDK checks those of every other certificate of the path it
    // builds, and an extra one the origin sent that is on no path (an expired cross-signed
    // root, as Sectigo sites sent after 2020) is no reason to refuse (probe s25). The leaf's are
    // checked for when it is its own trust anchor, whose dates the JDK never checks.
    String expired = outOfDate((X509Certificate) chain[0]);
    if (expired != null) {
      return expired;
    }
    for (Certificate certificate : chain) {
      X509Certificate x509 = (X509Certificate) certificate;
      String algorithm = x509.getSigAlgName().toUpperCase(Locale.ROOT);
      boolean selfSigned = x509.getSubjectX500Principal().equals(x509.getIssuerX500Principal());
      boolean broken = algorithm.contains("SHA1") || algorithm.contains("MD5") || algorithm.contains("MD2");
      if (broken && !selfSigned) {
        return "certificate signed with " + x509.getSigAlgName();
      }
      String weak = weakKey(x509.getPublicKey());
      if (weak != null) {
        return "certificate with a " + weak;
      }
    }
    return null;
  }

  private static boolean namesAHost(X509Certificate leaf) {
    Collection<List<?>> names;
    try {
      names = leaf.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return false;
    }
    if (names == null) {
      return false;
    }
    for (List<?> name : names) {
      Object type = name.get(0);
      if (type instanceof Integer && ((Integer) type == SAN_DNS || (Integer) type == SAN_IP)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Why {@code certificate} is not valid now, or null. The JDK checks the dates of the chain it
   * builds but not of its trust anchor, so a configured self-signed certificate that expired,
   * which is its own anchor, passed unchecked, and interception showed its client a clean
   * certificate for it (probe s24).
   */
  private static String outOfDate(X509Certificate certificate) {
    try {
      certificate.checkValidity();
      return null;
    } catch (CertificateExpiredException e) {
      return "certificate expired";
    } catch (CertificateNotYetValidException e) {
      return "certificate not yet valid";
    }
  }

  /**
   * The CA certificates of {@code configured} fit to anchor an upstream's chain: the peer's
   * chain holds only what the upstream sent, never the anchor the JDK ended it at, so a weak
   * anchor, or one not valid now (whose dates the JDK never checks: probe s24), is refused here,
   * once, instead of at every handshake. Each one left out is logged. A CA that expires while
   * the proxy runs is trusted until the next start or reload.
   */
  static List<X509Certificate> usableAnchors(List<X509Certificate> configured, String source) {
    List<X509Certificate> strong = new ArrayList<>(configured.size());
    for (X509Certificate ca : configured) {
      String weak = weakKey(ca.getPublicKey());
      if (weak == null) {
        weak = outOfDate(ca);
      }
      if (weak == null) {
        strong.add(ca);
      } else {
        log.warn("upstream_ca_ignored source={} subject={} reason={}", source,
            LogValues.quoted(ca.getSubjectX500Principal().getName()), LogValues.quoted(weak));
      }
    }
    return strong;
  }

  static String weakKey(PublicKey key) {
    if (key instanceof RSAKey && ((RSAKey) key).getModulus().bitLength() < 2048) {
      return ((RSAKey) key).getModulus().bitLength() + "-bit RSA key";
    }
    if (key instanceof DSAKey && ((DSAKey) key).getParams() != null
        && ((DSAKey) key).getParams().getP().bitLength() < 2048) {
      return ((DSAKey) key).getParams().getP().bitLength() + "-bit DSA key";
    }
    if (key instanceof ECKey && ((ECKey) key).getParams().getOrder().bitLength() < 256) {
      return ((ECKey) key).getParams().getOrder().bitLength() + "-bit EC key";
    }
    return null;
  }
}
