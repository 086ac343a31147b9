package dev.ferry.proxy.engine.filter;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** CIDR matching, no sockets. */
class AddressBlockTest {

  @Test
  void matchesIpv4AndIpv6Blocks() throws Exception {
    AddressBlock ten = AddressBlock.parse("10.0.0.0/8");
    assertThat(ten.contains(InetAddress.getByName("10.200.3.4"))).isTrue();
    assertThat(ten.contains(InetAddress.getByName("11.0.0.1"))).isFalse();
    AddressBlock odd = AddressBlock.parse("192.168.0.0/23");
    assertThat(odd.contains(InetAddress.getByName("192.168.1.255"))).isTrue();
    assertThat(odd.contains(InetAddress.getByName("192.168.2.0"))).isFalse();
    AddressBlock v6 = AddressBlock.parse("fd00::/8");
    assertThat(v6.contains(InetAddress.getByName("fd12::1"))).isTrue();
    assertThat(v6.contains(InetAddress.getByName("10.0.0.1"))).isFalse();
    assertThat(AddressBlock.parse("::1").contains(InetAddress.getByName("::1"))).isTrue();
    assertThat(AddressBlock.parse("[::1]/128").contains(InetAddress.getByName("::1"))).isTrue();
    assertThat(AddressBlock.parse("0.0.0.0/0").contains(InetAddress.getByName("8.8.8.8"))).isTrue();
  }

  @Test
  void matchesIpv4MappedAddressesAsIpv4() throws Exception {
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 1, 2, 3};
    assertThat(AddressBlock.parse("10.0.0.0/8").contains(InetAddress.getByAddress(mapped))).isTrue();
    assertThat(AddressBlock.parse("10.0.0.0/8").contains(InetAddress.getByName("::ffff:10.1.2.3"))).isTrue();
  }
}
