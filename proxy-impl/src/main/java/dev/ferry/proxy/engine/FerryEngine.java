package dev.ferry.proxy.engine;

import dev.ferry.proxy.CertificateAuthority;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.engine.filter.BuiltInFilters;
import dev.ferry.proxy.engine.tls.Authorities;
import dev.ferry.proxy.spi.ProxyEngine;
import java.nio.file.Path;
import java.time.Duration;

/** The engine's entry point, registered in {@code META-INF/services}. */
public final class FerryEngine implements ProxyEngine {
  @Override
  public ProxyServer create(ProxyConfig config) {
    return new RealProxyServer(config);
  }

  @Override
  public Filter realise(Filter builtIn) {
    return BuiltInFilters.realise(builtIn);
  }

  @Override
  public CertificateAuthority generateAuthority(Duration validity) {
    return Authorities.generate(validity);
  }

  @Override
  public CertificateAuthority loadAuthority(Path certificatePem, Path privateKeyPem) {
    return Authorities.load(certificatePem, privateKeyPem);
  }
}
