package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.engine.tls.EngineSocket;
import java.net.SocketTimeoutException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/** The reasons a client's failed handshake is logged with (probe testkit F5: a bare alert). */
class TlsHandshakesTest {
  @Test
  void saysAClientRefusedTheCertificateItWasShown() {
    SSLHandshakeException unknownCa = new SSLHandshakeException("Received fatal alert: unknown_ca");
    assertThat(TlsHandshakes.reason(unknownCa, true))
        .isEqualTo("the client does not trust the interception CA (alert unknown_ca)");
    assertThat(TlsHandshakes.reason(unknownCa, false))
        .isEqualTo("the client refused the proxy's certificate (alert unknown_ca)");
    assertThat(TlsHandshakes.reason(new SSLHandshakeException(EngineSocket.CLOSED_IN_HANDSHAKE), true))
        .endsWith("(as a client that does not trust the interception CA does)");
    assertThat(TlsHandshakes.reason(new SSLHandshakeException(EngineSocket.CLOSED_IN_HANDSHAKE), false))
        .isEqualTo(EngineSocket.CLOSED_IN_HANDSHAKE);
    assertThat(TlsHandshakes.reason(new SSLHandshakeException("Received fatal alert: protocol_version"), false))
        .isEqualTo("Received fatal alert: protocol_version");
    assertThat(TlsHandshakes.reason(new SocketTimeoutException("Read timed out"), true)).isEqualTo("timed out");
  }
}
