package dev.ferry.proxy.engine.upstream;

import java.util.ArrayList;
import java.util.List;

/**
 * Whether a 101's {@code Upgrade} names only protocols the request offered (RFC 9110 §7.8: a
 * server must say what it switches to, and must not switch to anything the client did not list).
 * Protocols are {@code name[/version]}, compared without regard to case; a side that gives no
 * version matches any version of the name.
 */
final class UpgradeProtocols {
  private UpgradeProtocols() {}

  static boolean offered(List<String> requested, List<String> switched) {
    List<String> offers = protocols(requested);
    List<String> chosen = protocols(switched);
    if (chosen.isEmpty()) {
      return false;
    }
    for (String protocol : chosen) {
      if (offers.stream().noneMatch(offer -> matches(offer, protocol))) {
        return false;
      }
    }
    return true;
  }

  /** True if {@code requested} offers {@code name} in any version, as any member of any line. */
  static boolean offersName(List<String> requested, String name) {
    for (String protocol : protocols(requested)) {
      int slash = protocol.indexOf('/');
      if ((slash < 0 ? protocol : protocol.substring(0, slash)).equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  private static boolean matches(String offer, String chosen) {
    if (offer.equalsIgnoreCase(chosen)) {
      return true;
    }
    int offerSlash = offer.indexOf('/');
    int chosenSlash = chosen.indexOf('/');
    if (offerSlash >= 0 && chosenSlash >= 0) {
      return false;
    }
    String offerName = offerSlash < 0 ? offer : offer.substring(0, offerSlash);
    String chosenName = chosenSlash < 0 ? chosen : chosen.substring(0, chosenSlash);
    return offerName.equalsIgnoreCase(chosenName);
  }

  private static List<String> protocols(List<String> values) {
    List<String> protocols = new ArrayList<>();
    for (String value : values) {
      for (String element : value.split(",")) {
        String protocol = element.trim();
        if (!protocol.isEmpty()) {
          protocols.add(protocol);
        }
      }
    }
    return protocols;
  }
}
