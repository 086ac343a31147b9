package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Headers;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The fields that govern caching, with a targeted field such as {@code CDN-Cache-Control}
 * (RFC 9213) in place of {@code Cache-Control} and {@code Expires} when it applies: in reverse
 * mode only (a forward proxy is not the CDN it targets), and only when it parses strictly as an
 * RFC 8941 Dictionary whose known directives have the types RFC 9213 §2.1 gives them. Anything
 * else and the field is ignored as a whole (§2.1: "as if the field were not present").
 */
final class TargetedCacheControl {
  private static final Set<String> INTEGER_DIRECTIVES =
      Set.of("max-age", "s-maxage", "stale-while-revalidate", "stale-if-error");
  private static final Set<String> BOOLEAN_DIRECTIVES = Set.of("no-store", "must-revalidate",
      "proxy-revalidate", "public", "immutable", "must-understand", "no-transform");
  private static final Set<String> QUALIFIED_DIRECTIVES = Set.of("no-cache", "private");

  private final boolean reverse;
  private final String field;

  TargetedCacheControl(boolean reverse, String field) {
    this.reverse = reverse;
    this.field = field;
  }

  /** The stored or received headers as Ferry's own caching decisions should read them. */
  Headers policy(Headers headers) {
    if (!reverse || !headers.contains(field)) {
      return headers;
    }
    Optional<String> directives = translate(headers.all(field));
    if (directives.isEmpty()) {
      return headers;
    }
    Headers without = headers.without("Cache-Control").without("Expires");
    return directives.get().isEmpty() ? without : without.plus("Cache-Control", directives.get());
  }

  /** The dictionary as Cache-Control text, or empty when the field must be ignored. */
  static Optional<String> translate(List<String> lines) {
    Optional<Map<String, StructuredFields.Item>> parsed = StructuredFields.parseDictionary(lines);
    if (parsed.isEmpty() || parsed.get().isEmpty()) {
      // RFC 9213 §2.1: an empty targeted field is ignored too.
      return Optional.empty();
    }
    List<String> directives = new ArrayList<>();
    for (Map.Entry<String, StructuredFields.Item> member : parsed.get().entrySet()) {
      String name = member.getKey();
      Object value = member.getValue().value();
      if (INTEGER_DIRECTIVES.contains(name)) {
        if (!(value instanceof Long) || (Long) value < 0) {
          return Optional.empty();
        }
        directives.add(name + "=" + value);
      } else if (BOOLEAN_DIRECTIVES.contains(name)) {
        if (!(value instanceof Boolean)) {
          return Optional.empty();
        }
        if ((Boolean) value) {
          directives.add(name);
        }
      } else if (QUALIFIED_DIRECTIVES.contains(name)) {
        if (Boolean.TRUE.equals(value)) {
          directives.add(name);
        } else if (value instanceof String) {
          directives.add(name + "=\"" + value + "\"");
        } else if (!Boolean.FALSE.equals(value)) {
          return Optional.empty();
        }
      }
      // Other members are extensions this cache does not know: ignored (RFC 9111 §5.2.3).
    }
    return Optional.of(String.join(", ", directives));
  }
}
