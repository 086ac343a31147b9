package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The startup banner says what runs in the words of the CLI's own flags and addresses. */
class BannerTest {

  /** RFC 5952's short form, the one a user types back; Java's own is {@code 0:0:0:0:0:0:0:1}. */
  @Test
  void writesIpv6AddressesInTheirShortForm() throws Exception {
    assertThat(FerryCli.hostPort(new InetSocketAddress(InetAddress.getByName("::1"), 8080))).isEqualTo("[::1]:8080");
    assertThat(FerryCli.hostPort(new InetSocketAddress(InetAddress.getByName("::"), 80))).isEqualTo("[::]:80");
    assertThat(FerryCli.hostPort(new InetSocketAddress(InetAddress.getByName("2001:db8:0:0:1:0:0:1"), 80)))
        .as("the first of two equal runs of zeros").isEqualTo("[2001:db8::1:0:0:1]:80");
    assertThat(FerryCli.hostPort(new InetSocketAddress(InetAddress.getByName("2001:db8:1:0:1:1:1:1"), 80)))
        .as("a single zero group stays").isEqualTo("[2001:db8:1:0:1:1:1:1]:80");
    assertThat(FerryCli.hostPort(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 80))).isEqualTo("127.0.0.1:80");
  }

  /** {@code auto} with what it chose here, where it showed the API's {@code auto()}. */
  @Test
  void namesTheConcurrencyModelAutoChose() {
    int feature = Runtime.version().feature();
    String chosen = feature >= 21 ? "virtual threads on Java " + feature
        : "bounded pool on Java " + feature + ", growing to 1000 threads while clients wait and the CPUs have room";
    assertThat(banner("-p", "0"))
        .contains("concurrency  auto (" + chosen + ")")
        .doesNotContain("auto()")
        .containsPattern("Listening on 127\\.0\\.0\\.1:\\d+");
  }

  /** A pool that grows says how far; a fixed one is just the pool. */
  @Test
  void namesTheCeilingOfAGrowingPool() {
    assertThat(banner("-p", "0", "-c", "pool", "--max-threads", "400"))
        .contains("concurrency  pool (growing to 400 threads while clients wait and the CPUs have room)\n")
        .contains("workers      200 threads, queue of 10000\n");
    assertThat(banner("-p", "0", "-c", "pool")).contains("concurrency  pool\n");
  }

  /** The banner of the CLI started with {@code args}, with its lines ended by {@code \n}. */
  private static String banner(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ProxyServer proxy = CliOptions.parse(args).builder().build().start()) {
      Banner.print(proxy, "info", new PrintStream(out, true, StandardCharsets.UTF_8));
    }
    return out.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
  }
}
