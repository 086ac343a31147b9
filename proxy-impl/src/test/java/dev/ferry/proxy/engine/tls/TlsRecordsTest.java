package dev.ferry.proxy.engine.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;

/** Telling a TLS ClientHello from other bytes inside a CONNECT tunnel. */
class TlsRecordsTest {

  @Test
  void recognisesARealClientHello() throws Exception {
    SSLEngine engine = SSLContext.getDefault().createSSLEngine("example.test", 443);
    engine.setUseClientMode(true);
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    byte[] hello = new byte[out.position()];
    out.flip().get(hello);

    assertThat(TlsRecords.looksLikeClientHello(hello, hello.length)).isTrue();
    assertThat(TlsRecords.looksLikeClientHello(hello, 3)).isTrue();
  }

  @Test
  void relaysPlainHttpAndOtherProtocols() {
    for (String text : new String[] {"GET / HTTP/1.1\r\n", "SSH-2.0-OpenSSH_9.6\r\n", "\u0016\u0002\u0001"}) {
      byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
      assertThat(TlsRecords.looksLikeClientHello(bytes, bytes.length)).as(text).isFalse();
    }
  }

  @Test
  void needsThreeBytes() {
    byte[] bytes = {0x16, 0x03, 0x01};
    assertThat(TlsRecords.looksLikeClientHello(bytes, 2)).isFalse();
    assertThat(TlsRecords.looksLikeClientHello(bytes, 3)).isTrue();
  }

  @Test
  void refusesHandshakeRecordThatIsNotAClientHello() {
    byte[] serverHello = {0x16, 0x03, 0x03, 0x00, 0x40, 0x02};
    byte[] emptyRecord = {0x16, 0x03, 0x01, 0x00, 0x00, 0x01};
    assertThat(TlsRecords.looksLikeClientHello(serverHello, serverHello.length)).isFalse();
    assertThat(TlsRecords.looksLikeClientHello(emptyRecord, emptyRecord.length)).isFalse();
  }
}
