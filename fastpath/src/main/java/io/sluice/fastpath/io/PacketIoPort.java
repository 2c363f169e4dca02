package io.sluice.fastpath.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import io.sluice.fastpath.PacketPort;
import io.sluice.nativeio.packet.PacketIo;

/**
 * A forwarder's {@link PacketPort} over native-bindings' {@link PacketIo}: AF_XDP ({@code XskPacketIo}, one socket
 * per rx queue) where XDP attaches, AF_PACKET where it cannot. Each received frame is viewed in place (UMEM or packet
 * ring) through one reused {@link UnsafeBuffer}, rewritten by the forwarder and queued for transmission as a copy into a
 * tx frame ({@code PacketIo.send}); the batch is flushed once per poll. Copy mode is what veths give anyway; driving the
 * XSK rings directly would save the copy on NICs with zero-copy support.
 */
public final class PacketIoPort implements PacketPort, AutoCloseable
{
    private static final int MAX_FRAME = 16 * 1024;

    private final PacketIo io;
    private final long mac;
    private final UnsafeBuffer view = new UnsafeBuffer(new byte[0]);
    private final Arena arena = Arena.ofShared();
    private final MemorySegment scratch = arena.allocate(MAX_FRAME, 64);
    private final UnsafeBuffer scratchBuffer = new UnsafeBuffer(scratch.address(), MAX_FRAME);
    private final io.sluice.nativeio.packet.FrameHandler onReceive = this::onReceive;
    private FrameHandler handler;
    private int queued;
    private long txFull;
    private long flushErrors;

    /**
     * @param io  the frame I/O of one queue (owned by this port from now on: {@link #close()} closes it).
     * @param mac the interface's MAC address (low 48 bits), the source MAC of everything sent.
     */
    public PacketIoPort(final PacketIo io, final long mac)
    {
        this.io = io;
        this.mac = mac;
    }

    @Override
    public int poll(final FrameHandler frameHandler, final int limit)
    {
        handler = frameHandler;
        final int received = io.receive(onReceive, limit);
        // Also after a refused send: the tx ring may be full of frames whose kick failed (EAGAIN under load); without
        // another flush (kick + reap) nothing would ever free it and every later send would fail.
        if (queued > 0 || txStalled)
        {
            if (io.flush() < 0)
            {
                flushErrors++;
            }
            queued = 0;
            txStalled = false;
        }
        return received;
    }

    @Override
    public boolean send(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length > MAX_FRAME)
        {
            return false;
        }
        scratchBuffer.putBytes(0, buffer, offset, length);
        if (!io.send(scratch, 0, length))
        {
            txFull++;
            txStalled = true;
            return false;
        }
        queued++;
        return true;
    }

    @Override
    public long macAddress()
    {
        return mac;
    }

    /** Frames the forwarder wanted sent but the tx ring had no room for. */
    public long txFull()
    {
        return txFull;
    }

    public long flushErrors()
    {
        return flushErrors;
    }

    @Override
    public void close()
    {
        io.close();
        arena.close();
    }

    /** MAC from the six bytes netlink reports. */
    public static long mac(final byte[] bytes)
    {
        long value = 0;
        for (int i = 0; i < 6; i++)
        {
            value = (value << 8) | (bytes[i] & 0xFF);
        }
        return value;
    }

    private boolean txStalled;

    private void onReceive(final MemorySegment memory, final long offset, final int length)
    {
        view.wrap(memory.address() + offset, length);
        final int out = handler.onFrame(view, 0, length);
        if (out >= 0)
        {
            if (io.send(memory, offset, out))
            {
                queued++;
            }
            else
            {
                txFull++;
                txStalled = true;
            }
        }
    }
}
