package dev.ferry.proxy.engine.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Certificates SNI can never choose are found, so that the listener warns about them: before, a
 * second certificate for the same names (the same pair given twice, a renewal added beside the
 * old one) was silently never served.
 */
class SniKeyManagerTest {
  private final TestPki.Issued ca = TestPki.ca("Test CA");

  @Test
  void findsCertificatesAnEarlierOneOfTheirKeyTypeShadows() {
    CertifiedKey first = key(TestPki.ec(), "localhost", "*.example.test");
    CertifiedKey sameNames = key(TestPki.ec(), "localhost");
    CertifiedKey coveredByWildcard = key(TestPki.ec(), "api.example.test");
    CertifiedKey rsa = key(TestPki.rsa(), "localhost");
    CertifiedKey oneNameMore = key(TestPki.ec(), "localhost", "other.test");

    assertThat(SniKeyManager.unreachable(List.of(first, sameNames, coveredByWildcard, rsa, oneNameMore)))
        .containsExactly(sameNames, coveredByWildcard);
    assertThat(SniKeyManager.unreachable(List.of(first))).isEmpty();
  }

  private CertifiedKey key(java.security.KeyPair keys, String... names) {
    return TestPki.server(ca, keys, names).certifiedKey();
  }
}
