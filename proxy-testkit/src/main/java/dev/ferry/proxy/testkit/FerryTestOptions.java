package dev.ferry.proxy.testkit;

import dev.ferry.proxy.CertificateAuthority;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

/**
 * Turns a {@link FerryTest} annotation into a {@link RecordingProxy.Builder}. Members named by
 * the annotation are read when the proxy starts: before each test by default, after the class's
 * {@code @BeforeAll} methods; with {@link ProxyLifecycle#PER_CLASS}, before them (JUnit runs an
 * extension's class callbacks first), so only a static initializer has run by then.
 */
final class FerryTestOptions {
  private FerryTestOptions() {}

  /**
   * The builder for one proxy. {@code authority} is the extension's one interception CA, asked
   * for only when the annotation intercepts HTTPS: a builder per proxy would generate a CA per
   * test, where the {@code @RegisterExtension} form shares one (probe t24).
   */
  static RecordingProxy.Builder builder(FerryTest a, Class<?> testClass,
      Supplier<CertificateAuthority> authority) {
    RecordingProxy.Builder b = a.reverse().isEmpty() ? RecordingProxy.forward()
        : RecordingProxy.reverse(upstream(testClass, a.reverse()));
    b.maxBodyBytes(a.maxBodyBytes()).maxExchanges(a.maxExchanges())
        .maxRecordingBytes(a.maxRecordingBytes()).overflow(a.overflow())
        .recordFailures(a.recordFailures());
    if (a.interceptHttps()) {
      if (!a.reverse().isEmpty()) {
        throw new ExtensionConfigurationException("@FerryTest(interceptHttps = true) is for "
            + "forward proxies; remove reverse = \"" + a.reverse() + "\" or interceptHttps");
      }
      b.interceptHttps(authority.get());
    }
    if (!a.replay().isEmpty()) {
      b.replay(Path.of(a.replay()));
    }
    if (!a.recordIfMissing().isEmpty()) {
      b.recordIfMissing(Path.of(a.recordIfMissing()));
    }
    if (!a.configure().isEmpty()) {
      configure(testClass, a.configure(), b);
    }
    return b;
  }

  private static Supplier<URI> upstream(Class<?> testClass, String member) {
    return () -> {
      Object value = read(testClass, member);
      if (value instanceof URI) {
        return (URI) value;
      }
      if (value instanceof String) {
        return URI.create((String) value);
      }
      if (value instanceof Supplier) {
        return (URI) ((Supplier<?>) value).get();
      }
      // Compared by name: MockWebServer is optional, and instanceof would need it loaded.
      if (value != null && value.getClass().getName().equals("okhttp3.mockwebserver.MockWebServer")) {
        return MockWebServers.upstream((MockWebServer) value).get();
      }
      throw new ExtensionConfigurationException("@FerryTest(reverse = \"" + member + "\") must name"
          + " a static URI, String, Supplier<URI> or MockWebServer of " + testClass.getName()
          + " (was " + (value == null ? "null" : value.getClass().getName()) + ")"
          + (value == null ? "; it is read when the proxy starts, which with PER_CLASS is before "
              + "@BeforeAll methods run" : ""));
    };
  }

  private static Object read(Class<?> testClass, String member) {
    for (Class<?> c : searchOrder(testClass)) {
      try {
        Field field = c.getDeclaredField(member);
        if (Modifier.isStatic(field.getModifiers())) {
          field.setAccessible(true);
          return field.get(null);
        }
      } catch (NoSuchFieldException e) {
        // Try a method, then the next class.
      } catch (ReflectiveOperationException | RuntimeException e) {
        throw new ExtensionConfigurationException("could not read " + member + ": " + e, e);
      }
      try {
        Method method = c.getDeclaredMethod(member);
        if (Modifier.isStatic(method.getModifiers())) {
          method.setAccessible(true);
          return method.invoke(null);
        }
      } catch (NoSuchMethodException e) {
        // Try the next class.
      } catch (ReflectiveOperationException | RuntimeException e) {
        throw new ExtensionConfigurationException("could not call " + member + "(): " + e, e);
      }
    }
    throw new ExtensionConfigurationException("@FerryTest names " + member + ", but "
        + testClass.getName() + " has no static field or no-argument static method of that name");
  }

  /**
   * Where members are looked for: the test class and its superclasses, then, for a
   * {@code @Nested} class, each enclosing class and its superclasses, as the annotation itself is.
   */
  private static List<Class<?>> searchOrder(Class<?> testClass) {
    List<Class<?>> order = new ArrayList<>();
    for (Class<?> scope = testClass; scope != null; scope = scope.getEnclosingClass()) {
      for (Class<?> c = scope; c != null && c != Object.class; c = c.getSuperclass()) {
        order.add(c);
      }
    }
    return order;
  }

  private static void configure(Class<?> testClass, String name, RecordingProxy.Builder b) {
    for (Class<?> c : searchOrder(testClass)) {
      try {
        Method method = c.getDeclaredMethod(name, RecordingProxy.Builder.class);
        if (Modifier.isStatic(method.getModifiers())) {
          method.setAccessible(true);
          method.invoke(null, b);
          return;
        }
      } catch (NoSuchMethodException e) {
        // Try the next class.
      } catch (ReflectiveOperationException | RuntimeException e) {
        throw new ExtensionConfigurationException("@FerryTest(configure = \"" + name
            + "\") failed: " + e, e);
      }
    }
    throw new ExtensionConfigurationException("@FerryTest(configure = \"" + name + "\") needs a"
        + " static method " + name + "(RecordingProxy.Builder) in " + testClass.getName());
  }
}
