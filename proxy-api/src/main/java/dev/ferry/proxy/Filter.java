package dev.ferry.proxy;

import java.io.IOException;

/**
 * An interceptor on the path of every exchange: it sees the request on the way in and the
 * response on the way out.
 *
 * <p>Filters run in the order they were registered on the way in and in reverse on the way out.
 * A filter may:
 * <ul>
 *   <li>pass the request on, unchanged or replaced: {@code chain.proceed(request)};</li>
 *   <li>answer by itself without calling {@code proceed}, by returning its own {@link Response};
 *   </li>
 *   <li>read, replace or wrap the response that {@code proceed} returned, including its body,
 *       which streams.</li>
 * </ul>
 *
 * <pre>{@code
 * Filter tagger = (exchange, chain) -> {
 *   Response response = chain.proceed(exchange.request().withHeader("X-Env", "test"));
 *   return response.withHeader("X-Served-By", "ferry");
 * };
 * ProxyServer proxy = ProxyServer.builder().filter(tagger).build().start();
 * }</pre>
 *
 * <p>A body streams; transform it by wrapping its stream, never by reading it whole:
 *
 * <pre>{@code
 * Filter upperCase = (exchange, chain) -> {
 *   Response response = chain.proceed(exchange.request());
 *   InputStream upper = new UpperCaseStream(response.body().stream());
 *   return response.withBody(Body.of(upper, response.body().contentLength()));
 * };
 * }</pre>
 *
 * <p>{@link Filters} has ready-made filters: header and path rewriting, access control,
 * authentication, rate and in-flight limits; {@link Filters#when} scopes any filter to a route.
 *
 * <p>Contract, enforced by the engine with messages that name the filter (a 500): a filter must
 * not return {@code null} nor a 1xx response other than the 101 of an upgrade it passed on
 * (an interim status is never a final answer), nor pass on a request it turned into a
 * {@code CONNECT} (only a client's own opens a tunnel), and may call {@link Chain#proceed} at most once,
 * before it returns (a {@code proceed} from another thread once the filter has answered is
 * refused: its exchange may be over and its client gone). A runtime exception thrown
 * by a filter is answered with 500 and logged with the filter's {@code toString()} (a class
 * without one by its simple name, a lambda as {@code #N (a lambda in Class)}, its place in the
 * chain); the connection and the proxy carry on. An {@link IOException} from {@code proceed} means the upstream failed;
 * a filter may catch it and answer instead, or let it propagate (the engine then answers 502 or
 * 504).
 *
 * <p>Filters are called concurrently from many connections and must be thread-safe.
 */
@FunctionalInterface
public interface Filter {

  /**
   * Handles one exchange.
   *
   * @param exchange the exchange; {@link Exchange#request()} is the request as this filter
   *     received it
   * @param chain the rest of the pipeline
   * @return the response to send back towards the client, never {@code null}
   * @throws IOException if the upstream failed and the filter does not handle it
   */
  Response handle(Exchange exchange, Chain chain) throws IOException;

  /**
   * The rest of the pipeline after a filter: the later filters, then the cache, the router and
   * the upstream.
   */
  @FunctionalInterface
  interface Chain {

    /**
     * Passes the request on and returns the response that comes back.
     *
     * @throws IOException if the upstream could not be reached, timed out or answered badly
     * @throws IllegalStateException if called a second time by the same filter, or after the
     *     filter returned
     */
    Response proceed(Request request) throws IOException;
  }
}
