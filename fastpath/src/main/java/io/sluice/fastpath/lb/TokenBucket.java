package io.sluice.fastpath.lb;

/**
 * A byte token bucket for one forwarder's share of a bandwidth limit: refilled at {@code bytesPerSecond} from the
 * forwarder's duty-cycle clock, holding at most {@code burstBytes} (≈ rate × 100 ms). Single writer (the forwarder),
 * no allocation, integer arithmetic: elapsed time that buys less than a byte is kept for the next call.
 */
public final class TokenBucket
{
    /** Burst window: the bucket holds this much of the rate. */
    public static final long BURST_NS = 100_000_000L;

    private final long bytesPerSecond;
    private final long burstBytes;
    private long tokens;
    private long lastNs = Long.MIN_VALUE;

    public TokenBucket(final long bytesPerSecond)
    {
        if (bytesPerSecond <= 0)
        {
            throw new IllegalArgumentException("bytesPerSecond: " + bytesPerSecond + " must be positive");
        }
        this.bytesPerSecond = bytesPerSecond;
        this.burstBytes = Math.max(1, bytesPerSecond * BURST_NS / 1_000_000_000L);
        this.tokens = burstBytes;
    }

    /** Takes {@code bytes} tokens when there are that many. @return false when over the limit (nothing taken). */
    public boolean tryConsume(final long nowNs, final int bytes)
    {
        if (lastNs == Long.MIN_VALUE)
        {
            lastNs = nowNs;
        }
        final long elapsed = nowNs - lastNs;
        if (elapsed >= BURST_NS)
        {
            tokens = burstBytes;
            lastNs = nowNs;
        }
        else if (elapsed > 0)
        {
            // elapsed < 1e8 ns, so elapsed × rate stays far from overflow for any rate below 9e10 B/s
            final long added = elapsed * bytesPerSecond / 1_000_000_000L;
            if (added > 0)
            {
                tokens = Math.min(burstBytes, tokens + added);
                lastNs = nowNs;
            }
        }
        if (tokens < bytes)
        {
            return false;
        }
        tokens -= bytes;
        return true;
    }

    public long burstBytes()
    {
        return burstBytes;
    }
}
