package dev.ferry.proxy.engine.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;

/** How an origin's certificate names its hosts: SANs only, RFC 6125 wildcards. */
class SubjectNamesTest {
  private static final TestPki.Issued CA = TestPki.ca("Subject Names Test CA");

  private static X509Certificate leaf(String... names) {
    return TestPki.server(CA, TestPki.ec(), names).certificate();
  }

  /**
   * A wildcard over a whole top-level name ({@code *.com}, {@code *.internal}) names no origin:
   * curl and browsers refuse it, and the JDK only for chains ending at its own CAs, so under a
   * configured CA interception showed such an origin clean (probe v31).
   */
  @Test
  void refusesAnOriginWildcardOverOneLabel() {
    X509Certificate tld = leaf("*.com", "*.internal", "*.local.");
    for (String host : new String[] {"a.com", "db.internal", "printer.local"}) {
      assertThat(SubjectNames.matchesOrigin(tld, host)).as(host).isFalse();
      // A certificate of the proxy's own listener is chosen by SNI with the plain rule.
      assertThat(SubjectNames.matches(tld, host)).as(host).isTrue();
    }
    X509Certificate wild = leaf("*.example.com", "*.Corp.Internal.");
    assertThat(SubjectNames.matchesOrigin(wild, "api.example.com")).isTrue();
    assertThat(SubjectNames.matchesOrigin(wild, "db.corp.internal")).isTrue();
    assertThat(SubjectNames.matchesOrigin(wild, "a.b.example.com")).isFalse();
    assertThat(SubjectNames.matchesOrigin(wild, "example.com")).isFalse();
    assertThat(SubjectNames.matchesOrigin(leaf("vm.test", "127.0.0.1"), "VM.test.")).isTrue();
    assertThat(SubjectNames.matchesOrigin(leaf("vm.test", "127.0.0.1"), "127.0.0.1")).isTrue();
  }
}
