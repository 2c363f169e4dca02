package io.sluice.fastpath.lb;

import org.agrona.BitUtil;

/**
 * Source-IP persistence for one forwarder: (listener id, client address) → backend id until a deadline.
 * Open addressing with a bounded probe; expired entries are overwritten in place, never deleted, so no tombstones
 * are needed. When a probe run is full of live entries the flow simply is not pinned (it is still served).
 * Ownership hashes only the client address for listeners with persistence, so one client's flows all meet here.
 */
public final class PersistenceTable
{
    public static final int NONE = -1;
    private static final int MAX_PROBE = 16;

    private final long[] highs;
    private final long[] lows;
    private final int[] listenerAndBackend;
    private final long[] deadlines;
    private final int mask;

    public PersistenceTable(final int capacity)
    {
        final int size = BitUtil.findNextPositivePowerOfTwo(Math.max(16, capacity * 2));
        highs = new long[size];
        lows = new long[size];
        listenerAndBackend = new int[size];
        deadlines = new long[size];
        mask = size - 1;
    }

    /** Backend id pinned for this client on this listener, or {@link #NONE}. */
    public int lookup(final int listenerId, final long high, final long low, final long hash, final long nowNs)
    {
        int slot = (int)hash & mask;
        for (int i = 0; i < MAX_PROBE; i++)
        {
            final int packed = listenerAndBackend[slot];
            if (packed == 0)
            {
                return NONE;
            }
            if ((packed >>> 16) - 1 == listenerId && highs[slot] == high && lows[slot] == low)
            {
                return deadlines[slot] > nowNs ? (packed & 0xFFFF) : NONE;
            }
            slot = (slot + 1) & mask;
        }
        return NONE;
    }

    /** Pins (or re-pins) the client to a backend until {@code deadlineNs}. */
    public void put(final int listenerId, final long high, final long low, final long hash, final int backendId,
        final long nowNs, final long deadlineNs)
    {
        int slot = (int)hash & mask;
        int reusable = -1;
        for (int i = 0; i < MAX_PROBE; i++)
        {
            final int packed = listenerAndBackend[slot];
            if (packed == 0 || ((packed >>> 16) - 1 == listenerId && highs[slot] == high && lows[slot] == low))
            {
                reusable = slot;
                break;
            }
            if (reusable < 0 && deadlines[slot] <= nowNs)
            {
                reusable = slot;
            }
            slot = (slot + 1) & mask;
        }
        if (reusable >= 0)
        {
            highs[reusable] = high;
            lows[reusable] = low;
            listenerAndBackend[reusable] = ((listenerId + 1) << 16) | (backendId & 0xFFFF);
            deadlines[reusable] = deadlineNs;
        }
    }
}
