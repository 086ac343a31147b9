package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** CIDR matching, the token bucket and builder validation of the built-in filters, no sockets. */
class FilterBuildingBlocksTest {

  @Test
  void matchesIpv4AndIpv6Blocks() throws Exception {
    Cidr ten = Cidr.parse("10.0.0.0/8");
    assertThat(ten.contains(InetAddress.getByName("10.200.3.4"))).isTrue();
    assertThat(ten.contains(InetAddress.getByName("11.0.0.1"))).isFalse();
    assertThat(ten.contains(InetAddress.getByName("::ffff:10.1.2.3"))).isTrue();
    Cidr odd = Cidr.parse("192.168.0.0/23");
    assertThat(odd.contains(InetAddress.getByName("192.168.1.255"))).isTrue();
    assertThat(odd.contains(InetAddress.getByName("192.168.2.0"))).isFalse();
    Cidr v6 = Cidr.parse("fd00::/8");
    assertThat(v6.contains(InetAddress.getByName("fd12::1"))).isTrue();
    assertThat(v6.contains(InetAddress.getByName("10.0.0.1"))).isFalse();
    assertThat(Cidr.parse("::1").contains(InetAddress.getByName("::1"))).isTrue();
    assertThat(Cidr.parse("0.0.0.0/0").contains(InetAddress.getByName("8.8.8.8"))).isTrue();
  }

  @Test
  void rejectsInvalidBlocks() {
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).hasMessageContaining("between 0 and 32");
    assertThatThrownBy(() -> Cidr.parse("example.com/8")).hasMessageContaining("IP address block");
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/x")).hasMessageContaining("prefix length");
  }

  @Test
  void refillsTokensAtTheConfiguredRate() {
    AtomicLong now = new AtomicLong(1_000_000_000L);
    RateLimit limit = Filters.rateLimit().perSecond(2).burst(3).ticker(now::get).build();
    for (int i = 0; i < 3; i++) {
      assertThat(limit.take("a")).isZero();
    }
    assertThat(limit.take("a")).isCloseTo(0.5, org.assertj.core.data.Offset.offset(0.01));
    assertThat(limit.take("b")).as("keys are independent").isZero();
    now.addAndGet(500_000_000L);
    assertThat(limit.take("a")).isZero();
    assertThat(limit.take("a")).isPositive();
    now.addAndGet(60_000_000_000L);
    for (int i = 0; i < 3; i++) {
      assertThat(limit.take("a")).as("refills only up to the burst").isZero();
    }
    assertThat(limit.take("a")).isPositive();
  }

  @Test
  void boundsTheNumberOfBuckets() {
    RateLimit limit = Filters.rateLimit().maxKeys(100).build();
    for (int i = 0; i < 10_000; i++) {
      limit.take("client-" + i);
    }
    assertThat(limit.keys()).isEqualTo(100);
  }

  @Test
  void validatesFilterOptions() {
    assertThatThrownBy(() -> Filters.rateLimit().perSecond(0)).hasMessage("perSecond must be positive (was 0.0)");
    assertThatThrownBy(() -> Filters.rateLimit().burst(0)).hasMessage("burst must be at least 1 (was 0)");
    assertThatThrownBy(() -> Filters.accessControl().allowPorts(0)).hasMessage("port must be between 1 and 65535 (was 0)");
    assertThatThrownBy(() -> Filters.accessControl().denyHosts("a b")).hasMessageContaining("host glob");
    assertThatThrownBy(() -> Filters.accessControl().allowClients()).hasMessageContaining("at least one");
    assertThatThrownBy(() -> Filters.proxyAuthentication().build()).hasMessageContaining("needs credentials");
    assertThatThrownBy(() -> Filters.proxyAuthentication().bearerTokens(java.util.Set.of("t")))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> Filters.stripPathPrefix("api")).hasMessageContaining("starting with /");
    assertThatThrownBy(() -> Filters.setRequestHeader("Bad Name", "x")).hasMessageContaining("header name");
    assertThatThrownBy(() -> Filters.maxRequestBodyBytes(-1)).hasMessageContaining("(was -1)");
    assertThatThrownBy(() -> Filters.maxInFlightPerClient(0)).hasMessageContaining("(was 0)");
    assertThat(Filters.accessControl().denyHosts("*.ads.example").denyByDefault().build())
        .hasToString("AccessControl[deny host *.ads.example] else deny");
  }
}
