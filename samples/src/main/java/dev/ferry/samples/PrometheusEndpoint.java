package dev.ferry.samples;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.micrometer.FerryMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.management.ManagementFactory;

/**
 * The command-line proxy's {@code GET /metrics} on the admin listener: Prometheus text produced
 * by Micrometer's Prometheus registry, into which {@link FerryMetrics} records the exchanges (and
 * a few JVM binders the process's health). An admin filter: other paths pass on to the built-in
 * endpoints.
 *
 * <p>One instance lives as long as the process: a config reload adds the same listener and
 * filter to the new builder, so the running proxy sees no change to its listeners.
 */
final class PrometheusEndpoint implements Filter {
  static final String PATH = "/metrics";
  private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final FerryMetrics metrics = FerryMetrics.of(registry);

  PrometheusEndpoint() {
    // Micrometer counts the process's CPU time in nanoseconds (process_cpu_time_ns_total);
    // Prometheus wants base units, and its clients' standard name, which dashboards expect, is
    // process_cpu_seconds_total.
    registry.config().meterFilter(MeterFilter.denyNameStartsWith("process.cpu.time"));
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    bindCpuSeconds();
    bindAllocatedBytes();
  }

  /** {@code process_cpu_seconds_total}: CPU time the JVM process has used. */
  private void bindCpuSeconds() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
        && os.getProcessCpuTime() >= 0) {
      FunctionCounter.builder("process.cpu", os, bean -> bean.getProcessCpuTime() / 1e9)
          .baseUnit("seconds").description("CPU time used by the process")
          .register(registry);
    }
  }

  /**
   * {@code jvm_threads_allocated_bytes_total}: heap bytes allocated by every thread since start,
   * ended threads included (a virtual thread's on its carrier). Against
   * {@code ferry_requests_total} it gives the allocation per request, which drives GC work.
   */
  private void bindAllocatedBytes() {
    if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean threads
        && threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled()) {
      MethodHandle total = totalAllocatedBytes();
      if (total == null) {
        return;
      }
      FunctionCounter.builder("jvm.threads.allocated", threads, bean -> {
            try {
              return (long) total.invoke(bean);
            } catch (Throwable e) {
              return Double.NaN;
            }
          })
          .baseUnit("bytes").description("Heap bytes allocated by all threads since the JVM started")
          .register(registry);
    }
  }

  /**
   * {@code getTotalThreadAllocatedBytes()}, looked up when the proxy runs: Java 17 has it only
   * from 17.0.9 (a backport of Java 21's), so a compiler for Java 21 or later, building for 17,
   * does not know it, and an older 17 runtime lacks it (then the counter is left out).
   */
  private static MethodHandle totalAllocatedBytes() {
    try {
      return MethodHandles.publicLookup().findVirtual(com.sun.management.ThreadMXBean.class,
          "getTotalThreadAllocatedBytes", MethodType.methodType(long.class));
    } catch (ReflectiveOperationException e) {
      return null;
    }
  }

  /** Adds the listener and the {@code /metrics} admin filter to {@code builder}; returns it. */
  ProxyServer.Builder install(ProxyServer.Builder builder) {
    return builder.listener(metrics).adminFilter(this);
  }

  /** Registers the gauges that read the running proxy's stats. */
  void bindTo(ProxyServer proxy) {
    metrics.bindTo(proxy);
  }

  /** The Prometheus text of everything recorded so far. */
  String scrape() {
    return registry.scrape();
  }

  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    Request request = exchange.request();
    if (!request.path().equals(PATH)) {
      return chain.proceed(request);
    }
    if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
      return Response.text(405, "Method not allowed: " + PATH + " answers GET\n").withHeader("Allow", "GET, HEAD");
    }
    return Response.builder().status(200).header("Content-Type", CONTENT_TYPE)
        .header("Cache-Control", "no-store").body(Body.of(scrape())).build();
  }

  @Override
  public String toString() {
    return "PrometheusEndpoint(" + PATH + ")";
  }
}
