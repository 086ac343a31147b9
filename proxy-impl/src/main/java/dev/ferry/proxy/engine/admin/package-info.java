/**
 * Internal. No compatibility guarantee.
 *
 * <p>The admin endpoints ({@code /_stats}, {@code /_dashboard}, {@code /_cache/...}) and what
 * renders them.
 *
 * <p>Null policy: no parameter accepts {@code null} and no method returns {@code null} unless
 * its comment says so.
 */
package dev.ferry.proxy.engine.admin;
