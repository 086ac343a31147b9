package dev.ferry.samples;

import dev.ferry.proxy.ProxyServer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.spi.MDCAdapter;

/**
 * The CLI's MDC: per thread, and not inherited by the threads a thread starts. slf4j's
 * {@code BasicMDCAdapter} copies a thread's map into every thread it starts, so a pool or cache
 * refresh thread first started during a connection's turn would name that connection in its
 * lines for ever; logback's own adapter does not inherit either.
 */
final class CliMdc implements MDCAdapter {
  /**
   * Ferry's own key, put and removed on every connection turn, kept apart from the map: on
   * virtual threads each turn runs on a new thread, and a map per turn was 240 B per request
   * under clients that open a connection per request.
   */
  private final ThreadLocal<String> connection = new ThreadLocal<>();
  private final ThreadLocal<Map<String, String>> values = new ThreadLocal<>();
  private final ThreadLocal<Map<String, Deque<String>>> stacks = ThreadLocal.withInitial(HashMap::new);

  @Override
  public void put(String key, String value) {
    if (ProxyServer.MDC_CONNECTION.equals(key)) {
      connection.set(value);
      return;
    }
    Map<String, String> map = values.get();
    if (map == null) {
      map = new HashMap<>();
      values.set(map);
    }
    map.put(key, value);
  }

  @Override
  public String get(String key) {
    if (ProxyServer.MDC_CONNECTION.equals(key)) {
      return connection.get();
    }
    Map<String, String> map = values.get();
    return map == null ? null : map.get(key);
  }

  @Override
  public void remove(String key) {
    if (ProxyServer.MDC_CONNECTION.equals(key)) {
      connection.set(null); // its entry stays: removed, the next put would make one again
      return;
    }
    Map<String, String> map = values.get();
    if (map != null) {
      map.remove(key);
    }
  }

  @Override
  public void clear() {
    connection.remove();
    values.remove();
  }

  @Override
  public Map<String, String> getCopyOfContextMap() {
    Map<String, String> map = values.get();
    Map<String, String> copy = map == null ? new HashMap<>() : new HashMap<>(map);
    String name = connection.get();
    if (name != null) {
      copy.put(ProxyServer.MDC_CONNECTION, name);
    }
    return copy;
  }

  @Override
  public void setContextMap(Map<String, String> contextMap) {
    Map<String, String> map = new HashMap<>(contextMap);
    String name = map.remove(ProxyServer.MDC_CONNECTION);
    if (name != null) {
      connection.set(name);
    } else {
      connection.remove();
    }
    values.set(map);
  }

  @Override
  public void pushByKey(String key, String value) {
    stacks.get().computeIfAbsent(key, k -> new ArrayDeque<>()).push(value);
  }

  @Override
  public String popByKey(String key) {
    Deque<String> stack = stacks.get().get(key);
    return stack == null ? null : stack.poll();
  }

  @Override
  public Deque<String> getCopyOfDequeByKey(String key) {
    Deque<String> stack = stacks.get().get(key);
    return stack == null ? null : new ArrayDeque<>(stack);
  }

  @Override
  public void clearDequeByKey(String key) {
    Deque<String> stack = stacks.get().get(key);
    if (stack != null) {
      stack.clear();
    }
  }
}
