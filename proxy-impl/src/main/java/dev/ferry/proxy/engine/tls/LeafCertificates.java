package dev.ferry.proxy.engine.tls;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.ferry.proxy.CertificateAuthority;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issues the certificates an intercepting proxy shows clients: one per host, signed by the CA.
 *
 * <p>One EC P-256 key pair serves every leaf of this proxy: generating a key per host would
 * cost more than the signature, and the leaves' security rests on the CA key anyway. Leaves
 * are valid from an hour ago (clock skew) until the CA expires, at most 397 days (the CA/Browser
 * Forum limit that Apple clients enforce). Serial numbers are random.
 *
 * <p>Concurrency: leaves are cached by normalised host in a bounded Caffeine cache, whose
 * {@code get} issues at most once per host even when many connections ask at once; the rest is
 * immutable.
 */
public final class LeafCertificates {
  private static final Logger log = LoggerFactory.getLogger(LeafCertificates.class);
  static final Duration MAX_VALIDITY = Duration.ofDays(397);
  /** Re-issued twice a day: well before a leaf expires, and bounds how long a cached one lives. */
  private static final Duration REISSUE_AFTER = Duration.ofHours(12);
  /** Letters, digits, hyphen, dot, underscore (seen in real host names), and IPv6 colons. */
  private static final Pattern HOST = Pattern.compile("[a-z0-9._:-]{1,253}");

  private final CertificateAuthority authority;
  private final KeyPair leafKeys;
  private final Cache<String, CertifiedKey> cache;

  /**
   * Leaves signed by {@code authority}, caching up to {@code maxHosts} of them.
   *
   * @throws IllegalStateException naming the artifact if BouncyCastle is missing, or if the CA
   *     is not valid now
   */
  public LeafCertificates(CertificateAuthority authority, int maxHosts) {
    BouncyCastle.require();
    X509Certificate ca = authority.certificate();
    Instant now = Instant.now();
    if (ca.getNotAfter().toInstant().isBefore(now) || ca.getNotBefore().toInstant().isAfter(now)) {
      throw new IllegalStateException("interception CA " + ca.getSubjectX500Principal().getName()
          + " is not valid now (valid from " + ca.getNotBefore().toInstant() + " to "
          + ca.getNotAfter().toInstant() + "); generate or load a current one");
    }
    this.authority = authority;
    this.leafKeys = Authorities.ecP256();
    this.cache = Caffeine.newBuilder().maximumSize(maxHosts).expireAfterWrite(REISSUE_AFTER).build();
  }

  /**
   * The leaf for {@code host} (a DNS name, or an IP literal, with or without brackets), with
   * the CA after it: from the cache, or issued now.
   *
   * @throws IllegalArgumentException if {@code host} is not a plausible host name or IP literal
   */
  public CertifiedKey leafFor(String host) {
    String name = SubjectNames.normalise(host);
    if (!HOST.matcher(name).matches()) {
      throw new IllegalArgumentException("cannot issue a certificate for host \"" + host
          + "\": not a host name or IP literal");
    }
    return cache.get(name, this::issue);
  }

  /** The CA the leaves are signed by. */
  public CertificateAuthority authority() {
    return authority;
  }

  /** How many leaves are cached now. */
  public long cachedLeaves() {
    return cache.estimatedSize();
  }

  private CertifiedKey issue(String host) {
    boolean ip = SubjectNames.isIpLiteral(host);
    if (ip) {
      SubjectNames.address(host); // rejects a malformed literal before BouncyCastle sees it
    }
    X509Certificate ca = authority.certificate();
    Instant now = Instant.now();
    Instant notBefore = later(now.minus(Authorities.BACKDATE), ca.getNotBefore().toInstant());
    Instant notAfter = earlier(now.plus(MAX_VALIDITY), ca.getNotAfter().toInstant());
    X509Certificate leaf = CertificateBuilder.leaf(host, ip, leafKeys.getPublic(), ca,
        authority.privateKey(), notBefore, notAfter);
    log.debug("tls_leaf_issued host={} serial={} not_after={}", host, leaf.getSerialNumber().toString(16), notAfter);
    return new CertifiedKey(List.of(leaf, ca), leafKeys.getPrivate());
  }

  private static Instant later(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  private static Instant earlier(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }
}
