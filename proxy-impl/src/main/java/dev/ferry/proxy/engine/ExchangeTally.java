package dev.ferry.proxy.engine;

/**
 * One exchange's part in the proxy's counters: counted as under way from the start, its failure
 * and status each counted once, its latency at the end. The status is counted before the
 * response goes out, so that stats read by a client that has just received it already include
 * it; a response that may still be replaced by an error counts as its head leaves instead (see
 * {@link ResponseSender#whenHeadLeaves}): counted up front and taken back, the status counters
 * went down (probe metrics F1). A request to the proxy's own endpoints is no proxied traffic
 * and counts nowhere: counted, the dashboard's own polls showed an idle proxy serving a request
 * a second (probe metrics F2).
 */
final class ExchangeTally {
  private final Metrics metrics;
  private final boolean traffic;
  private boolean counted;
  private boolean statusCounted;
  private String countedFailure;

  /** Counts the exchange as begun, if it is {@code traffic}. */
  ExchangeTally(Metrics metrics, boolean traffic) {
    this.metrics = metrics;
    this.traffic = traffic;
    if (traffic) {
      metrics.exchanges.increment();
      metrics.activeExchanges.incrementAndGet();
    }
  }

  /** Counts the failure so far, if any, and the status of the answer about to go out. */
  void beforeSending(int status, String failure) {
    failure(failure);
    statusOnce(status);
  }

  /** Counts the failure so far, if any; the exchange's counting is then done but for its status. */
  void failure(String failure) {
    counted = true;
    countedFailure = failure;
    if (failure != null && traffic) {
      metrics.failure(failure);
    }
  }

  /** Counts {@code status} the first time a status is counted (the output's hook, or a failure path). */
  void statusOnce(int status) {
    if (!statusCounted && status > 0 && traffic) {
      statusCounted = true;
      metrics.status(status);
    }
  }

  /**
   * The exchange ended with {@code status} and {@code failure} after {@code nanos}: what was not
   * counted before sending (nothing was sent, or a failure came after) is counted now.
   */
  void finish(int status, String failure, long nanos) {
    if (!traffic) {
      return;
    }
    metrics.activeExchanges.decrementAndGet();
    if (!counted) {
      beforeSending(status, failure);
    } else if (failure != null && !failure.equals(countedFailure)) {
      metrics.failure(failure);
    }
    metrics.latency.record(nanos);
  }
}
