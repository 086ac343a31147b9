package dev.ferry.proxy.engine.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.ServerTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The listener's certificates reload without a restart, and a bad file never replaces good ones. */
class ReloadingServerTlsTest {
  @TempDir Path dir;

  private final TestPki.Issued ca = TestPki.ca("Reload Test CA");
  private final TestPki.Issued before = TestPki.server(ca, TestPki.ec(), "site.example.test");
  private final TestPki.Issued after = TestPki.server(ca, TestPki.ec(), "site.example.test");

  @Test
  void reloadsCertificateFilesWhenTheyChange() throws Exception {
    ServerTls tls = write(before, 0);
    ReloadingServerTls holder = ReloadingServerTls.create(tls, Duration.ZERO);
    assertThat(shown(holder)).isEqualTo(before.certificate());

    write(after, 10);

    assertThat(shown(holder)).isEqualTo(after.certificate());
  }

  @Test
  void reloadsOnRequestEvenWithoutChange() throws Exception {
    ReloadingServerTls holder = ReloadingServerTls.create(write(before, 0), Duration.ofDays(1));
    write(after, 0);
    assertThat(shown(holder)).as("not checked again within the interval").isEqualTo(before.certificate());

    holder.reload();

    assertThat(shown(holder)).isEqualTo(after.certificate());
  }

  @Test
  void keepsPreviousCertificateWhenChangedFileIsBroken() throws Exception {
    ServerTls tls = write(before, 0);
    ReloadingServerTls holder = ReloadingServerTls.create(tls, Duration.ZERO);
    Path key = tls.privateKeyFiles().get(0);
    Files.writeString(key, "half written");
    Files.setLastModifiedTime(key, FileTime.from(Instant.now().plusSeconds(20)));

    assertThat(shown(holder)).isEqualTo(before.certificate());
    assertThatThrownBy(holder::reload)
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(key.toString());
    assertThat(shown(holder)).isEqualTo(before.certificate());
    assertThat(holder.files()).containsExactly(tls.certificateChainFiles().get(0), key);
  }

  private static java.security.cert.X509Certificate shown(ReloadingServerTls holder) {
    return holder.current().keys().get(0).leaf();
  }

  /** Writes the chain and key, dated {@code secondsAhead} from now so a change is seen whatever the clock's grain. */
  private ServerTls write(TestPki.Issued issued, int secondsAhead) throws Exception {
    Path chain = TestPki.writePem(dir, "site.crt", issued.chain());
    Path key = TestPki.writeKey(dir, "site.key", issued.keys().getPrivate());
    FileTime time = FileTime.from(Instant.now().plusSeconds(secondsAhead));
    Files.setLastModifiedTime(chain, time);
    Files.setLastModifiedTime(key, time);
    return ServerTls.pem(chain, key);
  }
}
