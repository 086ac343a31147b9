package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.Headers;

/** A parsed status line and header section. */
public record ResponseHead(int minorVersion, int status, String reason, Headers headers) {}
