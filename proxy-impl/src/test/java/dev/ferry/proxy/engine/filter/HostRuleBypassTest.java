package dev.ferry.proxy.engine.filter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.AccessControl;
import dev.ferry.proxy.Filters;
import dev.ferry.proxy.ProxyServer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 9, item 3: every way of writing a denied host is denied (403) or refused as ambiguous
 * (400), for forwarded requests and CONNECT alike, and none reaches the origin.
 */
class HostRuleBypassTest {
  /** Hosts that all mean this machine's loopback address, each spelt differently. */
  private static final List<String> LOOPBACK_SPELLINGS = List.of("127.0.0.1", "127.1", "127.0.1",
      "2130706433", "127.000.000.001", "0", "0.0.0.0", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
      "[0:0:0:0:0:ffff:127.0.0.1]", "localhost.", "localhost..", "LOCALHOST", "0177.0.0.1", "0x7f.0.0.1", "localhost");

  private CountingOrigin origin;
  private ProxyServer proxy;

  @BeforeEach
  void start() throws IOException {
    origin = new CountingOrigin();
  }

  @AfterEach
  void stop() throws IOException {
    if (proxy != null) {
      proxy.close();
    }
    origin.close();
  }

  @Test
  void deniesEverySpellingOfADeniedAddressAndName() throws IOException {
    assertNoSpellingGetsThrough(Filters.accessControl().denyHosts("127.0.0.1", "localhost").build());
  }

  @Test
  void deniesEverySpellingOfAnAddressInADeniedBlock() throws IOException {
    assertNoSpellingGetsThrough(Filters.accessControl().denyHosts("127.0.0.0/8").build());
  }

  private void assertNoSpellingGetsThrough(AccessControl acl) throws IOException {
    proxy = ProxyServer.builder().allowAnyConnectPort().filter(acl).build().start();
    List<String> leaks = new ArrayList<>();
    for (String host : LOOPBACK_SPELLINGS) {
      String authority = host + ":" + origin.port();
      expectRefused("GET http://" + authority + "/ HTTP/1.1\r\nHost: " + authority + "\r\n\r\n", leaks);
      expectRefused("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n", leaks);
    }
    assertThat(leaks).isEmpty();
    assertThat(origin.connectionsAfterProbe()).isZero();
  }

  private void expectRefused(String request, List<String> leaks) throws IOException {
    String response;
    try (Raw raw = new Raw(proxy.port())) {
      response = raw.exchange(request);
    } catch (IOException e) {
      response = "closed: " + e.getMessage();
    }
    if (!response.startsWith("HTTP/1.1 403") && !response.startsWith("HTTP/1.1 400")) {
      leaks.add(request.substring(0, request.indexOf('\r')) + " -> " + response.lines().findFirst().orElse(""));
    }
  }
}
