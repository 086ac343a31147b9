package dev.ferry.proxy.engine.http1;

/**
 * Normalises the path of an origin-form request-target before a gateway matches routes on it
 * and forwards it, so that a path cannot name one route to the proxy and another to the backend
 * that resolves it (as nginx normalises before {@code location} matching, and Envoy with
 * {@code normalize_path} and {@code merge_slashes}). The query is left as it came.
 *
 * <ul>
 *   <li>Percent-encoded unreserved characters are decoded ({@code %2e} is {@code .},
 *       {@code %73} is {@code s}) and the other escapes' hex digits upper-cased (RFC 3986
 *       §6.2.2.1, §6.2.2.2).
 *   <li>Runs of slashes become one, and dot-segments are removed (§5.2.4).
 *   <li>A path that climbs above the root ({@code /..}), or a segment that hides a dot-segment
 *       behind an encoded slash or backslash ({@code ..%2f}), is refused: 400.
 * </ul>
 *
 * <p>A path with none of {@code %}, {@code \}, {@code //} or {@code /.} is returned as it is,
 * without copying.
 */
public final class TargetPaths {
  private TargetPaths() {}

  /**
   * The normalised form of {@code target} ({@code /path?query}).
   *
   * @throws HttpFailureException MALFORMED_REQUEST for a path that climbs above the root or hides
   *     a dot-segment behind an encoded separator
   */
  public static String normalise(String target) throws HttpFailureException {
    int query = target.indexOf('?');
    int end = query < 0 ? target.length() : query;
    if (!needsWork(target, end)) {
      return target;
    }
    String path = mergeSlashes(decodeUnreserved(target, end));
    StringBuilder out = new StringBuilder(path.length());
    int i = 0;
    while (i < path.length()) {
      int next = path.indexOf('/', i + 1);
      String segment = path.substring(i + 1, next < 0 ? path.length() : next);
      boolean last = next < 0;
      if (segment.equals(".")) {
        if (last) {
          out.append('/');
        }
      } else if (segment.equals("..")) {
        int cut = out.lastIndexOf("/");
        if (cut < 0) {
          throw new HttpFailureException(ProxyFailure.MALFORMED_REQUEST, "path climbs above the root");
        }
        out.setLength(cut);
        if (last) {
          out.append('/');
        }
      } else {
        refuseHiddenDotSegment(segment);
        out.append('/').append(segment);
      }
      i = last ? path.length() : next;
    }
    if (out.length() == 0) {
      out.append('/');
    }
    return query < 0 ? out.toString() : out.append(target, query, target.length()).toString();
  }

  private static boolean needsWork(String target, int end) {
    for (int i = 0; i < end; i++) {
      char c = target.charAt(i);
      if (c == '%' || c == '\\' || ((c == '/' || c == '.') && i > 0 && target.charAt(i - 1) == '/')) {
        return true;
      }
    }
    return false;
  }

  private static String decodeUnreserved(String target, int end) throws HttpFailureException {
    StringBuilder out = new StringBuilder(end);
    for (int i = 0; i < end; i++) {
      char c = target.charAt(i);
      if (c != '%') {
        out.append(c);
        continue;
      }
      int high = i + 2 < end ? HeadScan.hexValue(target.charAt(i + 1)) : -1;
      int low = high < 0 ? -1 : HeadScan.hexValue(target.charAt(i + 2));
      if (low < 0) {
        throw new HttpFailureException(ProxyFailure.MALFORMED_REQUEST, "invalid percent-encoding in path");
      }
      char decoded = (char) (high * 16 + low);
      if (isUnreserved(decoded)) {
        out.append(decoded);
      } else {
        out.append('%').append(Character.toUpperCase(target.charAt(i + 1)))
            .append(Character.toUpperCase(target.charAt(i + 2)));
      }
      i += 2;
    }
    return out.toString();
  }

  private static String mergeSlashes(String path) {
    if (!path.contains("//")) {
      return path;
    }
    StringBuilder out = new StringBuilder(path.length());
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c != '/' || out.length() == 0 || out.charAt(out.length() - 1) != '/') {
        out.append(c);
      }
    }
    return out.toString();
  }

  /**
   * Refuses a segment such as {@code ..%2Fadmin}: a backend that decodes the slash (or takes a
   * backslash for one) would find a dot-segment the proxy did not see.
   */
  private static void refuseHiddenDotSegment(String segment) throws HttpFailureException {
    if (segment.indexOf('%') < 0 && segment.indexOf('\\') < 0) {
      return;
    }
    String separated = segment.replace("%2F", "/").replace("%5C", "/").replace('\\', '/');
    for (String part : separated.split("/", -1)) {
      if (part.equals(".") || part.equals("..")) {
        throw new HttpFailureException(ProxyFailure.MALFORMED_REQUEST,
            "dot-segment behind an encoded slash in path");
      }
    }
  }

  private static boolean isUnreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }
}
