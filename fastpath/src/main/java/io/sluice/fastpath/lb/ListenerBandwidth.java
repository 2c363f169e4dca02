package io.sluice.fastpath.lb;

import io.sluice.fastpath.CounterSet;
import io.sluice.fastpath.FastpathCounter;

/**
 * One forwarder's view of the bandwidth limits on a listener's outbound direction (towards clients): the listener's
 * own {@code bandwidthMbps} and its load balancer's (instance) {@code bandwidthMbps}, each a local {@link TokenGrant}
 * of a node-wide {@link TokenBucket} (null when unlimited), and the instance's outbound meter. A frame must get its
 * bytes from both buckets.
 */
public final class ListenerBandwidth
{
    private static final int I_PACKETS_OUT = FastpathCounter.INSTANCE_PACKETS_OUT.slot();
    private static final int I_BYTES_OUT = FastpathCounter.INSTANCE_BYTES_OUT.slot();
    private static final int I_PACKETS_IN = FastpathCounter.INSTANCE_PACKETS_IN.slot();
    private static final int I_BYTES_IN = FastpathCounter.INSTANCE_BYTES_IN.slot();
    private static final int I_DROP_BANDWIDTH = FastpathCounter.INSTANCE_DROP_BANDWIDTH.slot();
    private static final int I_DELAYED = FastpathCounter.INSTANCE_BANDWIDTH_DELAYED.slot();

    /** Queueing allowed before dropping: this much of the (smaller) rate. */
    public static final long QUEUE_NS = 100_000_000L;
    /** A queue holds at least this many bytes, so even a slow limit smooths two full-size frames. */
    public static final long MIN_QUEUE_BYTES = 3_000;

    private final TokenGrant listener;
    private final TokenGrant instance;
    private final CounterSet instanceCounters;

    /**
     * @param listener         the listener's bucket, or null when unlimited.
     * @param instance         the load balancer's bucket, or null when unlimited.
     * @param instanceCounters the load balancer's {@link FastpathCounter#INSTANCE} counters, or null when the listener
     *                         belongs to no known instance.
     */
    public ListenerBandwidth(final TokenBucket listener, final TokenBucket instance, final CounterSet instanceCounters)
    {
        this.listener = listener == null ? null : new TokenGrant(listener);
        this.instance = instance == null ? null : new TokenGrant(instance);
        this.instanceCounters = instanceCounters;
    }

    /** True when a bucket applies (else frames never wait). */
    public boolean limited()
    {
        return listener != null || instance != null;
    }

    /** Takes {@code bytes} from both buckets, or from neither. */
    public boolean tryTake(final long nowNs, final int bytes)
    {
        if (instance != null && !instance.tryTake(nowNs, bytes))
        {
            return false;
        }
        if (listener != null && !listener.tryTake(nowNs, bytes))
        {
            if (instance != null)
            {
                instance.giveBack(bytes);
            }
            return false;
        }
        return true;
    }

    /** Returns what {@link #tryTake} took for a frame that could not be sent after all. */
    public void giveBack(final int bytes)
    {
        if (instance != null)
        {
            instance.giveBack(bytes);
        }
        if (listener != null)
        {
            listener.giveBack(bytes);
        }
    }

    /** Bytes a listener's queue may hold: {@link #QUEUE_NS} of the smaller rate enforced now. */
    public long queueLimitBytes()
    {
        long rate = Long.MAX_VALUE;
        if (listener != null)
        {
            rate = listener.bucket().bytesPerSecond();
        }
        if (instance != null)
        {
            rate = Math.min(rate, instance.bucket().bytesPerSecond());
        }
        if (rate == Long.MAX_VALUE)
        {
            return Long.MAX_VALUE;
        }
        // rate ≤ 1.25e10 B/s and QUEUE_NS = 1e8: the product stays below 2^63.
        return Math.max(MIN_QUEUE_BYTES, rate * QUEUE_NS / 1_000_000_000L);
    }

    public void countOut(final int ipBytes)
    {
        if (instanceCounters != null)
        {
            instanceCounters.increment(I_PACKETS_OUT);
            instanceCounters.add(I_BYTES_OUT, ipBytes);
        }
    }

    /** {@link #countOut(int)} for {@code packets} frames of {@code ipBytes} in all (a forwarder's flush). */
    public void countOut(final long packets, final long ipBytes)
    {
        if (instanceCounters != null)
        {
            instanceCounters.add(I_PACKETS_OUT, packets);
            instanceCounters.add(I_BYTES_OUT, ipBytes);
        }
    }

    /** {@link #countIn(int)} for {@code packets} frames of {@code ipBytes} in all (a forwarder's flush). */
    public void countIn(final long packets, final long ipBytes)
    {
        if (instanceCounters != null)
        {
            instanceCounters.add(I_PACKETS_IN, packets);
            instanceCounters.add(I_BYTES_IN, ipBytes);
        }
    }

    public void countIn(final int ipBytes)
    {
        if (instanceCounters != null)
        {
            instanceCounters.increment(I_PACKETS_IN);
            instanceCounters.add(I_BYTES_IN, ipBytes);
        }
    }

    public void countDrop()
    {
        if (instanceCounters != null)
        {
            instanceCounters.increment(I_DROP_BANDWIDTH);
        }
    }

    public void countDelayed()
    {
        if (instanceCounters != null)
        {
            instanceCounters.increment(I_DELAYED);
        }
    }

    public void flush()
    {
        if (instanceCounters != null)
        {
            instanceCounters.flush();
        }
    }
}
