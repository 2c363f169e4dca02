package io.sluice.fastpath.lb;

import io.sluice.fastpath.CounterSet;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.packet.IpAddresses;

/** One forwarder's copy of a listener: compiled ACL, backends, its own scheduler instance, counters. */
public final class ListenerState
{
    public final int id;
    public final Listener config;
    public final long vipHigh;
    public final long vipLow;
    public final int port;
    public final int protocol;
    public final AclMatcher acl;
    public final BackendState[] backends;
    public final Scheduler scheduler;
    public final CounterSet counters;
    public final int maxConnections;
    public final long persistenceNs;
    public final int idleTimeoutSeconds;
    /** This forwarder's share of {@code bandwidthMbps} on the outbound direction, or null when unlimited. */
    public final TokenBucket outbound;
    /** This forwarder's new-flow rate limits (listener and per source), or null when unlimited. */
    public final NewFlowLimiter newFlows;

    public ListenerState(
        final int id, final Listener config, final AclMatcher acl, final BackendState[] backends,
        final Scheduler scheduler, final CounterSet counters)
    {
        this(id, config, acl, backends, scheduler, counters, 1);
    }

    /**
     * @param forwarderCount forwarders sharing the listener's bandwidth limit: each enforces limit ÷ N on the flows it
     *                       owns (flows spread evenly by the ownership hash).
     */
    public ListenerState(
        final int id, final Listener config, final AclMatcher acl, final BackendState[] backends,
        final Scheduler scheduler, final CounterSet counters, final int forwarderCount)
    {
        this.id = id;
        this.config = config;
        this.vipHigh = IpAddresses.high(config.key().vip());
        this.vipLow = IpAddresses.low(config.key().vip());
        this.port = config.key().port();
        this.protocol = config.key().protocol().number();
        this.acl = acl;
        this.backends = backends;
        this.scheduler = scheduler;
        this.counters = counters;
        this.maxConnections = config.maxConnections();
        this.persistenceNs = config.persistenceTimeoutSeconds() * 1_000_000_000L;
        this.idleTimeoutSeconds = config.idleTimeoutSeconds();
        this.outbound = config.bandwidthMbps() > 0
            ? new TokenBucket(Math.max(1, config.bandwidthMbps() * 1_000_000L / 8 / forwarderCount)) : null;
        this.newFlows = NewFlowLimiter.of(config.newConnectionsPerSecond(), config.newConnectionsPerSourcePerSecond(),
            forwarderCount);
    }
}
