package io.sluice.fastpath.lb;

/**
 * One forwarder's new-flow rate limits for one listener: a token bucket for the listener
 * ({@code newConnectionsPerSecond}) and one per client address ({@code newConnectionsPerSourcePerSecond}) in a
 * fixed-size direct-mapped table keyed by the client address hash. Each of N forwarders enforces rate ÷ N (rounded up):
 * flows spread evenly over forwarders by the ownership hash. Buckets hold one second of their rate (at least one
 * flow) and start full.
 * <p>
 * The per-source table has {@link #SOURCE_SLOTS} entries; a source whose slot holds another address takes the slot
 * over with a full bucket. So the limit is exact for up to a few thousand concurrently active sources per forwarder and
 * lenient beyond (a heavy source is evicted only by others hashing to its slot). It defends against a few heavy real
 * sources; against spoofed random sources only the listener bucket and SYN proxy help. Single writer (the forwarder),
 * primitive arrays allocated once per table generation, no allocation per flow.
 * <p>
 * Each bucket is the {@link TokenBucket}'s algorithm (a theoretical arrival time; a flow moves it 1/rate forwards,
 * rounded up to the nanosecond, so rates up to 10^9 flows/s), single-writer: one long per bucket, no atomics. The
 * burst window is rate × that rounded cost (one second, a few ns more when the rate does not divide 10^9), so a full
 * bucket holds exactly one second of flows.
 */
public final class NewFlowLimiter
{
    public static final int SOURCE_SLOTS = 4096;

    private final long listenerRate;
    private final long listenerCostNs;
    private final long listenerBurstNs;
    private long listenerTat = TokenBucket.FULL;

    private final long sourceRate;
    private final long sourceCostNs;
    private final long sourceBurstNs;
    private final long[] sourceKeys;
    private final long[] sourceTat;

    /**
     * @param perSecond          listener-wide new flows per second, 0 = unlimited.
     * @param perSourcePerSecond new flows per second per client address, 0 = unlimited.
     * @param forwarderCount     forwarders sharing the limits.
     */
    public NewFlowLimiter(final int perSecond, final int perSourcePerSecond, final int forwarderCount)
    {
        this.listenerRate = share(perSecond, forwarderCount);
        this.listenerCostNs = listenerRate > 0 ? TokenBucket.cost(1, listenerRate) : 0;
        this.listenerBurstNs = listenerRate * listenerCostNs;
        this.sourceRate = share(perSourcePerSecond, forwarderCount);
        this.sourceCostNs = sourceRate > 0 ? TokenBucket.cost(1, sourceRate) : 0;
        this.sourceBurstNs = sourceRate * sourceCostNs;
        final int slots = sourceRate > 0 ? SOURCE_SLOTS : 0;
        this.sourceKeys = new long[slots];
        this.sourceTat = new long[slots];
    }

    /** Null when neither limit is set (the data path then skips the check). */
    public static NewFlowLimiter of(final int perSecond, final int perSourcePerSecond, final int forwarderCount)
    {
        return perSecond <= 0 && perSourcePerSecond <= 0 ? null :
            new NewFlowLimiter(perSecond, perSourcePerSecond, forwarderCount);
    }

    private static long share(final int perSecond, final int forwarderCount)
    {
        return perSecond <= 0 ? 0 : (perSecond + forwarderCount - 1) / forwarderCount;
    }

    /** Takes a flow from the listener bucket. @return false when over the listener's rate (nothing taken). */
    public boolean tryListener(final long nowNs)
    {
        if (listenerRate == 0)
        {
            return true;
        }
        final long start = TokenBucket.windowStart(listenerTat, nowNs, listenerBurstNs);
        if (TokenBucket.available(start, nowNs, listenerRate) < 1)
        {
            return false;
        }
        listenerTat = start + listenerCostNs;
        return true;
    }

    /**
     * Takes a flow from the bucket of the source whose address hashes to {@code sourceHash}.
     *
     * @return false when that source is over its rate (nothing taken).
     */
    public boolean trySource(final long sourceHash, final long nowNs)
    {
        if (sourceRate == 0)
        {
            return true;
        }
        final int slot = (int)(sourceHash ^ (sourceHash >>> 32)) & (SOURCE_SLOTS - 1);
        final long key = sourceHash | 1;
        if (sourceKeys[slot] != key)
        {
            sourceKeys[slot] = key;
            sourceTat[slot] = TokenBucket.FULL;
        }
        final long start = TokenBucket.windowStart(sourceTat[slot], nowNs, sourceBurstNs);
        if (TokenBucket.available(start, nowNs, sourceRate) < 1)
        {
            return false;
        }
        sourceTat[slot] = start + sourceCostNs;
        return true;
    }
}
