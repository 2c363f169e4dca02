package io.sluice.l7;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One outbound bandwidth peak (a listener's {@code bandwidthMbps}, or a load balancer's shared by all its L7 listeners):
 * a byte token bucket over one {@link AtomicLong}, the generic cell rate algorithm's "theoretical arrival time", as the
 * fastpath's {@code TokenBucket} does for L4. The bucket holds {@link #BURST_NS} of the rate (full when that time lies
 * {@code BURST_NS} or more in the past). Unlike a policer it never refuses: {@link #reserve} books the bytes and answers
 * how long they must wait, so every connection of every event loop gets its place in one queue in time, and the sum of
 * what all of them release is the rate. Holding the bytes (and no more than that: the connection turns unwritable and the
 * proxy stops reading the backend) is {@link OutboundShaper}'s job.
 * <p>
 * The enforced rate is {@code limit ÷ share}, where the share (the cluster's live node count) and the limit (a config
 * change) can change at any time; the next reservation uses the new rate. Lock-free, no allocation.
 */
final class OutboundPeak
{
    /** Burst: the bucket holds this much of the rate, the same 100 ms as the fastpath's buckets. */
    static final long BURST_NS = 100_000_000L;
    private static final long NS_PER_S = 1_000_000_000L;

    private final String name;
    private final AtomicLong theoreticalArrivalNs;
    private volatile long limitBytesPerSecond;
    private volatile int share = 1;
    private volatile long bytesPerSecond;

    /**
     * @param name                what it limits, for logs and tests (a listener or load balancer name).
     * @param limitBytesPerSecond the whole limit before any cluster share, positive.
     */
    OutboundPeak(final String name, final long limitBytesPerSecond)
    {
        this(name, limitBytesPerSecond, new AtomicLong(Long.MIN_VALUE));
    }

    /**
     * A peak over a theoretical arrival time shared with other holders of the same limit (a load balancer's peak, also
     * enforced by the fastpath's bucket on the same cell for its L4 listeners).
     *
     * @param theoreticalArrivalNs the shared cell, {@link System#nanoTime()} time base; {@link Long#MIN_VALUE} = full.
     */
    OutboundPeak(final String name, final long limitBytesPerSecond, final AtomicLong theoreticalArrivalNs)
    {
        this.name = name;
        this.theoreticalArrivalNs = theoreticalArrivalNs;
        limit(limitBytesPerSecond);
    }

    /** Megabits per second (10^6 bits) to bytes per second, as the fastpath converts {@code bandwidthMbps}. */
    static long bytesPerSecond(final long mbps)
    {
        return mbps * 1_000_000L / 8;
    }

    /** A new whole limit (config change); the cluster share still applies. */
    void limit(final long newLimitBytesPerSecond)
    {
        if (newLimitBytesPerSecond <= 0)
        {
            throw new IllegalArgumentException("limitBytesPerSecond: " + newLimitBytesPerSecond + " must be positive");
        }
        limitBytesPerSecond = newLimitBytesPerSecond;
        bytesPerSecond = Math.max(1, newLimitBytesPerSecond / share);
    }

    long limitBytesPerSecond()
    {
        return limitBytesPerSecond;
    }

    /** Enforce limit ÷ {@code liveNodes} from the next reservation on (each live node of a cluster takes its part). */
    void share(final int liveNodes)
    {
        if (liveNodes < 1)
        {
            throw new IllegalArgumentException("liveNodes: " + liveNodes + " must be >= 1");
        }
        share = liveNodes;
        bytesPerSecond = Math.max(1, limitBytesPerSecond / liveNodes);
    }

    /** The rate enforced now: limit ÷ share. */
    long bytesPerSecond()
    {
        return bytesPerSecond;
    }

    /**
     * Books {@code bytes} at {@code nowNs}.
     *
     * @return how long (ns) they must wait before they leave; 0 while the bucket holds them.
     */
    long reserve(final long nowNs, final long bytes)
    {
        final long cost = costNs(bytes);
        final long floor = nowNs - BURST_NS;
        while (true)
        {
            final long tat = theoreticalArrivalNs.get();
            final long next = Math.max(tat, floor) + cost;
            if (theoreticalArrivalNs.compareAndSet(tat, next))
            {
                return Math.max(0, next - nowNs);
            }
        }
    }

    /** Gives back what {@link #reserve} booked for bytes that will never leave (their connection closed first). */
    void refund(final long bytes)
    {
        theoreticalArrivalNs.getAndAdd(-costNs(bytes));
    }

    private long costNs(final long bytes)
    {
        // bytes of one write stay far below 2^33, so bytes × 10^9 cannot overflow
        return bytes * NS_PER_S / bytesPerSecond;
    }

    @Override
    public String toString()
    {
        return "OutboundPeak[" + name + " " + bytesPerSecond + " B/s]";
    }
}
