package io.sluice.l7;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.HdrHistogram.ConcurrentHistogram;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

/**
 * What one listener knows about one server: health (from control's checker), passive outlier state, load, counters and
 * latency. Shared by all event loops of the proxy, so every mutable field is atomic or volatile; kept across
 * {@link L7Proxy#apply} while the (listener, server) pair exists, so health and ejections survive config changes.
 */
final class ServerState implements AutoCloseable
{
    final String key;
    /** Short stable id carried in sticky cookies: hex of a hash of the key, not the address itself. */
    final String id;
    final InetSocketAddress address;
    volatile Server server;
    volatile boolean up = true;
    volatile long ejectedUntilNanos;
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger openConnections = new AtomicInteger();
    final AtomicInteger consecutiveFailures = new AtomicInteger();
    /** Keep-alive connections to this server sitting in the idle pools of all event loops. */
    final AtomicInteger idleConnections = new AtomicInteger();
    final AtomicLong requestCount = new AtomicLong();
    /** Response head latency in microseconds. */
    final ConcurrentHistogram latencyMicros = new ConcurrentHistogram(3);
    final AtomicCounter requests;
    final AtomicCounter failures;

    ServerState(final Server server, final CountersManager counters, final String listenerName)
    {
        this.server = server;
        this.key = server.key();
        this.id = Long.toHexString(Hashing.hash64(key) & 0xffff_ffffL);
        this.address = new InetSocketAddress(server.address(), server.port());
        this.requests = counters.newCounter(L7Counter.BACKEND_REQUESTS.label() + "[" + listenerName + " " + key + "]",
            L7Counter.BACKEND_REQUESTS.typeId());
        this.failures = counters.newCounter(L7Counter.BACKEND_FAILURES.label() + "[" + listenerName + " " + key + "]",
            L7Counter.BACKEND_FAILURES.typeId());
    }

    boolean available(final long nowNanos, final int maxConnections)
    {
        return up && server.weight() > 0 && nowNanos - ejectedUntilNanos >= 0 && openConnections.get() < maxConnections;
    }

    void onSuccess()
    {
        if (consecutiveFailures.get() != 0)
        {
            consecutiveFailures.set(0);
        }
    }

    /** @return true when this failure ejected the server. */
    boolean onFailure(final long nowNanos, final Upstream upstream)
    {
        failures.increment();
        if (consecutiveFailures.incrementAndGet() >= upstream.ejectAfterFailures())
        {
            consecutiveFailures.set(0);
            ejectedUntilNanos = nowNanos + upstream.ejectionMillis() * 1_000_000L;
            return true;
        }
        return false;
    }

    @Override
    public void close()
    {
        requests.close();
        failures.close();
    }
}
