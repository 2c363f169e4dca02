package io.sluice.l7;

/**
 * Backend connection pooling and passive health, shared by all listeners of a proxy.
 *
 * @param maxIdlePerServerPerLoop keep-alive connections kept per (event loop, server); more are closed, 0..1024.
 * @param maxConnectionsPerServer open connections to one server across all loops; beyond, that server is skipped, 1..65535.
 * @param maxRetries              further servers tried when a request never reached one (connect failure), 0..5.
 * @param ejectAfterFailures      consecutive failures (connect error, reset before a response) that eject a server, 1..100.
 * @param ejectionMillis          how long an ejected server is skipped before it gets traffic again, 100..600000.
 */
public record Upstream(int maxIdlePerServerPerLoop, int maxConnectionsPerServer, int maxRetries, int ejectAfterFailures,
    long ejectionMillis)
{
    public static final Upstream DEFAULT = new Upstream(64, 10_000, 2, 5, 10_000);

    public Upstream
    {
        ConfigException.range("upstream.maxIdlePerServerPerLoop", maxIdlePerServerPerLoop, 0, 1024);
        ConfigException.range("upstream.maxConnectionsPerServer", maxConnectionsPerServer, 1, 65_535);
        ConfigException.range("upstream.maxRetries", maxRetries, 0, 5);
        ConfigException.range("upstream.ejectAfterFailures", ejectAfterFailures, 1, 100);
        ConfigException.range("upstream.ejectionMillis", ejectionMillis, 100, 600_000);
    }
}
