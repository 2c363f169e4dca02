package io.sluice.fastpath.lb;

import io.sluice.fastpath.CounterSet;
import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.fastpath.session.FlowHash;

/** One forwarder's copy of a backend: addresses in the uniform form, scheduler scratch state, counters. */
public final class BackendState
{
    public final int id;
    public final Backend config;
    public final long addressHigh;
    public final long addressLow;
    public final int port;
    public final int weight;
    public final boolean up;
    /** Stable identity for consistent hashing: the same on every node. */
    public final long identity;
    public final CounterSet counters;
    /**
     * The owning forwarder's cache of this backend's next hop (a raw {@code NeighbourTable.nextHopMac} answer) and the
     * neighbour-table generation it was read under; single writer and reader, like the rest of this forwarder's table.
     */
    public Object nextHopGeneration;
    public long nextHop;
    /**
     * The listener this backend belongs to in its table (set by {@link ListenerState}): a session's frames are counted
     * on the backend's traffic fields below only when its listener is this one.
     */
    ListenerState owner;
    /**
     * The owning forwarder's traffic through this backend since its last counter flush, in plain fields: the only
     * per-frame counter work of an established flow. The flush adds them to the backend's, its listener's, the load
     * balancer's and the global counters ({@link BackendTraffic#publish}).
     */
    public long packetsIn;
    public long bytesIn;
    public long packetsOut;
    public long bytesOut;

    public BackendState(final int id, final Backend config, final CounterSet counters)
    {
        this.id = id;
        this.config = config;
        this.addressHigh = IpAddresses.high(config.address());
        this.addressLow = IpAddresses.low(config.address());
        this.port = config.port();
        this.weight = config.weight();
        this.up = config.up();
        this.identity = FlowHash.hash(addressHigh, addressLow, 0, 0, port, 0, 0);
        this.counters = counters;
    }

    /** The listener this backend belongs to in its table, or null before one took it. */
    public ListenerState owner()
    {
        return owner;
    }

    /** May take new flows. */
    public boolean available()
    {
        return up && weight > 0;
    }
}
