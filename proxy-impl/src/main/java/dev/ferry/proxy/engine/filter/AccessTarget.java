package dev.ferry.proxy.engine.filter;

import java.net.InetAddress;

/**
 * What one access decision is made on.
 *
 * @param client the client's address
 * @param method the request method
 * @param host the normalised destination host (in a reverse proxy, the Host asked for)
 * @param port the destination port
 * @param address the destination address, or null while it is not known
 * @param resolvesLater whether an unknown address will be known (after DNS, before connecting)
 */
record AccessTarget(InetAddress client, String method, String host, int port, InetAddress address,
    boolean resolvesLater) {}
