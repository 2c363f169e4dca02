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
 * Credit is kept in flow-nanoseconds (one flow costs 10^9) so any rate up to 10^9 flows/s refills with integer
 * arithmetic and no rounding loss.
 */
public final class NewFlowLimiter
{
    public static final int SOURCE_SLOTS = 4096;
    private static final long FLOW = 1_000_000_000L;

    private final long listenerRate;
    private final long listenerBurst;
    private long listenerCredit;
    private long listenerLastNs = Long.MIN_VALUE;

    private final long sourceRate;
    private final long sourceBurst;
    private final long[] sourceKeys;
    private final long[] sourceCredit;
    private final long[] sourceLastNs;

    /**
     * @param perSecond          listener-wide new flows per second, 0 = unlimited.
     * @param perSourcePerSecond new flows per second per client address, 0 = unlimited.
     * @param forwarderCount     forwarders sharing the limits.
     */
    public NewFlowLimiter(final int perSecond, final int perSourcePerSecond, final int forwarderCount)
    {
        this.listenerRate = share(perSecond, forwarderCount);
        this.listenerBurst = listenerRate * FLOW;
        this.listenerCredit = listenerBurst;
        this.sourceRate = share(perSourcePerSecond, forwarderCount);
        this.sourceBurst = sourceRate * FLOW;
        final int slots = sourceRate > 0 ? SOURCE_SLOTS : 0;
        this.sourceKeys = new long[slots];
        this.sourceCredit = new long[slots];
        this.sourceLastNs = new long[slots];
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
        if (listenerLastNs == Long.MIN_VALUE)
        {
            listenerLastNs = nowNs;
        }
        listenerCredit = refill(listenerCredit, nowNs - listenerLastNs, listenerRate, listenerBurst);
        listenerLastNs = nowNs;
        if (listenerCredit < FLOW)
        {
            return false;
        }
        listenerCredit -= FLOW;
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
        long credit;
        if (sourceKeys[slot] != key)
        {
            sourceKeys[slot] = key;
            credit = sourceBurst;
        }
        else
        {
            credit = refill(sourceCredit[slot], nowNs - sourceLastNs[slot], sourceRate, sourceBurst);
        }
        sourceLastNs[slot] = nowNs;
        if (credit < FLOW)
        {
            sourceCredit[slot] = credit;
            return false;
        }
        sourceCredit[slot] = credit - FLOW;
        return true;
    }

    private static long refill(final long credit, final long elapsedNs, final long rate, final long burst)
    {
        if (elapsedNs <= 0)
        {
            return credit;
        }
        if (elapsedNs >= FLOW)
        {
            return burst;
        }
        return Math.min(burst, credit + elapsedNs * rate);
    }
}
