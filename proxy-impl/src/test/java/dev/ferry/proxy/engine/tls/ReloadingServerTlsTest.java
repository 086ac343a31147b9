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

  /** A renewal copied over the old files with their times kept, and of the same length. */
  @Test
  void reloadsFilesThatChangedWithTheirTimeAndLengthKept() throws Exception {
    String[] chains = sameLength(Files.readString(TestPki.writePem(dir, "old.crt", before.chain())),
        Files.readString(TestPki.writePem(dir, "new.crt", after.chain())));
    String[] keys = sameLength(Files.readString(TestPki.writeKey(dir, "old.key", before.keys().getPrivate())),
        Files.readString(TestPki.writeKey(dir, "new.key", after.keys().getPrivate())));
    Path chain = Files.writeString(dir.resolve("site.crt"), chains[0]);
    Path key = Files.writeString(dir.resolve("site.key"), keys[0]);
    FileTime time = Files.getLastModifiedTime(chain);
    Files.setLastModifiedTime(key, time);
    ReloadingServerTls holder = ReloadingServerTls.create(ServerTls.pem(chain, key), Duration.ZERO);
    assertThat(shown(holder)).isEqualTo(before.certificate());

    Files.writeString(chain, chains[1]);
    Files.writeString(key, keys[1]);
    Files.setLastModifiedTime(chain, time);
    Files.setLastModifiedTime(key, time);

    assertThat(shown(holder)).isEqualTo(after.certificate());
  }

  /** The two texts padded with line breaks (text outside PEM blocks is allowed) to one length. */
  private static String[] sameLength(String one, String two) {
    int length = Math.max(one.length(), two.length());
    return new String[] {one + "\n".repeat(length - one.length()), two + "\n".repeat(length - two.length())};
  }

  /** A chain caught half-written, its last block cut short, is refused, not served as the leaf alone. */
  @Test
  void keepsPreviousCertificateWhenTheChainIsCutShort() throws Exception {
    ServerTls tls = write(before, 0); // the leaf, then its CA
    ReloadingServerTls holder = ReloadingServerTls.create(tls, Duration.ZERO);
    Path chain = tls.certificateChainFiles().get(0);
    String whole = Files.readString(chain);
    int cut = whole.lastIndexOf("-----END CERTIFICATE-----") - 40;

    Files.writeString(chain, whole.substring(0, cut));

    assertThat(shown(holder)).isEqualTo(before.certificate());
    assertThat(holder.current().keys().get(0).chain()).hasSize(2);
    assertThatThrownBy(holder::reload).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("BEGIN line without its END");
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
