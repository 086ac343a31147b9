/**
 * Internal. No compatibility guarantee.
 *
 * <p>Null policy: no parameter accepts {@code null} and no method returns {@code null} unless
 * its comment says so.
 */
package dev.ferry.proxy.engine.health;
