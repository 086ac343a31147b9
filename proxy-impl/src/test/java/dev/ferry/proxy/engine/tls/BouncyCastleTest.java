package dev.ferry.proxy.engine.tls;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Interception without BouncyCastle fails early, naming what to add. */
class BouncyCastleTest {

  @Test
  void failsNamingTheArtifactWhenBouncyCastleIsMissing() {
    ClassLoader withoutBouncyCastle = new ClassLoader(null) {};

    assertThatThrownBy(() -> BouncyCastle.require(withoutBouncyCastle))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("org.bouncycastle:bcpkix-jdk18on");
  }

  @Test
  void passesWhenBouncyCastleIsPresent() {
    assertThatCode(BouncyCastle::require).doesNotThrowAnyException();
  }
}
