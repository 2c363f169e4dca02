package io.sluice.fastpath;

import org.agrona.concurrent.status.AtomicCounter;

/**
 * One forwarder's view of a group of shared counters: increments accumulate in plain longs on the data path and
 * are added to the shared {@link AtomicCounter}s (several forwarders write them, so with an atomic add) when the
 * forwarder flushes — once per duty cycle at most, so the per-packet cost is a plain add.
 */
public final class CounterSet
{
    private final AtomicCounter[] counters;
    private final long[] pending;
    private boolean dirty;

    public CounterSet(final AtomicCounter[] counters)
    {
        this.counters = counters;
        this.pending = new long[counters.length];
    }

    public void add(final int slot, final long delta)
    {
        pending[slot] += delta;
        dirty = true;
    }

    public void increment(final int slot)
    {
        pending[slot]++;
        dirty = true;
    }

    /** Shared value plus what this forwarder has not flushed yet. */
    public long value(final int slot)
    {
        return counters[slot].get() + pending[slot];
    }

    public AtomicCounter counter(final int slot)
    {
        return counters[slot];
    }

    public boolean flush()
    {
        if (!dirty)
        {
            return false;
        }
        for (int i = 0; i < pending.length; i++)
        {
            final long delta = pending[i];
            if (delta != 0)
            {
                counters[i].getAndAdd(delta);
                pending[i] = 0;
            }
        }
        dirty = false;
        return true;
    }
}
