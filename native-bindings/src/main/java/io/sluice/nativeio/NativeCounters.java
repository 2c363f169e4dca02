package io.sluice.nativeio;

import io.sluice.nativeio.xdp.SteeringCounter;
import io.sluice.nativeio.xdp.XdpSteering;
import io.sluice.nativeio.xdp.XskSocket;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.util.function.LongSupplier;

/**
 * Publishes kernel-side counters (the steering program's per-CPU array, an XSK's XDP_STATISTICS) into the node's
 * Agrona counters, labelled with the interface and queue. The kernel keeps the truth; {@link #update()} copies it
 * (a few syscalls: call it from the control path, e.g. once a second, never per packet).
 */
public final class NativeCounters implements AutoCloseable
{
    private final AtomicCounter[] counters;
    private final LongSupplier[] sources;
    private final XskSocket xsk;

    private NativeCounters(final AtomicCounter[] counters, final LongSupplier[] sources, final XskSocket xsk)
    {
        this.counters = counters;
        this.sources = sources;
        this.xsk = xsk;
    }

    /** Counters for every {@link SteeringCounter} of {@code steering} on {@code ifname}. */
    public static NativeCounters forSteering(final CountersManager manager, final XdpSteering steering, final String ifname)
    {
        final SteeringCounter[] all = SteeringCounter.values();
        final AtomicCounter[] counters = new AtomicCounter[all.length];
        final LongSupplier[] sources = new LongSupplier[all.length];
        final long[] snapshot = new long[all.length];
        for (final SteeringCounter counter : all)
        {
            final NativeCounterType type = NativeCounterType.values()[counter.index()];
            counters[counter.index()] = manager.newCounter(type.label() + "." + ifname, type.id());
            final int index = counter.index();
            sources[index] = index == 0
                ? () ->
                {
                    System.arraycopy(steering.actionCounts(), 0, snapshot, 0, snapshot.length);
                    return snapshot[0];
                }
                : () -> snapshot[index];
        }
        return new NativeCounters(counters, sources, null);
    }

    /** Counters for the XDP_STATISTICS of {@code xsk}. */
    public static NativeCounters forXsk(final CountersManager manager, final XskSocket xsk, final String ifname)
    {
        final NativeCounterType[] types = {
            NativeCounterType.XSK_RX_DROPPED, NativeCounterType.XSK_RX_INVALID_DESCS, NativeCounterType.XSK_TX_INVALID_DESCS,
            NativeCounterType.XSK_RX_RING_FULL, NativeCounterType.XSK_RX_FILL_RING_EMPTY, NativeCounterType.XSK_TX_RING_EMPTY,
        };
        final AtomicCounter[] counters = new AtomicCounter[types.length];
        for (int i = 0; i < types.length; i++)
        {
            counters[i] = manager.newCounter(types[i].label() + "." + ifname + ".q" + xsk.queue(), types[i].id());
        }
        return new NativeCounters(counters, null, xsk);
    }

    /** Copy the kernel's values into the counters. */
    public void update()
    {
        if (xsk != null)
        {
            final XskSocket.Statistics s = xsk.statistics();
            counters[0].setRelease(s.rxDropped());
            counters[1].setRelease(s.rxInvalidDescs());
            counters[2].setRelease(s.txInvalidDescs());
            counters[3].setRelease(s.rxRingFull());
            counters[4].setRelease(s.rxFillRingEmptyDescs());
            counters[5].setRelease(s.txRingEmptyDescs());
            return;
        }
        for (int i = 0; i < counters.length; i++)
        {
            counters[i].setRelease(sources[i].getAsLong());
        }
    }

    /** @return the counter ids allocated, in order (for tests and `sluice stat` wiring). */
    public int[] counterIds()
    {
        final int[] ids = new int[counters.length];
        for (int i = 0; i < ids.length; i++)
        {
            ids[i] = counters[i].id();
        }
        return ids;
    }

    /** Free the counters. */
    @Override
    public void close()
    {
        for (final AtomicCounter counter : counters)
        {
            counter.close();
        }
    }
}
