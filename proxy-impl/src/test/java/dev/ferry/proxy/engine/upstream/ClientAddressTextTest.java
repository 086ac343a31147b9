package dev.ferry.proxy.engine.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Client addresses in X-Forwarded-For and Forwarded: IPv6 in RFC 5952 text (was Java's full form). */
class ClientAddressTextTest {
  @ParameterizedTest
  @CsvSource({
      "0:0:0:0:0:0:0:1, ::1",
      "0:0:0:0:0:0:0:0, ::",
      "2001:db8:0:0:0:0:0:1, 2001:db8::1",
      "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
      "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
      "fe80:0:0:0:0:0:0:0, fe80::",
      "2001:DB8:AA:0:0:0:0:0, 2001:db8:aa::",
      "127.0.0.1, 127.0.0.1"})
  void writesAddressesInCanonicalText(String literal, String expected) throws Exception {
    assertThat(HostNames.addressText(InetAddress.getByName(literal))).isEqualTo(expected);
  }
}
