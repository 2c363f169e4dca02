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
    /** Outbound bandwidth limits (listener and load balancer) and the load balancer's meter, as this forwarder sees them. */
    public final ListenerBandwidth bandwidth;
    /** This forwarder's new-flow rate limits (listener and per source), or null when unlimited. */
    public final NewFlowLimiter newFlows;

    public ListenerState(
        final int id, final Listener config, final AclMatcher acl, final BackendState[] backends,
        final Scheduler scheduler, final CounterSet counters)
    {
        this(id, config, acl, backends, scheduler, counters, new ListenerBandwidth(
            config.bandwidthMbps() > 0 ? new TokenBucket(TokenBucket.bytesPerSecond(config.bandwidthMbps())) : null, null, null),
            1);
    }

    /**
     * @param bandwidth      this forwarder's grants of the node-wide buckets of the listener and its load balancer.
     * @param forwarderCount forwarders sharing the listener's new-flow rate limits: each enforces limit ÷ N on the flows
     *                       it owns (flows spread evenly by the ownership hash).
     */
    public ListenerState(
        final int id, final Listener config, final AclMatcher acl, final BackendState[] backends,
        final Scheduler scheduler, final CounterSet counters, final ListenerBandwidth bandwidth, final int forwarderCount)
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
        this.bandwidth = bandwidth;
        for (final BackendState b : backends)
        {
            b.owner = this;
        }
        this.newFlows = NewFlowLimiter.of(config.newConnectionsPerSecond(), config.newConnectionsPerSourcePerSecond(),
            forwarderCount);
    }
}
