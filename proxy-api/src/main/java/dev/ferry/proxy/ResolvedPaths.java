package dev.ferry.proxy;

import java.util.ArrayList;
import java.util.List;

/**
 * The path an origin could resolve from a request's path, read the most liberal way any common
 * server reads one, for {@link Request#resolvedPath()}: escapes of unreserved characters decoded
 * and the others' hex digits upper-cased, {@code \}, {@code %2F} and {@code %5C} taken as
 * separators (IIS, and servers that decode before splitting), segment parameters dropped
 * ({@code /admin;x}, {@code ..;}, as servlet containers do), empty segments merged, and
 * dot-segments removed, never above the root. A malformed escape stays as it is.
 */
final class ResolvedPaths {
  private ResolvedPaths() {}

  static String of(String path) {
    if (!path.startsWith("/") || !needsWork(path)) {
      return path;
    }
    String decoded = decode(path);
    List<String> kept = new ArrayList<>();
    String[] segments = decoded.split("/", -1);
    boolean directory = false;
    for (int i = 1; i < segments.length; i++) {
      String segment = segments[i];
      int parameters = segment.indexOf(';');
      if (parameters >= 0) {
        segment = segment.substring(0, parameters);
      }
      boolean last = i == segments.length - 1;
      if (segment.equals("..")) {
        if (!kept.isEmpty()) {
          kept.remove(kept.size() - 1);
        }
        directory = last;
      } else if (segment.isEmpty() || segment.equals(".")) {
        directory = last;
      } else {
        kept.add(segment);
        directory = false;
      }
    }
    String resolved = "/" + String.join("/", kept);
    return directory && !kept.isEmpty() ? resolved + "/" : resolved;
  }

  /** Whether anything in {@code path} could resolve differently: the same instance comes back if not. */
  private static boolean needsWork(String path) {
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '%' || c == '\\' || c == ';' || (c == '/' || c == '.') && i > 0 && path.charAt(i - 1) == '/') {
        return true;
      }
    }
    return false;
  }

  private static String decode(String path) {
    StringBuilder out = new StringBuilder(path.length());
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      int high = c == '%' && i + 2 < path.length() ? hex(path.charAt(i + 1)) : -1;
      int low = high < 0 ? -1 : hex(path.charAt(i + 2));
      if (c == '\\') {
        out.append('/');
      } else if (low < 0) {
        out.append(c);
      } else {
        char escaped = (char) (high * 16 + low);
        if (escaped == '/' || escaped == '\\') {
          out.append('/');
        } else if (isUnreserved(escaped)) {
          out.append(escaped);
        } else {
          out.append('%').append(Character.toUpperCase(path.charAt(i + 1)))
              .append(Character.toUpperCase(path.charAt(i + 2)));
        }
        i += 2;
      }
    }
    return out.toString();
  }

  private static int hex(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
  }

  private static boolean isUnreserved(char c) {
    return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
        || c == '-' || c == '.' || c == '_' || c == '~';
  }
}
