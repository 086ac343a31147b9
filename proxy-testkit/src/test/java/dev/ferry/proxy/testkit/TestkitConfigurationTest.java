package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;

/** What a user's own configuration of a testkit proxy gets, and what it is told when it cannot. */
class TestkitConfigurationTest {

  /** The testkit's "any port" is its default, not the user's choice: the user's ports win. */
  @Test
  void tunnelsOnlyToTheConnectPortsAConfigureNames() throws Exception {
    try (ServerSocket allowed = new ServerSocket(0); ServerSocket other = new ServerSocket(0);
        RecordingProxy proxy = RecordingProxy.forward()
            .configure(b -> b.allowConnectPorts(allowed.getLocalPort())).start()) {
      assertThat(connectStatusLine(proxy, allowed.getLocalPort())).startsWith("HTTP/1.1 200");
      assertThat(connectStatusLine(proxy, other.getLocalPort())).startsWith("HTTP/1.1 403");
    }
  }

  /** 443 named is named too, though it is the engine's default (probe v11). */
  @Test
  void tunnelsOnlyTo443WhenAConfigureNamesIt() throws Exception {
    try (ServerSocket other = new ServerSocket(0);
        RecordingProxy proxy = RecordingProxy.forward().configure(b -> b.allowConnectPorts(443)).start()) {
      assertThat(connectStatusLine(proxy, other.getLocalPort())).startsWith("HTTP/1.1 403");
    }
  }

  /** A constructor runs before a per-test proxy starts: the message says so and what to do. */
  @Test
  void tellsAConstructorTakingAPerTestProxyWhereToTakeItInstead() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(TakesProxyInConstructor.class))
        .execute().testEvents()
        .assertThatEvents().haveExactly(1, finishedWithFailure(message(m -> m.contains("constructor")
            && m.contains("@BeforeEach") && !m.contains("@BeforeAll"))));
  }

  @FerryTest
  static class TakesProxyInConstructor {
    TakesProxyInConstructor(RecordingProxy proxy) {}

    @Test
    void runs() {}
  }

  /**
   * An {@code @AfterAll} method was told its "@BeforeAll method" was too early (probe t25). With
   * a proxy per test there is no class recording left by then: the message says so.
   */
  @Test
  void tellsAnAfterAllTakingAPerTestProxyThatNoClassRecordingIsLeft() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(TakesRecordingInAfterAll.class))
        .execute().allEvents()
        .assertThatEvents().haveExactly(1, finishedWithFailure(message(m ->
            m.contains("when its @AfterAll method readsTheClassRecording runs")
                && m.contains("no class recording") && !m.contains("when its @BeforeAll"))));
  }

  @FerryTest
  static class TakesRecordingInAfterAll {
    @Test
    void runs() {}

    @AfterAll
    static void readsTheClassRecording(Recording recording) {}
  }

  /**
   * Configuring the extension after it started a proxy used to be accepted: it missed the running
   * test and reached the later ones (probe t25). It now throws, pointing to inject(...).
   */
  @Test
  void refusesToReconfigureAnExtensionThatStartedAProxy() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(ReconfiguresInATest.class))
        .execute().testEvents()
        .assertStatistics(s -> s.started(2).failed(2))
        .assertThatEvents()
        .haveExactly(1, finishedWithFailure(instanceOf(IllegalStateException.class),
            message(m -> m.startsWith("fault(...) configures the extension, which has already "
                + "started a proxy") && m.contains("inject(...)"))))
        .haveExactly(1, finishedWithFailure(instanceOf(IllegalStateException.class),
            message(m -> m.startsWith("maxExchanges(...) configures the extension"))));
  }

  static class ReconfiguresInATest {
    @RegisterExtension
    static FerryProxyExtension proxy = FerryProxyExtension.forward();

    @Test
    void addsAFaultForItself() {
      proxy.fault(e -> e.path("/rc"), Fault.status(503));
    }

    @Test
    void raisesABound() {
      proxy.maxExchanges(5);
    }
  }

  private static String connectStatusLine(RecordingProxy proxy, int port) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", proxy.port())) {
      socket.getOutputStream().write(("CONNECT 127.0.0.1:" + port + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
          + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      StringBuilder line = new StringBuilder();
      for (int b; (b = in.read()) != -1 && b != '\n'; ) {
        line.append((char) b);
      }
      return line.toString();
    }
  }
}
