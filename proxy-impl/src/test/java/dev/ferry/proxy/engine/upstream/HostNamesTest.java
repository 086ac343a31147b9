package dev.ferry.proxy.engine.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The canonical spelling of hosts, and the legacy IPv4 forms that are refused. No sockets. */
class HostNamesTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "localhost                    | localhost",
      "LOCALHOST                    | localhost",
      "localhost.                   | localhost",
      "Example.COM.                 | example.com",
      "bücher.example               | xn--bcher-kva.example",
      "straße.example               | xn--strae-oqa.example",
      "Faß.de                       | xn--fa-hia.de",
      "βόλος.com                    | xn--nxasmm1c.com",
      "bücher.straße                | xn--bcher-kva.xn--strae-oqa",
      "ＥＸＡＭＰＬＥ。com            | example.com",
      "under_score.example          | under_score.example",
      "127.0.0.1                    | 127.0.0.1",
      "127.0.0.1.                   | 127.0.0.1",
      "0.0.0.0                      | 0.0.0.0",
      "255.255.255.255              | 255.255.255.255",
      "10.0.0.10                    | 10.0.0.10",
      "::1                          | ::1",
      "[::1]                        | ::1",
      "[0:0:0:0:0:0:0:1]            | ::1",
      "[::]                         | ::",
      "[2001:DB8:0:0:1:0:0:1]       | 2001:db8::1:0:0:1",
      "[2001:db8:0:0:0:0:2:1]       | 2001:db8::2:1",
      "[2001:db8:0:1:1:1:1:1]       | 2001:db8:0:1:1:1:1:1",
      "[fe80:0000:0000:0000:0000:0000:0000:0001] | fe80::1",
      "[::ffff:127.0.0.1]           | 127.0.0.1",
      "[::ffff:7f00:1]              | 127.0.0.1",
      "[0:0:0:0:0:ffff:127.0.0.1]   | 127.0.0.1",
      "::ffff:10.1.2.3              | 10.1.2.3",
      "[::127.0.0.1]                | ::7f00:1",
  })
  void normalisesHosts(String host, String expected) throws HttpFailureException {
    assertThat(HostNames.normalise(host)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.1", "127.0.1", "2130706433", "0x7f.0.0.1", "0x7f000001", "0177.0.0.1",
      "127.000.000.001", "127.0.0.01", "0", "00", "1.2.3.4.5", "256.0.0.1", "example.123", "example.0x",
      "１２７.０.０.１.１", "[::ffff:127.000.000.001]", "::ffff:0177.0.0.1"})
  void refusesAmbiguousIpv4Forms(String host) {
    assertThatThrownBy(() -> HostNames.normalise(host))
        .isInstanceOfSatisfying(HttpFailureException.class, e -> {
          assertThat(e.failure()).isEqualTo(ProxyFailure.MALFORMED_REQUEST);
          assertThat(e.detail()).isEqualTo("ambiguous IP address form: use dotted decimal");
        });
  }

  @ParameterizedTest
  @ValueSource(strings = {"", ".", "a..b", "[::1", "[]", "[example.com]", "fe80::1%eth0", "::g",
      "exa mple.com", "ex*ample.com", "localhost..", "admin.test..", "127.0.0.1..", "..."})
  void refusesInvalidHosts(String host) {
    assertThatThrownBy(() -> HostNames.normalise(host))
        .isInstanceOfSatisfying(HttpFailureException.class,
            e -> assertThat(e.failure()).isEqualTo(ProxyFailure.MALFORMED_REQUEST));
  }

  /** A name with a colon left in it was reported as a broken IPv6 literal, which it is not. */
  @Test
  void namesASecondPortForWhatItIs() {
    assertThatThrownBy(() -> HostNames.normalise("www.test:80"))
        .isInstanceOfSatisfying(HttpFailureException.class, e -> assertThat(e.detail())
            .isEqualTo("invalid host: a second port, or an IPv6 address without its brackets"));
  }

  @Test
  void givesTheAddressOfLiteralsOnly() throws Exception {
    assertThat(HostNames.literal("127.0.0.1")).hasValue(InetAddress.getByName("127.0.0.1"));
    assertThat(HostNames.literal("::1")).hasValue(InetAddress.getByName("::1"));
    assertThat(HostNames.literal("localhost")).isEmpty();
    assertThat(HostNames.literal("127.1")).isEmpty();
  }
}
