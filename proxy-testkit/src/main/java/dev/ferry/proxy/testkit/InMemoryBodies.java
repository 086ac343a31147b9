package dev.ferry.proxy.testkit;

import dev.ferry.proxy.Body;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Optional;

/**
 * Reads a body an observer may read without disturbing the exchange: one held in memory, whose
 * {@code stream()} can be opened again. The proxy's own answers (a 502 for a failed connect, a
 * 504) are made outside the filter chain, so the recorder sees them only as a listener, and only
 * such bodies can be copied there.
 *
 * <p>Which bodies qualify is asked through {@code Body#isRepeatable()} once proxy-api offers it
 * (looked up once, reflectively, so this compiles against an API without it); until then, the
 * bodies made by {@code Body.of(byte[])}, {@code Body.of(String)} and {@code Response.text}.
 */
final class InMemoryBodies {
  private static final MethodHandle IS_REPEATABLE = lookup();

  private InMemoryBodies() {}

  /** The body's bytes if it can be read again and is at most {@code max} bytes long. */
  static Optional<byte[]> read(Body body, int max) {
    long length = body.contentLength();
    if (length < 0 || length > max || !repeatable(body)) {
      return Optional.empty();
    }
    try (InputStream in = body.stream()) {
      return Optional.of(in.readNBytes((int) length));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static boolean repeatable(Body body) {
    if (IS_REPEATABLE != null) {
      try {
        return (boolean) IS_REPEATABLE.invoke(body);
      } catch (Throwable e) {
        return false;
      }
    }
    return body.getClass().getName().equals("dev.ferry.proxy.BytesBody");
  }

  private static MethodHandle lookup() {
    try {
      return MethodHandles.publicLookup().findVirtual(Body.class, "isRepeatable",
          MethodType.methodType(boolean.class));
    } catch (NoSuchMethodException | IllegalAccessException e) {
      return null;
    }
  }
}
