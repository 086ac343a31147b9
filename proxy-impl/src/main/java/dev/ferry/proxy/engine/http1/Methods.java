package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.Headers;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** What the request methods promise, and the fields with which frameworks take one for another. */
public final class Methods {
  /** RFC 9110 §9.2.1: the methods that ask for nothing to change at the origin. */
  private static final Set<String> SAFE = Set.of("GET", "HEAD", "OPTIONS", "TRACE");
  /** RFC 9110 §9.2.2: the methods whose repetition has the effect of one request. */
  private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");
  /** Methods whose content every server reads: it is what they are for. */
  private static final Set<String> WITH_CONTENT = Set.of("POST", "PUT", "PATCH");
  /**
   * Fields with which method-override middleware (Express, Rails, Symfony, Laravel...) takes a
   * request for another method; underscore spellings too, as CGI, PHP and WSGI backends read
   * {@code X_HTTP_Method_Override} as the dashed name (probe v26).
   */
  private static final NameSet OVERRIDES = NameSet.of("x-http-method-override", "x-http-method",
      "x-method-override");

  private Methods() {}

  /**
   * True for a safe method (RFC 9110 §9.2.1); a cache invalidates what an answer to any other
   * names (RFC 9111 §4.4).
   */
  public static boolean isSafe(String method) {
    return SAFE.contains(method);
  }

  /** True for an idempotent method, which a proxy may send again after a failure (RFC 9110 §9.2.2). */
  public static boolean isIdempotent(String method) {
    return IDEMPOTENT.contains(method);
  }

  /**
   * True for POST, PUT and PATCH, whose content a server reads before it answers. Content on any
   * other method has no meaning a server must honour (RFC 9110 §9.3.1, §9.3.5, §9.3.7), and one
   * that never reads it takes it for the start of the next request on the connection.
   */
  public static boolean readsContent(String method) {
    return WITH_CONTENT.contains(method);
  }

  /** True if {@code name} is a method-override field, in any case, dashed or underscored. */
  public static boolean isOverride(String name) {
    return OVERRIDES.contains(name) || name.indexOf('_') >= 0 && OVERRIDES.contains(name.replace('_', '-'));
  }

  /** True if {@code headers} hold a method-override field. */
  public static boolean overridden(Headers headers) {
    for (int i = 0; i < headers.size(); i++) {
      if (isOverride(headers.name(i))) {
        return true;
      }
    }
    return false;
  }

  /**
   * The methods {@code headers} ask a backend to take the request for: each override field's
   * value as written and each of its comma-separated members, trimmed (frameworks read the
   * first line, the whole joined value, or a member); blank ones name none. Empty without an
   * override field.
   */
  public static List<String> overrides(Headers headers) {
    List<String> methods = new ArrayList<>(0);
    for (int i = 0; i < headers.size(); i++) {
      if (isOverride(headers.name(i))) {
        addValue(methods, headers.value(i));
      }
    }
    return methods;
  }

  /**
   * The methods a request-target's {@code _method} query parameters name, name and value
   * percent-decoded, in any case: Symfony, Laravel and Jersey run a POST as the method
   * {@code ?_method=DELETE} names. (Rails reads it from a form body only, which a proxy
   * streaming the body cannot judge.)
   */
  public static List<String> queryOverrides(String target) {
    int query = target.indexOf('?');
    // A name may be escaped (_%6Dethod): only a query without "method" and without escapes is
    // passed over unparsed.
    if (query < 0 || !containsMethod(target, query) && target.indexOf('%', query) < 0) {
      return List.of();
    }
    List<String> methods = new ArrayList<>(1);
    for (String parameter : target.substring(query + 1).split("&", -1)) {
      int equals = parameter.indexOf('=');
      if (equals >= 0 && namesMethod(decoded(parameter.substring(0, equals)))) {
        addValue(methods, decoded(parameter.substring(equals + 1)));
      }
    }
    return methods;
  }

  /**
   * Whether a decoded parameter name is {@code _method} as some backend reads it: PHP drops a
   * name's leading spaces and reads a dot or a space in it as an underscore, so " _method" and
   * ".method" are "_method" (probe v29); " method" is too, read as the space's underscore.
   */
  private static boolean namesMethod(String name) {
    // PHP ends a name at a NUL: "_method\0x" is "_method" (probe v30).
    int nul = name.indexOf('\0');
    String named = nul < 0 ? name : name.substring(0, nul);
    return asPhpReads(named.stripLeading()) || asPhpReads(named);
  }

  private static boolean asPhpReads(String name) {
    return name.replace('.', '_').replace(' ', '_').equalsIgnoreCase("_method");
  }

  /** Whether "method" appears after {@code from} in any case: most queries have no override. */
  private static boolean containsMethod(String target, int from) {
    for (int i = from; i + 6 <= target.length(); i++) {
      if (target.regionMatches(true, i, "method", 0, 6)) {
        return true;
      }
    }
    return false;
  }

  /**
   * A query component percent-decoded as PHP's {@code urldecode} reads it: {@code +} a space,
   * each valid {@code %XX} its byte, and a {@code %} not followed by two hex digits kept as it is.
   * A strict decoder gave up on the whole name at one bad escape, so {@code _method%00%=DELETE},
   * which PHP reads as {@code _method}, passed as a name holding no NUL (probe v31).
   */
  private static String decoded(String component) {
    if (component.indexOf('%') < 0 && component.indexOf('+') < 0) {
      return component;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(component.length());
    for (int i = 0; i < component.length(); i++) {
      char c = component.charAt(i);
      int high = i + 2 < component.length() ? Character.digit(component.charAt(i + 1), 16) : -1;
      int low = high >= 0 ? Character.digit(component.charAt(i + 2), 16) : -1;
      if (c == '%' && low >= 0) {
        bytes.write(high << 4 | low);
        i += 2;
      } else if (c == '+') {
        bytes.write(' ');
      } else {
        byte[] raw = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        bytes.write(raw, 0, raw.length);
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  /** {@code value} as written and each of its comma-separated members. */
  private static void addValue(List<String> methods, String value) {
    addNamed(methods, value);
    if (value.indexOf(',') >= 0) {
      for (String member : value.split(",", -1)) {
        addNamed(methods, member);
      }
    }
  }

  private static void addNamed(List<String> methods, String value) {
    String method = value.trim();
    if (!method.isEmpty()) {
      methods.add(method);
    }
  }
}
