package dev.ferry.samples;

import dev.ferry.proxy.AccessControl;
import dev.ferry.proxy.Filters;
import dev.ferry.proxy.ProxyServer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The CLI's filter flags, each mapped onto one {@link Filters} factory. */
final class FilterOptions {
  static final Set<String> FLAGS = Set.of("--allow-client", "--deny-host", "--auth", "--rate-limit",
      "--max-body-mb", "--set-header");

  private final List<String> allowClients = new ArrayList<>();
  private final List<String> denyHosts = new ArrayList<>();
  private final Map<String, String> credentials = new LinkedHashMap<>();
  private final List<String[]> setHeaders = new ArrayList<>();
  private String rateLimit;
  private long maxBodyMb = -1;

  void add(String flag, String value) {
    switch (flag) {
      case "--allow-client" -> allowClients.add(value);
      case "--deny-host" -> denyHosts.add(value);
      case "--auth" -> {
        int colon = value.indexOf(':');
        if (colon <= 0) {
          throw new IllegalArgumentException("--auth must be USER:PASSWORD (was " + value + ")");
        }
        credentials.put(value.substring(0, colon), value.substring(colon + 1));
      }
      case "--rate-limit" -> rateLimit = value;
      case "--max-body-mb" -> {
        try {
          maxBodyMb = Long.parseLong(value);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("--max-body-mb must be a whole number (was " + value + ")");
        }
        if (maxBodyMb < 0 || maxBodyMb > Long.MAX_VALUE >> 20) {
          throw new IllegalArgumentException("--max-body-mb must not be negative (was " + value + ")");
        }
      }
      default -> {
        int colon = value.indexOf(':');
        if (colon <= 0) {
          throw new IllegalArgumentException("--set-header must be NAME:VALUE (was " + value + ")");
        }
        setHeaders.add(new String[] {value.substring(0, colon).trim(), value.substring(colon + 1).trim()});
      }
    }
  }

  /** Adds the filters in a sensible order: cheap denials first, header changes last. */
  void applyTo(ProxyServer.Builder builder, boolean reverse) {
    if (!allowClients.isEmpty() || !denyHosts.isEmpty() || !reverse) {
      AccessControl.Builder acl = Filters.accessControl();
      if (!denyHosts.isEmpty()) {
        acl.denyHosts(denyHosts.toArray(new String[0]));
      }
      if (!allowClients.isEmpty()) {
        acl.allowClients(allowClients.toArray(new String[0])).denyByDefault();
      }
      builder.filter(acl.build());
    }
    if (!credentials.isEmpty()) {
      builder.filter((reverse ? Filters.authentication() : Filters.proxyAuthentication())
          .credentials(credentials).build());
    }
    if (rateLimit != null) {
      builder.filter(rateLimit(rateLimit));
    }
    if (maxBodyMb >= 0) {
      builder.filter(Filters.maxRequestBodyBytes(maxBodyMb << 20));
    }
    for (String[] header : setHeaders) {
      builder.filter(Filters.setRequestHeader(header[0], header[1]));
    }
  }

  private static dev.ferry.proxy.RateLimit rateLimit(String spec) {
    String hint = "--rate-limit must be N/s or N/s:BURST, like 10/s:20 (was " + spec + ")";
    String[] parts = spec.split(":", -1);
    if (parts.length > 2 || !parts[0].endsWith("/s")) {
      throw new IllegalArgumentException(hint);
    }
    try {
      double perSecond = Double.parseDouble(parts[0].substring(0, parts[0].length() - 2));
      int burst = parts.length == 2 ? Integer.parseInt(parts[1]) : (int) Math.max(1, Math.ceil(perSecond * 2));
      return Filters.rateLimit().perSecond(perSecond).burst(burst).build();
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(hint);
    }
  }
}
