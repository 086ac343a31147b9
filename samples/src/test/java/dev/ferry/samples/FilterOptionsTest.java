package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.ProxyConfig;
import org.junit.jupiter.api.Test;

/** The access-control, destination and filter flags, mapped onto the builder. No sockets. */
class FilterOptionsTest {

  private static ProxyConfig configOf(String... args) {
    return CliOptions.parse(args).builder().build().config();
  }

  @Test
  void mapsAccessFlagsToRulesInTheOrderGiven() {
    ProxyConfig config = configOf("--deny-host", "*.ads.example", "--deny-host", "169.254.0.0/16",
        "--deny-client", "10.9.0.0/16", "--allow-client", "10.0.0.0/8", "--deny-method", "DELETE",
        "--deny-port", "25", "--allow-method", "GET", "--allow-port", "443", "--allow-host", "*.example.com");
    assertThat(config.filters()).extracting(Object::toString).containsExactly("AccessControl[deny host "
        + "*.ads.example, deny host 169.254.0.0/16, deny client 10.9.0.0/16, allow client 10.0.0.0/8, "
        + "deny method DELETE, deny port 25, allow method GET, allow port 443, allow host *.example.com] else deny");
  }

  @Test
  void defaultsToTheOppositeOfTheLastRule() {
    assertThat(configOf("--allow-client", "10.0.0.0/8").filters()).extracting(Object::toString)
        .containsExactly("AccessControl[allow client 10.0.0.0/8] else deny");
    assertThat(configOf("--deny-host", "*.ads.example").filters()).extracting(Object::toString)
        .containsExactly("AccessControl[deny host *.ads.example] else allow");
    assertThat(configOf("--allow-client", "10.0.0.0/8", "--deny-host", "*.ads.example").filters())
        .extracting(Object::toString)
        .containsExactly("AccessControl[allow client 10.0.0.0/8, deny host *.ads.example] else allow");
  }

  @Test
  void addsNoAccessFilterWithoutAccessFlags() {
    assertThat(configOf().filters()).isEmpty();
    assertThat(configOf("--upstream", "http://127.0.0.1:9000").filters()).isEmpty();
  }

  @Test
  void mapsForwardDestinationFlagsOntoTheBuilder() {
    ProxyConfig ports = configOf("--allow-connect-port", "443", "--allow-connect-port", "8443");
    assertThat(ports.allowedConnectPorts()).containsExactlyInAnyOrder(443, 8443);
    assertThat(ports.allowsAnyConnectPort()).isFalse();
    assertThat(configOf("--allow-connect-port", "any").allowsAnyConnectPort()).isTrue();
    assertThat(configOf().allowsPrivateDestinations()).isFalse();
    assertThat(configOf("--allow-private-destinations", "-p", "0").allowsPrivateDestinations()).isTrue();
  }

  @Test
  void refusesForwardDestinationFlagsOnAReverseProxy() {
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "http://127.0.0.1:9000",
        "--allow-connect-port", "8443")).hasMessageStartingWith("--allow-connect-port is for a forward proxy");
    assertThatThrownBy(() -> CliOptions.parse("--route", "/api/=http://127.0.0.1:9000",
        "--allow-private-destinations")).hasMessageStartingWith("--allow-private-destinations is for a forward proxy");
  }

  @Test
  void namesTheFlagInEveryBadValue() {
    assertThatThrownBy(() -> CliOptions.parse("--allow-port", "http"))
        .hasMessage("--allow-port must be a port number (was http)");
    assertThatThrownBy(() -> CliOptions.parse("--deny-port", "0"))
        .hasMessage("--deny-port: port must be between 1 and 65535 (was 0)");
    assertThatThrownBy(() -> CliOptions.parse("--deny-client", "10.0.0.0/40"))
        .hasMessage("--deny-client: CIDR prefix length must be between 0 and 32 (was 10.0.0.0/40)");
    assertThatThrownBy(() -> CliOptions.parse("--deny-host", "127.1"))
        .hasMessageStartingWith("--deny-host: ").hasMessageContaining("dotted decimal (was 127.1)");
    assertThatThrownBy(() -> CliOptions.parse("--allow-host", "two words"))
        .hasMessageStartingWith("--allow-host: host must be a name");
    assertThatThrownBy(() -> CliOptions.parse("--allow-method", "G(T"))
        .hasMessage("--allow-method: method must be a token such as GET (was G(T)");
    assertThatThrownBy(() -> CliOptions.parse("--allow-connect-port", "every"))
        .hasMessage("--allow-connect-port must be a port number (was every)");
    assertThatThrownBy(() -> CliOptions.parse("--allow-connect-port", "70000"))
        .hasMessageStartingWith("--allow-connect-port: ").hasMessageContaining("(was 70000)");
    assertThatThrownBy(() -> CliOptions.parse("--rate-limit", "5/s", "--rate-limit", "10/s"))
        .hasMessage("--rate-limit may be given only once");
    assertThatThrownBy(() -> CliOptions.parse("--set-header", "Bad Name: x"))
        .hasMessageStartingWith("--set-header: ").hasMessageContaining("header name");
  }

  @Test
  void refusesHeadersTheProxyManagesInSetHeader() {
    // Underscore spellings are dropped with the field, and Expect is the proxy's (probe d25).
    for (String name : new String[] {"Host", "content-length", "Transfer-Encoding", "Connection",
        "Proxy-Connection", "Keep-Alive", "TE", "Trailer", "Upgrade", "Content_Length", "transfer_encoding",
        "Expect"}) {
      assertThatThrownBy(() -> CliOptions.parse("--set-header", name + ": x"), name)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("--set-header cannot set " + name + ":");
    }
    assertThat(configOf("--set-header", "X-Env: test").filters()).extracting(Object::toString)
        .containsExactly("setRequestHeader(X-Env)");
  }

  @Test
  void hasOneBodyLimitFlag() {
    assertThatThrownBy(() -> CliOptions.parse("--max-body-mb", "1")).hasMessage("unknown option --max-body-mb");
    assertThat(configOf("--max-body-bytes", "1024").filters()).isEmpty();
  }

  @Test
  void documentsEveryFlagAndTheOrderInHelp() {
    for (String flag : FilterOptions.FLAGS) {
      assertThat(FilterOptions.USAGE).contains(flag);
    }
    for (String flag : FilterOptions.SWITCHES) {
      assertThat(FilterOptions.USAGE).contains(flag);
    }
    assertThat(FilterOptions.USAGE).contains("first", "opposite of the last rule");
    assertThat(CliOptions.USAGE).contains(FilterOptions.USAGE).doesNotContain("--max-body-mb");
  }
}
