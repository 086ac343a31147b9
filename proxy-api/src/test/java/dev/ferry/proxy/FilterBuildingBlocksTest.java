package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Validation and contents of the built-in filter values, no sockets. Their behaviour lives in the
 * engine and is tested there.
 */
class FilterBuildingBlocksTest {

  @Test
  void acceptsIpv4AndIpv6Blocks() {
    for (String block : new String[] {"10.0.0.0/8", "192.168.0.0/23", "0.0.0.0/0", "127.0.0.1",
        "fd00::/8", "::1", "::1/128", "[::1]"}) {
      Cidr.check(block);
    }
  }

  @Test
  void rejectsInvalidBlocks() {
    assertThatThrownBy(() -> Cidr.check("10.0.0.0/33")).hasMessageContaining("between 0 and 32");
    assertThatThrownBy(() -> Cidr.check("::/129")).hasMessageContaining("between 0 and 128");
    assertThatThrownBy(() -> Cidr.check("example.com/8")).hasMessageContaining("IP address block");
    assertThatThrownBy(() -> Cidr.check("10.0.0.0/x")).hasMessageContaining("prefix length");
    assertThatThrownBy(() -> Cidr.check("fe80::1%eth0")).hasMessageContaining("IP address block");
  }

  @Test
  void refusesLegacyIpv4FormsInRules() {
    for (String legacy : new String[] {"127.1", "2130706433", "0177.0.0.1", "127.000.000.001", "0"}) {
      assertThatThrownBy(() -> Filters.accessControl().denyHosts(legacy), legacy)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(was " + legacy + ")");
    }
    assertThatThrownBy(() -> Filters.accessControl().allowClients("10.1/16")).hasMessageContaining("dotted decimal");
    // An IPv4-mapped block is said to be one, with the form to write instead: the message asked
    // for the very dotted decimal it refused (probe a24).
    for (String mapped : new String[] {"::ffff:127.0.0.1", "::ffff:10.0.0.0/104", "::ffff:7f00:1"}) {
      assertThatThrownBy(() -> Filters.accessControl().denyClients(mapped), mapped)
          .hasMessage("CIDR " + mapped + " is an IPv4-mapped block: write it as IPv4 (10.0.0.0/8), which also "
              + "matches clients and destinations in IPv4-mapped form");
    }
    for (String legacy : new String[] {"0x7f.0.0.1", "0X7F.1", "example.123", "localhost.0x1."}) {
      assertThatThrownBy(() -> Filters.accessControl().denyHosts(legacy), legacy)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("host " + legacy + " ends in a number, so it is an IPv4 address in a legacy form "
              + "(hex, octal or too few parts): write it in dotted decimal");
    }
    assertThat(Filters.accessControl().denyHosts("0x7f.example", "*.example", "10x.example").build().rules())
        .hasSize(3);
  }

  /** A glob over addresses matched only requests spelling the address, not names resolving to it (probe f9). */
  @Test
  void refusesGlobsOverAddressesInHostRules() {
    for (String glob : new String[] {"127.0.0.*", "169.254.*", "10.*.*.*", "fe80:*", "*:1"}) {
      assertThatThrownBy(() -> Filters.accessControl().denyHosts(glob), glob)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("host " + glob + " is a glob over addresses")
          .hasMessageContaining("address block");
    }
    assertThat(Filters.accessControl().denyHosts("*.example", "api-*.example", "*.1e100.net").build().rules())
        .hasSize(3);
  }

  @Test
  void keepsRulesInOrderAsText() {
    AccessControl acl = Filters.accessControl().denyHosts("*.ads.example", "127.0.0.0/8")
        .allowClients("10.0.0.0/8").denyMethods("DELETE").allowPorts(80, 443).denyByDefault().build();
    assertThat(acl.rules()).containsExactly("deny host *.ads.example", "deny host 127.0.0.0/8",
        "allow client 10.0.0.0/8", "deny method DELETE", "allow port 80", "allow port 443");
    assertThat(acl.allowsByDefault()).isFalse();
    assertThat(acl).hasToString("AccessControl[deny host *.ads.example, deny host 127.0.0.0/8, "
        + "allow client 10.0.0.0/8, deny method DELETE, allow port 80, allow port 443] else deny");
  }

