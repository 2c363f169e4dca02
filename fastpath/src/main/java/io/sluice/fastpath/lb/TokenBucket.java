package io.sluice.fastpath.lb;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A node-wide byte token bucket for one bandwidth limit (a listener's or a load balancer's), shared by every
 * forwarder: a generic cell rate algorithm over one {@link AtomicLong}, the bucket's "theoretical arrival time".
 * The bucket is full (holds {@code rate × BURST_NS}) when that time lies {@code BURST_NS} or more in the past; taking
 * {@code b} bytes moves it {@code b / rate} forwards. Forwarders do not come here per packet: a {@link TokenGrant}
 * takes chunks of {@link #grantBytes()} and spends them locally, so the shared cache line is touched about once per
 * chunk. The rate is {@code limit ÷ share} where the share (live nodes of a cluster) can change at any time; the
 * change applies to the next grant. No allocation, lock-free.
 * <p>
 * The algorithm's three steps ({@link #windowStart}, {@link #available}, {@link #cost}) are shared with the
 * single-writer buckets of {@link NewFlowLimiter} (new flows per listener and per client address, one forwarder each),
 * which keep their theoretical arrival times in plain fields and arrays instead of an {@link AtomicLong}.
 */
public final class TokenBucket
{
    /** Burst window: the bucket holds this much of the rate. */
    public static final long BURST_NS = 100_000_000L;
    /** Largest local grant: a forwarder never sits on more than this of the shared bucket. */
    public static final long MAX_GRANT_BYTES = 64 * 1024;

    /** The theoretical arrival time of a bucket never taken from: full. */
    static final long FULL = Long.MIN_VALUE;

    private static final long NS_PER_S = 1_000_000_000L;

    private final long limitBytesPerSecond;
    private final AtomicLong theoreticalArrivalNs;
    private volatile long bytesPerSecond;
    private volatile long grantBytes;
    private volatile int share = 1;

    /** @param limitBytesPerSecond the whole limit (before any cluster share), positive. */
    public TokenBucket(final long limitBytesPerSecond)
    {
        this(limitBytesPerSecond, new AtomicLong(FULL));
    }

    /**
     * A bucket over a theoretical arrival time it shares with other holders of the same limit: a load balancer's peak
     * is one budget for its L4 listeners (these buckets) and its L7 listeners (the proxy's peaks over the same cell, in
     * the same {@link System#nanoTime()} time base), so what they send together stays within it.
     *
     * @param limitBytesPerSecond  the whole limit (before any cluster share), positive.
     * @param theoreticalArrivalNs the shared cell; {@link Long#MIN_VALUE} is a bucket never taken from (full).
     */
    public TokenBucket(final long limitBytesPerSecond, final AtomicLong theoreticalArrivalNs)
    {
        this.theoreticalArrivalNs = Objects.requireNonNull(theoreticalArrivalNs, "theoreticalArrivalNs");
        if (limitBytesPerSecond <= 0)
        {
            throw new IllegalArgumentException("limitBytesPerSecond: " + limitBytesPerSecond + " must be positive");
        }
        this.limitBytesPerSecond = limitBytesPerSecond;
        applyRate(limitBytesPerSecond);
    }

    /** Megabits per second (10^6 bits) to bytes per second. */
    public static long bytesPerSecond(final long mbps)
    {
        return mbps * 1_000_000L / 8;
    }

    /**
     * Enforce {@code limit ÷ share} from now on (a cluster of {@code share} live nodes each enforces its part).
     * Called from the conductor; forwarders see it at their next grant.
     */
    public void share(final int liveNodes)
    {
        if (liveNodes < 1)
        {
            throw new IllegalArgumentException("liveNodes: " + liveNodes + " must be >= 1");
        }
        share = liveNodes;
        applyRate(Math.max(1, limitBytesPerSecond / liveNodes));
    }

    private void applyRate(final long rate)
    {
        bytesPerSecond = rate;
        // A grant is at most 1/16 of the burst, so forwarders holding grants cannot stretch the burst much.
        grantBytes = Math.max(1, Math.min(MAX_GRANT_BYTES, rate * BURST_NS / NS_PER_S / 16));
    }

    /**
     * Takes up to {@code wanted} bytes (at most {@link #MAX_GRANT_BYTES}).
     *
     * @return the bytes granted, 0 when the bucket is empty.
     */
    public long take(final long nowNs, final long wanted)
    {
        final long rate = bytesPerSecond;
        final long w = Math.min(wanted, MAX_GRANT_BYTES);
        while (true)
        {
            final long tat = theoreticalArrivalNs.get();
            final long base = windowStart(tat, nowNs, BURST_NS);
            // elapsed ≤ BURST_NS (1e8) and rate ≤ 1.25e10 B/s (100 Gbit/s): the product stays below 2^63.
            final long granted = Math.min(w, available(base, nowNs, rate));
            if (granted <= 0)
            {
                return 0;
            }
            if (theoreticalArrivalNs.compareAndSet(tat, base + cost(granted, rate)))
            {
                return granted;
            }
        }
    }

    /**
     * Where a bucket's window starts at {@code nowNs}: its theoretical arrival time, or {@code nowNs - burstNs} when that
     * lies further back (a bucket idle for a whole burst, or {@link #FULL}, holds {@code rate × burstNs} and no more).
     */
    static long windowStart(final long theoreticalArrivalNs, final long nowNs, final long burstNs)
    {
        return theoreticalArrivalNs == FULL || theoreticalArrivalNs < nowNs - burstNs ? nowNs - burstNs : theoreticalArrivalNs;
    }

    /** What a bucket whose window starts at {@code windowStartNs} holds at {@code nowNs} ((now - start) × rate ≤ 2^63). */
    static long available(final long windowStartNs, final long nowNs, final long perSecond)
    {
        final long elapsed = nowNs - windowStartNs;
        return elapsed <= 0 ? 0 : elapsed * perSecond / NS_PER_S;
    }

    /** The window time {@code tokens} take, rounded up: the bucket never gives more than the rate. */
    static long cost(final long tokens, final long perSecond)
    {
        return (tokens * NS_PER_S + perSecond - 1) / perSecond;
    }

    /** Size of one local grant (≈ 1/16 of the burst, at most {@link #MAX_GRANT_BYTES}). */
    public long grantBytes()
    {
        return grantBytes;
    }

    /** The rate enforced now: limit ÷ share. */
    public long bytesPerSecond()
    {
        return bytesPerSecond;
    }

    public long limitBytesPerSecond()
    {
        return limitBytesPerSecond;
    }

    public int share()
    {
        return share;
    }

    /** What the bucket holds when full: {@code rate × BURST_NS}. */
    public long burstBytes()
    {
        return Math.max(1, bytesPerSecond * BURST_NS / NS_PER_S);
    }
}
