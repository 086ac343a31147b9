package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;

/**
 * What a {@link HeadCheck} answers instead of passing a request on, as its {@code handle} would
 * on the threads: either the filter's own answer (a 401 with its challenge, a 429 with {@code
 * Retry-After}) for the failure it stands for, which the engine dresses as its error page and
 * the response rewrites before the filter see, or an error (a denial, 403; a host access rules
 * cannot read, 400), which the engine renders as its error page and which no filter sees, as
 * the exception it is on the threads passes them by.
 *
 * @param answer the filter's answer; null for an error
 * @param failure what the answer is counted and logged as, and whether the connection closes
 * @param error the error; null for an answer
 */
public record Refusal(Response answer, ProxyFailure failure, HttpFailureException error) {

  /** The filter's own {@code answer}, counted and logged as {@code failure}. */
  static Refusal answer(Response answer, ProxyFailure failure) {
    return new Refusal(answer, failure, null);
  }

  /**
   * An {@code error} thrown on the threads: a rule's denial, a malformed request, no route for the
   * request.
   */
  public static Refusal error(HttpFailureException error) {
    return new Refusal(null, error.failure(), error);
  }

  /** This answer's refusal with {@code rewritten} as its answer. */
  Refusal answering(Response rewritten) {
    return new Refusal(rewritten, failure, null);
  }
}
