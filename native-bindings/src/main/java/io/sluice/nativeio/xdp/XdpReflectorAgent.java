package io.sluice.nativeio.xdp;

import org.agrona.concurrent.Agent;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * Receives frames on one XSK and sends each straight back out of the same socket from the same UMEM frame
 * (optionally swapping the Ethernet addresses): the cheapest possible forwarder, the reference for what the AF_XDP
 * path costs per packet here. Frames cycle fill → rx → tx → completion → fill; nothing is copied or allocated.
 * When tx has no room even after a kick, the rest of the batch goes straight back to the fill ring and counts as
 * {@link #txDropped()}.
 */
public final class XdpReflectorAgent implements Agent
{
    private final XskSocket xsk;
    private final MemorySegment umem;
    private final XskRing rx;
    private final XskRing tx;
    private final XskRing fill;
    private final XskRing completion;
    private final boolean swapMacs;
    private final int batch;
    private long rxPackets;
    private long txPackets;
    private long txDropped;
    private long busyNs;

    public XdpReflectorAgent(final XskSocket xsk, final boolean swapMacs, final int batch)
    {
        this.xsk = xsk;
        this.umem = xsk.umem().segment();
        this.rx = xsk.rx();
        this.tx = xsk.tx();
        this.fill = xsk.fill();
        this.completion = xsk.completion();
        this.swapMacs = swapMacs;
        this.batch = batch;
    }

    /** Give every UMEM frame to the kernel for receiving. */
    @Override
    public void onStart()
    {
        final int frames = Math.min(xsk.umem().frameCount(), fill.size());
        if (fill.reserve(frames) != frames)
        {
            throw new IllegalStateException("fill ring refused " + frames + " frames");
        }
        for (int i = 0; i < frames; i++)
        {
            fill.address(fill.index() + i, xsk.umem().frameAddress(i));
        }
        fill.submit(frames);
    }

    @Override
    public int doWork()
    {
        final long start = System.nanoTime();
        int work = recycleCompleted();
        final int received = rx.peek(batch);
        if (received > 0)
        {
            final int first = rx.index();
            if (tx.free(received) < received)
            {
                // Copy mode transmits inside the kick: let the kernel drain tx before giving up on frames.
                xsk.kickTx();
                work += recycleCompleted();
            }
            final int sent = tx.reserveUpTo(received);
            if (sent > 0)
            {
                final int txIndex = tx.index();
                for (int i = 0; i < sent; i++)
                {
                    final long address = rx.descAddress(first + i);
                    final int length = rx.descLength(first + i);
                    if (swapMacs)
                    {
                        swapMacs(address);
                    }
                    tx.desc(txIndex + i, address, length, 0);
                }
                tx.submit(sent);
                txPackets += sent;
            }
            if (sent < received)
            {
                returnToFill(first + sent, received - sent);
                txDropped += received - sent;
            }
            rx.release(received);
            rxPackets += received;
            work += received;
        }
        if (xsk.txNeedsKick() && (received > 0 || tx.outstanding() > 0))
        {
            xsk.kickTx();
        }
        if (received == 0 && xsk.usesNeedWakeup() && fill.needsWakeup())
        {
            xsk.wakeupRx();
        }
        if (work > 0)
        {
            busyNs += System.nanoTime() - start;
        }
        return work;
    }

    private int recycleCompleted()
    {
        final int done = completion.peek(batch * 2);
        if (done == 0)
        {
            return 0;
        }
        while (fill.reserve(done) != done)
        {
            Thread.onSpinWait();
        }
        final int from = completion.index();
        final int to = fill.index();
        for (int i = 0; i < done; i++)
        {
            fill.address(to + i, completion.address(from + i));
        }
        completion.release(done);
        fill.submit(done);
        return done;
    }

    private void returnToFill(final int first, final int count)
    {
        while (fill.reserve(count) != count)
        {
            Thread.onSpinWait();
        }
        for (int i = 0; i < count; i++)
        {
            fill.address(fill.index() + i, rx.descAddress(first + i));
        }
        fill.submit(count);
    }

    private void swapMacs(final long address)
    {
        final int dst0 = umem.get(JAVA_INT_UNALIGNED, address);
        final short dst1 = umem.get(JAVA_SHORT_UNALIGNED, address + 4);
        umem.set(JAVA_INT_UNALIGNED, address, umem.get(JAVA_INT_UNALIGNED, address + 6));
        umem.set(JAVA_SHORT_UNALIGNED, address + 4, umem.get(JAVA_SHORT_UNALIGNED, address + 10));
        umem.set(JAVA_INT_UNALIGNED, address + 6, dst0);
        umem.set(JAVA_SHORT_UNALIGNED, address + 10, dst1);
    }

    @Override
    public String roleName()
    {
        return "xdp-reflector-q" + xsk.queue();
    }

    public long rxPackets()
    {
        return rxPackets;
    }

    public long txPackets()
    {
        return txPackets;
    }

    public long txDropped()
    {
        return txDropped;
    }

    public long busyNs()
    {
        return busyNs;
    }
}