  @Test
  void exposesLimitAndAuthenticationSettingsWithoutPrintingSecrets() {
    RateLimit limit = Filters.rateLimit().perSecond(2).burst(3).keyHeader("X-Api-Key").maxKeys(50).build();
    assertThat(limit.perSecond()).isEqualTo(2);
    assertThat(limit.burst()).isEqualTo(3);
    assertThat(limit.keyHeader()).hasValue("X-Api-Key");
    assertThat(limit.maxKeys()).isEqualTo(50);
    assertThat(Filters.rateLimit().build().keyHeader()).isEmpty();
    // Unset, the burst is twice the rate, as the CLI's: a login limit of 1/s lets 2 through at once.
    assertThat(Filters.rateLimit().build().burst()).isEqualTo(20);
    assertThat(Filters.rateLimit().perSecond(1).build().burst()).isEqualTo(2);
    assertThat(Filters.rateLimit().perSecond(0.2).build().burst()).isEqualTo(1);
    assertThat(Filters.maxInFlightPerClient(4).maxPerClient()).isEqualTo(4);
    Authentication auth = Filters.authentication().credentials(Map.of("alice", "s3cret"))
        .bearerTokens(Set.of("t0ken")).realm("office").build();
    assertThat(auth.checksProxyAuthorization()).isFalse();
    assertThat(auth.credentials()).containsEntry("alice", "s3cret");
    assertThat(auth.bearerTokens()).containsExactly("t0ken");
    assertThat(auth.checker()).isEmpty();
    assertThat(auth.toString()).isEqualTo("Authentication(realm=office)").doesNotContain("s3cret");
    assertThat(Filters.proxyAuthentication().checker((u, p) -> true).build().checksProxyAuthorization()).isTrue();
  }

  @Test
  void validatesFilterOptions() {
    assertThatThrownBy(() -> Filters.rateLimit().perSecond(0)).hasMessage("perSecond must be positive (was 0.0)");
    assertThatThrownBy(() -> Filters.rateLimit().burst(0)).hasMessage("burst must be at least 1 (was 0)");
    assertThatThrownBy(() -> Filters.rateLimit().maxKeys(0)).hasMessage("maxKeys must be at least 1 (was 0)");
    assertThatThrownBy(() -> Filters.accessControl().allowPorts(0)).hasMessage("port must be between 1 and 65535 (was 0)");
    assertThatThrownBy(() -> Filters.accessControl().denyHosts("a b")).hasMessageContaining("glob");
    assertThatThrownBy(() -> Filters.accessControl().allowClients()).hasMessageContaining("at least one");
    assertThatThrownBy(() -> Filters.accessControl().allowMethods("GE T")).hasMessageContaining("token");
    assertThatThrownBy(() -> Filters.proxyAuthentication().build()).hasMessageContaining("needs credentials");
    assertThatThrownBy(() -> Filters.proxyAuthentication().bearerTokens(Set.of("t")))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> Filters.stripPathPrefix("api")).hasMessageContaining("starting with /");
    assertThatThrownBy(() -> Filters.setRequestHeader("Bad Name", "x")).hasMessageContaining("header name");
    // The proxy sets these itself: a filter's value would be dropped without a word.
    assertThatThrownBy(() -> Filters.setRequestHeader("Host", "b.example"))
        .hasMessageContaining("setRequestHeader cannot set Host").hasMessageContaining("rewriteHost");
    assertThatThrownBy(() -> Filters.addRequestHeader("Transfer-Encoding", "chunked"))
        .hasMessageContaining("addRequestHeader cannot set Transfer-Encoding");
    assertThatThrownBy(() -> Filters.setResponseHeader("content-length", "3"))
        .hasMessageContaining("setResponseHeader cannot set content-length");
    assertThatThrownBy(() -> Filters.maxInFlightPerClient(0)).hasMessageContaining("(was 0)");
  }
}
