package io.sluice.fastpath.config;

import java.net.Inet4Address;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One L4 listener as the fastpath sees it (the control module translates CONTRACT.md's YAML into these).
 * Validated once here, with errors that name the field and the allowed range.
 *
 * @param name                      unique label suffix for its counters, dotted lower case (e.g. {@code web.tcp.80}).
 * @param maxConnections            active sessions allowed, 0 = unlimited.
 * @param persistenceTimeoutSeconds source-IP persistence, 0 (off) .. 3600.
 * @param idleTimeoutSeconds        idle timeout of established TCP sessions, 1..65535.
 * @param bandwidthMbps             outbound (towards clients) peak, -1 = unlimited; one node-wide token bucket
 *                                  (burst 100 ms of the rate) shared by the forwarders, then a short queue (docs/fastpath.md).
 * @param toa                       TCP option 254 with the client address (issue 6).
 * @param synProxy                  SYN cookies before a session exists (issue 6).
 * @param newConnectionsPerSecond   new flows per second for the listener, 0 = unlimited (each of N forwarders
 *                                  admits rate ÷ N).
 * @param newConnectionsPerSourcePerSecond new flows per second per client address, 0 = unlimited (per forwarder
 *                                  likewise ÷ N).
 */
public record Listener(
    String name,
    ListenerKey key,
    SchedulerKind scheduler,
    int maxConnections,
    int persistenceTimeoutSeconds,
    int idleTimeoutSeconds,
    Acl acl,
    long bandwidthMbps,
    boolean toa,
    boolean synProxy,
    List<Backend> backends,
    int newConnectionsPerSecond,
    int newConnectionsPerSourcePerSecond)
{
    public static final int DEFAULT_IDLE_TIMEOUT_SECONDS = 900;
    public static final int MAX_PERSISTENCE_TIMEOUT_SECONDS = 3600;
    public static final int MAX_BACKENDS = 4096;

    public Listener
    {
        backends = List.copyOf(backends);
        if (name == null || name.isBlank())
        {
            throw new IllegalArgumentException("listener name: must not be blank");
        }
        if (maxConnections < 0)
        {
            throw new IllegalArgumentException("maxConnections: " + maxConnections + " is not in 0..2147483647");
        }
        if (persistenceTimeoutSeconds < 0 || persistenceTimeoutSeconds > MAX_PERSISTENCE_TIMEOUT_SECONDS)
        {
            throw new IllegalArgumentException("persistenceTimeoutSeconds: " + persistenceTimeoutSeconds +
                " is not in 0.." + MAX_PERSISTENCE_TIMEOUT_SECONDS);
        }
        if (idleTimeoutSeconds < 1 || idleTimeoutSeconds > 65535)
        {
            throw new IllegalArgumentException("idleTimeoutSeconds: " + idleTimeoutSeconds + " is not in 1..65535");
        }
        if (bandwidthMbps < -1 || bandwidthMbps == 0)
        {
            throw new IllegalArgumentException("bandwidthMbps: " + bandwidthMbps + " is not -1 (unlimited) or >= 1");
        }
        if (newConnectionsPerSecond < 0)
        {
            throw new IllegalArgumentException("newConnectionsPerSecond: " + newConnectionsPerSecond +
                " is not in 0..2147483647");
        }
        if (newConnectionsPerSourcePerSecond < 0)
        {
            throw new IllegalArgumentException("newConnectionsPerSourcePerSecond: " + newConnectionsPerSourcePerSecond +
                " is not in 0..2147483647");
        }
        if (backends.size() > MAX_BACKENDS)
        {
            throw new IllegalArgumentException("servers: " + backends.size() + " is more than " + MAX_BACKENDS);
        }
        final Set<Backend.BackendKey> seen = new HashSet<>();
        final boolean v4 = key.vip() instanceof Inet4Address;
        for (int i = 0; i < backends.size(); i++)
        {
            final Backend b = backends.get(i);
            if (!seen.add(b.key()))
            {
                throw new IllegalArgumentException("servers[" + i + "]: " + b.key() + " is listed twice");
            }
            if (v4 != b.address() instanceof Inet4Address)
            {
                throw new IllegalArgumentException("servers[" + i + "].address: " + b.address().getHostAddress() +
                    " is not the VIP's address family (no NAT64/46)");
            }
        }
    }

    /** Without new-flow rate limits. */
    public Listener(final String name, final ListenerKey key, final SchedulerKind scheduler, final int maxConnections,
        final int persistenceTimeoutSeconds, final int idleTimeoutSeconds, final Acl acl, final long bandwidthMbps,
        final boolean toa, final boolean synProxy, final List<Backend> backends)
    {
        this(name, key, scheduler, maxConnections, persistenceTimeoutSeconds, idleTimeoutSeconds, acl, bandwidthMbps, toa,
            synProxy, backends, 0, 0);
    }

    /** A listener with the contract's defaults: wrr, unlimited, no persistence, 900 s idle, everyone allowed. */
    public static Listener of(final String name, final ListenerKey key, final List<Backend> backends)
    {
        return new Listener(name, key, SchedulerKind.WRR, 0, 0, DEFAULT_IDLE_TIMEOUT_SECONDS, Acl.ALLOW_ALL, -1,
            false, false, backends);
    }

    public Listener withScheduler(final SchedulerKind kind)
    {
        return new Listener(name, key, kind, maxConnections, persistenceTimeoutSeconds, idleTimeoutSeconds, acl,
            bandwidthMbps, toa, synProxy, backends, newConnectionsPerSecond,
            newConnectionsPerSourcePerSecond);
    }

    public Listener withMaxConnections(final int max)
    {
        return new Listener(name, key, scheduler, max, persistenceTimeoutSeconds, idleTimeoutSeconds, acl,
            bandwidthMbps, toa, synProxy, backends, newConnectionsPerSecond,
            newConnectionsPerSourcePerSecond);
    }

    public Listener withPersistenceTimeoutSeconds(final int seconds)
    {
        return new Listener(name, key, scheduler, maxConnections, seconds, idleTimeoutSeconds, acl,
            bandwidthMbps, toa, synProxy, backends, newConnectionsPerSecond,
            newConnectionsPerSourcePerSecond);
    }

    public Listener withIdleTimeoutSeconds(final int seconds)
    {
        return new Listener(name, key, scheduler, maxConnections, persistenceTimeoutSeconds, seconds, acl,
            bandwidthMbps, toa, synProxy, backends, newConnectionsPerSecond,
            newConnectionsPerSourcePerSecond);
    }

    public Listener withAcl(final Acl newAcl)
    {
        return new Listener(name, key, scheduler, maxConnections, persistenceTimeoutSeconds, idleTimeoutSeconds, newAcl,
            bandwidthMbps, toa, synProxy, backends, newConnectionsPerSecond,
            newConnectionsPerSourcePerSecond);
    }

    public Listener withBandwidthMbps(final long mbps)
    {
        return new Listener(name, key, scheduler, maxConnections, persistenceTimeoutSeconds, idleTimeoutSeconds, acl,
            mbps, toa, synProxy, backends, newConnectionsPerSecond,
            newConnectionsPerSourcePerSecond);
    }

    public Listener withBackends(final List<Backend> newBackends)
    {
        return new Listener(name, key, scheduler, maxConnections, persistenceTimeoutSeconds, idleTimeoutSeconds, acl,
            bandwidthMbps, toa, synProxy, newBackends, newConnectionsPerSecond,
            newConnectionsPerSourcePerSecond);
    }

    public Listener withNewConnectionLimits(final int perSecond, final int perSourcePerSecond)
    {
        return new Listener(name, key, scheduler, maxConnections, persistenceTimeoutSeconds, idleTimeoutSeconds, acl,
            bandwidthMbps, toa, synProxy, backends, perSecond, perSourcePerSecond);
    }

    public Listener withSynProxy(final boolean on)
    {
        return new Listener(name, key, scheduler, maxConnections, persistenceTimeoutSeconds, idleTimeoutSeconds, acl,
            bandwidthMbps, toa, on, backends, newConnectionsPerSecond, newConnectionsPerSourcePerSecond);
    }

    public Listener withToa(final boolean on)
    {
        return new Listener(name, key, scheduler, maxConnections, persistenceTimeoutSeconds, idleTimeoutSeconds, acl,
            bandwidthMbps, on, synProxy, backends, newConnectionsPerSecond, newConnectionsPerSourcePerSecond);
    }
}
