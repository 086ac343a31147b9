package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.ContentTooLargeException;
import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import java.io.IOException;
import java.util.List;
import java.util.Objects;

/**
 * Runs the filters in order, then the terminal stage, enforcing the filter contract with
 * messages that name the filter (as OkHttp's {@code RealInterceptorChain} does): no
 * {@code null} response, no 1xx one but the 101 of an upgrade the upstream accepted, at most one
 * {@code proceed()}.
 */
public final class RealChain implements Filter.Chain {

  /** The stage after the last filter: cache, router, forwarder. */
  @FunctionalInterface
  public interface Terminal {
    Response handle(Request request) throws IOException;
  }

  private final List<Filter> filters;
  private final int index;
  private final Exchange exchange;
  private final Terminal terminal;
  private final Filter caller;
  private boolean proceeded;
  /** The calling filter has returned: a late proceed (from a thread it left behind) is refused. */
  private volatile boolean callerReturned;
  /** The status {@code proceed} returned; 0 until it has. */
  private int proceededStatus;
  private IOException downstreamFailure;

  private RealChain(List<Filter> filters, int index, Exchange exchange, Terminal terminal,
      Filter caller) {
    this.filters = filters;
    this.index = index;
    this.exchange = exchange;
    this.terminal = terminal;
    this.caller = caller;
  }

  /** Starts a chain over {@code filters} for one exchange. */
  public static Response run(List<Filter> filters, Exchange exchange, Request request,
      Terminal terminal) throws IOException {
    return new RealChain(filters, 0, exchange, terminal, null).proceed(request);
  }

  @Override
  public Response proceed(Request request) throws IOException {
    if (caller != null) {
      Objects.requireNonNull(request, () -> "filter " + FilterNames.describe(caller, index - 1)
          + " passed a null request to proceed()");
      if (proceeded) {
        throw new ContractViolation("filter " + FilterNames.describe(caller, index - 1) + " called proceed() twice");
      }
      if (callerReturned) {
        throw new ContractViolation("filter " + FilterNames.describe(caller, index - 1)
            + " called proceed() after it returned");
      }
    }
    proceeded = true;
    try {
      Response response = index == filters.size() ? terminal.handle(request) : handleNext(request);
      proceededStatus = response == null ? 0 : response.status();
      return response;
    } catch (IOException e) {
      downstreamFailure = e;
      throw e;
    }
  }

  private Response handleNext(Request request) throws IOException {
    Filter filter = filters.get(index);
    String name = FilterNames.describe(filter, index);
    RealChain next = new RealChain(filters, index + 1, exchange, terminal, filter);
    Response response;
    try {
      response = filter.handle(new ExchangeView(exchange, request), next);
    } catch (FilterException e) {
      throw e;
    } catch (ContractViolation e) {
      throw new FilterException(name, e.getMessage(), e.getMessage(), e);
    } catch (RuntimeException | AssertionError | LinkageError | StackOverflowError e) {
      // What a filter's own code throws, a failed assertion in a test's filter included: a 500
      // like any other. An OutOfMemoryError or InternalError still ends the connection.
      throw new FilterException(name, "filter " + name + " threw " + e, "filter " + name + " failed", e);
    } catch (IOException e) {
      if (!next.passedOn(e)) {
        // The filter's own I/O failed, not the upstream's: a filter failure (500), not a 502.
        throw new FilterException(name, "filter " + name + " threw " + e, "filter " + name + " failed", e);
      }
      throw e;
    } finally {
      next.callerReturned = true;
    }
    if (response == null) {
      String message = "filter " + name + " returned null";
      throw new FilterException(name, message, message, null);
    }
    if (response.status() == 101 && next.proceededStatus != 101) {
      // A 101 is the upstream's acceptance of an upgrade, with its connection to tunnel to; one a
      // filter made up went out without Upgrade, and the connection went on as HTTP (probe e14).
      String message = "filter " + name
          + " returned 101 Switching Protocols without an upgrade the upstream accepted";
      throw new FilterException(name, message, message, null);
    }
    if (response.status() < 200 && response.status() != 101) {
      // An interim response is never an exchange's answer (RFC 9110 §15.2): written as one, the
      // client would wait for the final response, or take the next request's for this one's.
      String message = "filter " + name + " returned the interim status " + response.status()
          + " as its final response";
      throw new FilterException(name, message, message, null);
    }
    return response;
  }

  /**
   * True if {@code e} is (or wraps) the failure that came out of this chain's
   * {@code proceed()}, or is one the engine itself raised for the exchange (a request body over
   * its limit, a refused destination), rather than one the filter made.
   */
  private boolean passedOn(IOException e) {
    if (e instanceof HttpFailureException || e instanceof ContentTooLargeException) {
      return true;
    }
    for (Throwable t = e; t != null && downstreamFailure != null; t = t.getCause()) {
      if (t == downstreamFailure) {
        return true;
      }
    }
    return false;
  }

  /** A broken filter contract, told apart from a filter's own exceptions. */
  private static final class ContractViolation extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    ContractViolation(String message) {
      super(message);
    }
  }
}
