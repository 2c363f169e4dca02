package io.sluice.fastpath;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

import org.agrona.BitUtil;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import io.sluice.fastpath.packet.IpAddresses;

/**
 * A {@link NeighbourTable} the node fills (from netlink) and forwarders read: exact entries for on-link next hops
 * plus a default next-hop MAC (the gateway's) for everything else. Writers copy-on-write an open-addressing snapshot
 * and publish it through a volatile field (control path, rare); readers probe the snapshot without locks.
 * Resolution requests go to a many-to-one ring the node drains with {@link #drainRequests}.
 */
public final class NeighbourCache implements NeighbourTable
{
    public static final int REQUEST_MSG_TYPE = 1;

    /** An expected next hop not resolved yet: looks up as NO_MAC, never as the default gateway. */
    private static final long PENDING = Long.MAX_VALUE;

    private final Map<InetAddress, Long> entries = new HashMap<>();
    private final ManyToOneRingBuffer requests =
        new ManyToOneRingBuffer(new UnsafeBuffer(ByteBuffer.allocateDirect(64 * 1024 + RingBufferDescriptor.TRAILER_LENGTH)));
    private final ThreadLocal<UnsafeBuffer> scratch = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[16]));
    private long defaultMac = NO_MAC;
    private volatile Snapshot snapshot;
    private volatile HandoffWakeup requestWakeup = HandoffWakeup.NONE;
    private Runnable onChange = () -> { };

    private record Snapshot(long[] highs, long[] lows, long[] macs, int mask, long defaultMac)
    {
    }

    public NeighbourCache()
    {
        publish();
    }

    public synchronized void put(final InetAddress address, final long mac)
    {
        put(address, 0, mac);
    }

    /** An on-link next hop reached through data interface {@code interfaceSlot}. */
    public synchronized void put(final InetAddress address, final int interfaceSlot, final long mac)
    {
        final long hop = NeighbourTable.nextHop(interfaceSlot, mac);
        final Long old = entries.put(address, hop);
        publish();
        if (old != null && old != PENDING && old != hop)
        {
            onChange.run();
        }
    }

    /**
     * Runs {@code listener} (on the updating thread, after the new contents are published) whenever a known next hop
     * changes or goes: what a copy of an old answer held elsewhere (the XDP flow offload's entries) must learn.
     */
    public synchronized void onChange(final Runnable listener)
    {
        this.onChange = listener;
    }

    /**
     * Marks an address whose next hop must be resolved exactly (a backend): until the resolver puts its entry it
     * looks up as {@link #NO_MAC}, so the forwarder asks for resolution instead of sending the frame to the default
     * gateway — a backend on a data interface's own segment is not behind the gateway, whatever the cache knows yet.
     */
    public synchronized void expect(final InetAddress address)
    {
        if (entries.putIfAbsent(address, PENDING) == null)
        {
            publish();
        }
    }

    /** True when the address has (or waits for) an exact entry. */
    public synchronized boolean expects(final InetAddress address)
    {
        return entries.containsKey(address);
    }

    public synchronized void remove(final InetAddress address)
    {
        final Long old = entries.remove(address);
        publish();
        if (old != null && old != PENDING)
        {
            onChange.run();
        }
    }

    /** MAC for destinations without an entry (the default gateway's), or {@link #NO_MAC}. */
    public synchronized void defaultNextHop(final long mac)
    {
        defaultNextHop(0, mac);
    }

    /** The default gateway's MAC and the data interface it sits on; {@link #NO_MAC} forgets it. */
    public synchronized void defaultNextHop(final int interfaceSlot, final long mac)
    {
        final long old = defaultMac;
        defaultMac = mac == NO_MAC ? NO_MAC : NeighbourTable.nextHop(interfaceSlot, mac);
        publish();
        if (old != NO_MAC && old != defaultMac)
        {
            onChange.run();
        }
    }

    /** The published snapshot: immutable, replaced (never changed) by every update. */
    @Override
    public Object generation()
    {
        return snapshot;
    }

    @Override
    public long nextHopMac(final long high, final long low)
    {
        final Snapshot s = snapshot;
        final long[] macs = s.macs;
        int slot = slot(high, low, s.mask);
        // At most half full, so an empty slot ends every probe; the bound is a second guard.
        for (int i = 0; i <= s.mask; i++)
        {
            final long mac = macs[slot];
            if (mac == NO_MAC)
            {
                return s.defaultMac;
            }
            if (s.lows[slot] == low && s.highs[slot] == high)
            {
                return mac == PENDING ? NO_MAC : mac;
            }
            slot = (slot + 1) & s.mask;
        }
        return s.defaultMac;
    }

    @Override
    public void requestResolution(final long high, final long low)
    {
        // Called by forwarders; each has its own scratch buffer. tryClaim would avoid the copy but write is enough here.
        final UnsafeBuffer b = scratch.get();
        b.putLong(0, high);
        b.putLong(8, low);
        requests.write(REQUEST_MSG_TYPE, b, 0, 16);
        requestWakeup.wake();
    }

    /**
     * Wakes the resolver asleep on its doorbell after each request (an {@code EventFdDoorbell} whose pending check is
     * {@link #hasRequests}), so it can sleep until there is work instead of polling the ring every millisecond.
     */
    public void wakeOnRequest(final HandoffWakeup wakeup)
    {
        requestWakeup = wakeup;
    }

    /** True while resolution requests wait in the ring (the resolver's doorbell checks it before sleeping). */
    public boolean hasRequests()
    {
        return requests.size() > 0;
    }

    /** Drains resolution requests (node thread): each is (high, low) at the message offset. */
    public int drainRequests(final MessageHandler handler)
    {
        return requests.read(handler);
    }

    /** One multiply (Fibonacci hashing): next hops are few, and this sits on every packet's path. */
    private static int slot(final long high, final long low, final int mask)
    {
        return (int)(((low ^ high) * 0x9E37_79B9_7F4A_7C15L) >>> 40) & mask;
    }

    private void publish()
    {
        final int size = BitUtil.findNextPositivePowerOfTwo(Math.max(4, entries.size() * 2));
        final long[] highs = new long[size];
        final long[] lows = new long[size];
        final long[] macs = new long[size];
        java.util.Arrays.fill(macs, NO_MAC);
        final int mask = size - 1;
        for (final Map.Entry<InetAddress, Long> e : entries.entrySet())
        {
            final long high = IpAddresses.high(e.getKey());
            final long low = IpAddresses.low(e.getKey());
            int slot = slot(high, low, mask);
            while (macs[slot] != NO_MAC)
            {
                slot = (slot + 1) & mask;
            }
            highs[slot] = high;
            lows[slot] = low;
            macs[slot] = e.getValue();
        }
        snapshot = new Snapshot(highs, lows, macs, mask, defaultMac);
    }
}
