package io.sluice.fastpath.lb;

import java.util.List;

import org.agrona.BitUtil;

import io.sluice.fastpath.session.FlowHash;

/**
 * One immutable generation of a forwarder's listeners and local addresses, swapped in whole by the conductor.
 * Listener lookup is open addressing on (VIP, port, protocol); listener and backend ids index arrays directly, so an
 * established flow finds its counters without hashing. Scheduler state inside is owned by the one forwarder.
 */
public final class ListenerTable
{
    private final long generation;
    private final ListenerState[] slots;
    private final int mask;
    private final ListenerState[] all;
    private final ListenerState[] byId;
    private final BackendState[] backendsById;
    private final long[] localHighs;
    private final long[] localLows;
    private final int localCount;

    public ListenerTable(
        final long generation, final List<ListenerState> listeners, final int maxListenerId, final int maxBackendId,
        final long[] localHighs, final long[] localLows)
    {
        this.generation = generation;
        final int size = BitUtil.findNextPositivePowerOfTwo(Math.max(8, listeners.size() * 4));
        this.slots = new ListenerState[size];
        this.mask = size - 1;
        this.all = listeners.toArray(new ListenerState[0]);
        this.byId = new ListenerState[maxListenerId + 1];
        this.backendsById = new BackendState[maxBackendId + 1];
        for (final ListenerState l : listeners)
        {
            int slot = (int)hash(l.vipHigh, l.vipLow, l.port, l.protocol) & mask;
            while (slots[slot] != null)
            {
                slot = (slot + 1) & mask;
            }
            slots[slot] = l;
            byId[l.id] = l;
            for (final BackendState b : l.backends)
            {
                backendsById[b.id] = b;
            }
        }
        this.localHighs = localHighs.clone();
        this.localLows = localLows.clone();
        this.localCount = localHighs.length;
    }

    public long generation()
    {
        return generation;
    }

    public ListenerState lookup(final long vipHigh, final long vipLow, final int port, final int protocol)
    {
        int slot = (int)hash(vipHigh, vipLow, port, protocol) & mask;
        while (true)
        {
            final ListenerState l = slots[slot];
            if (l == null)
            {
                return null;
            }
            if (l.vipLow == vipLow && l.port == port && l.protocol == protocol && l.vipHigh == vipHigh)
            {
                return l;
            }
            slot = (slot + 1) & mask;
        }
    }

    public ListenerState listenerById(final int id)
    {
        return id < byId.length ? byId[id] : null;
    }

    public BackendState backendById(final int id)
    {
        return id < backendsById.length ? backendsById[id] : null;
    }

    /** Every listener of this generation. */
    public ListenerState[] listeners()
    {
        return all;
    }

    /** Index of a local (SNAT) address, or -1. */
    public int localAddressIndex(final long high, final long low)
    {
        for (int i = 0; i < localCount; i++)
        {
            if (localLows[i] == low && localHighs[i] == high)
            {
                return i;
            }
        }
        return -1;
    }

    public int localAddressCount()
    {
        return localCount;
    }

    public long localHigh(final int i)
    {
        return localHighs[i];
    }

    public long localLow(final int i)
    {
        return localLows[i];
    }

    private static long hash(final long high, final long low, final int port, final int protocol)
    {
        return FlowHash.mix(low ^ FlowHash.mix(high ^ ((long)port << 8 | protocol)));
    }
}
