package io.sluice.nativeio.packet;

import io.sluice.nativeio.xdp.Umem;
import io.sluice.nativeio.xdp.XskRing;
import io.sluice.nativeio.xdp.XskSocket;

import java.lang.foreign.MemorySegment;

/**
 * {@link PacketIo} over one AF_XDP socket that owns its UMEM: the lower half of the frames cycles through the fill and
 * rx rings, the upper half is a free list for transmission, returned by the completion ring. {@link #send} copies
 * the frame into a free tx frame (forwarders that want zero copy drive the rings of {@link XskSocket} directly).
 */
public final class XskPacketIo implements PacketIo
{
    private final XskSocket xsk;
    private final Umem umem;
    private final MemorySegment memory;
    private final XskRing rx;
    private final XskRing tx;
    private final XskRing fill;
    private final XskRing completion;
    private final long[] freeTx;
    private int freeCount;
    private int queued;

    public XskPacketIo(final XskSocket xsk)
    {
        this.xsk = xsk;
        this.umem = xsk.umem();
        this.memory = umem.segment();
        this.rx = xsk.rx();
        this.tx = xsk.tx();
        this.fill = xsk.fill();
        this.completion = xsk.completion();
        final int rxFrames = Math.min(umem.frameCount() / 2, fill.size());
        if (fill.reserve(rxFrames) != rxFrames)
        {
            throw new IllegalStateException("fill ring refused " + rxFrames + " frames");
        }
        for (int i = 0; i < rxFrames; i++)
        {
            fill.address(fill.index() + i, umem.frameAddress(i));
        }
        fill.submit(rxFrames);
        freeTx = new long[umem.frameCount() - rxFrames];
        for (int i = rxFrames; i < umem.frameCount(); i++)
        {
            freeTx[freeCount++] = umem.frameAddress(i);
        }
    }

    @Override
    public int receive(final FrameHandler handler, final int limit)
    {
        final int n = rx.peek(limit);
        if (n == 0)
        {
            if (xsk.usesNeedWakeup() && fill.needsWakeup())
            {
                xsk.wakeupRx();
            }
            return 0;
        }
        final int first = rx.index();
        for (int i = 0; i < n; i++)
        {
            handler.onFrame(memory, rx.descAddress(first + i), rx.descLength(first + i));
        }
        // Every rx frame goes straight back to the fill ring: the ring can hold all of them.
        while (fill.reserve(n) != n)
        {
            Thread.onSpinWait();
        }
        for (int i = 0; i < n; i++)
        {
            fill.address(fill.index() + i, rx.descAddress(first + i));
        }
        rx.release(n);
        fill.submit(n);
        return n;
    }

    private void reapCompletions()
    {
        final int done = completion.peek(freeTx.length);
        for (int i = 0; i < done; i++)
        {
            freeTx[freeCount++] = completion.address(completion.index() + i);
        }
        if (done > 0)
        {
            completion.release(done);
        }
    }

    @Override
    public boolean send(final MemorySegment frame, final long offset, final int length)
    {
        if (length > umem.frameSize())
        {
            return false;
        }
        if (freeCount == 0)
        {
            reapCompletions();
            if (freeCount == 0)
            {
                return false;
            }
        }
        if (tx.reserve(1) != 1)
        {
            return false;
        }
        final long address = freeTx[--freeCount];
        MemorySegment.copy(frame, offset, memory, address, length);
        tx.desc(tx.index(), address, length, 0);
        queued++;
        return true;
    }

    @Override
    public int flush()
    {
        final int n = queued;
        if (n > 0)
        {
            tx.submit(n);
            queued = 0;
        }
        if (n > 0 || tx.outstanding() > 0)
        {
            if (xsk.txNeedsKick())
            {
                final int rc = xsk.kickTx();
                if (rc < 0 && rc != -io.sluice.nativeio.Errno.EAGAIN && rc != -io.sluice.nativeio.Errno.EBUSY
                    && rc != -io.sluice.nativeio.Errno.ENOBUFS)
                {
                    return rc;
                }
            }
        }
        reapCompletions();
        return n;
    }

    @Override
    public String kind()
    {
        return "af_xdp";
    }

    /** Closes the socket (not the UMEM: its owner closes it). */
    @Override
    public void close()
    {
        xsk.close();
    }
}
