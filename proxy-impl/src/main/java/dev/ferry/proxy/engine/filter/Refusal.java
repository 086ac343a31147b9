package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;

/**
 * What a {@link HeadCheck} answers instead of passing a request on, as its {@code handle} would
 * on the threads: either the filter's own answer (a 401 with its challenge, a 429 with {@code
 * Retry-After}) for the failure it stands for, which the engine dresses as its error page and
 * the response rewrites before the filter see, or a denial (403), which the engine renders as
 * its error page and which no filter sees, as the exception it is on the threads passes them by.
 *
 * @param answer the filter's answer; null for a denial
 * @param failure what the answer is counted and logged as
 * @param denial the denial; null for an answer
 */
public record Refusal(Response answer, ProxyFailure failure, HttpFailureException denial) {

  /** The filter's own {@code answer}, counted and logged as {@code failure}. */
  static Refusal answer(Response answer, ProxyFailure failure) {
    return new Refusal(answer, failure, null);
  }

  /** A rule's {@code denial}. */
  static Refusal denial(HttpFailureException denial) {
    return new Refusal(null, denial.failure(), denial);
  }

  /** This answer's refusal with {@code rewritten} as its answer. */
  Refusal answering(Response rewritten) {
    return new Refusal(rewritten, failure, null);
  }
}
