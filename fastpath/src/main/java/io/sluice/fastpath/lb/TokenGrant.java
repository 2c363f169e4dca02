package io.sluice.fastpath.lb;

/**
 * One forwarder's local slice of a shared {@link TokenBucket}: it spends tokens it already holds and goes to the
 * shared bucket only when they run short, for a whole grant at once. Single writer (its forwarder), no allocation.
 */
public final class TokenGrant
{
    private final TokenBucket bucket;
    private long tokens;

    public TokenGrant(final TokenBucket bucket)
    {
        this.bucket = bucket;
    }

    public TokenBucket bucket()
    {
        return bucket;
    }

    /** Takes {@code bytes} tokens when there are that many. @return false when over the limit (nothing taken). */
    public boolean tryTake(final long nowNs, final int bytes)
    {
        if (tokens < bytes)
        {
            tokens += bucket.take(nowNs, Math.max(bucket.grantBytes(), bytes - tokens));
            if (tokens < bytes)
            {
                return false;
            }
        }
        tokens -= bytes;
        return true;
    }

    /** Returns tokens taken for a frame that was not sent after all. */
    public void giveBack(final int bytes)
    {
        tokens += bytes;
    }
}
