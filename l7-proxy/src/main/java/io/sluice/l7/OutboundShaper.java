package io.sluice.l7;

import java.util.concurrent.TimeUnit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

/**
 * Holds a client connection's outbound bytes to its listener's and load balancer's peaks ({@link OutboundPeak}). It sits
 * just above the {@link ByteMeter}, under TLS and HTTP/2, so it paces what crosses the wire. Each write books its bytes
 * in every peak; one that must wait is held in a per-connection FIFO. Once the FIFO holds about 50 ms of the rate
 * (4–64 KiB) the connection is marked unwritable (a user-defined writability bit), which is what every proxying path
 * already obeys: the frontend reads the backend again only while the client connection is writable, a tunnel only once
 * its previous write completed. So the backend is slowed at its read, and a connection holds at most that much plus what
 * it wrote before it saw the bit (one backend read, ≤ 64 KiB, plus framing), never an unbounded queue. When the head's
 * time comes an event-loop timer writes what is due and flushes; below half the pause mark the connection turns writable
 * again, which resumes the backend read.
 * <p>
 * A close asked for while bytes are held waits for them (they were written before it). Bytes still held when the
 * connection goes away are released, their promises failed and their booking refunded. Without a peak the handler is a
 * pass-through costing one volatile read per write. Counters (per listener): {@code l7.bandwidth.delayed_writes},
 * {@code l7.bandwidth.delayed_bytes}, {@code l7.bandwidth.delay_micros} (sum of the waits), {@code
 * l7.bandwidth.held_bytes} (held now, all connections).
 */
final class OutboundShaper extends ChannelDuplexHandler
{
    /** Netty's own traffic shapers use bits 1–3; ours is separate so both could coexist. */
    static final int WRITABILITY_BIT = 5;
    /** Releases a held write this early rather than sleeping again for less: timer slack on a busy box. */
    private static final long EARLY_NS = TimeUnit.MICROSECONDS.toNanos(200);
    private static final int INITIAL_CAPACITY = 8;
    /** A connection holds this much of its slowest peak's rate before it pauses the backend read, within the bounds below. */
    private static final long PAUSE_AFTER_NS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long MIN_PAUSE_BYTES = 4 * 1024;
    private static final long MAX_PAUSE_BYTES = 64 * 1024;

    private final ListenerRuntime runtime;
    private Object[] messages = new Object[INITIAL_CAPACITY];
    private ChannelPromise[] promises = new ChannelPromise[INITIAL_CAPACITY];
    private long[] releaseAtNs = new long[INITIAL_CAPACITY];
    private long[] sizes = new long[INITIAL_CAPACITY];
    private OutboundPeak[][] bookedIn = new OutboundPeak[INITIAL_CAPACITY][];
    private int head;
    private int count;
    private long heldBytes;
    private ChannelHandlerContext context;
    private ScheduledFuture<?> timer;
    private ChannelPromise pendingClose;
    private long pauseBytes = MAX_PAUSE_BYTES;
    private boolean paused;
    private final Runnable release = this::releaseDue;

    OutboundShaper(final ListenerRuntime runtime)
    {
        this.runtime = runtime;
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx)
    {
        context = ctx;
    }

    @Override
    public void write(final ChannelHandlerContext ctx, final Object msg, final ChannelPromise promise)
    {
        final OutboundPeak[] peaks = runtime.outboundPeaks;
        if (peaks.length == 0 && count == 0)
        {
            ctx.write(msg, promise);
            return;
        }
        final long bytes = sizeOf(msg);
        final long now = System.nanoTime();
        long wait = 0;
        for (final OutboundPeak peak : peaks)
        {
            wait = Math.max(wait, peak.reserve(now, bytes));
        }
        if (wait == 0 && count == 0)
        {
            ctx.write(msg, promise);
            return;
        }
        final long releaseAt = count == 0 ? now + wait : Math.max(now + wait, releaseAtNs[index(count - 1)]);
        hold(msg, promise, releaseAt, bytes, peaks);
        final ListenerCounters counters = runtime.counters;
        counters.delayedWrites.increment();
        counters.delayedBytes.getAndAdd(bytes);
        counters.delayMicros.getAndAdd(TimeUnit.NANOSECONDS.toMicros(releaseAt - now));
        if (count == 1)
        {
            schedule(ctx, releaseAt - now);
        }
        if (!paused && heldBytes >= pauseBytes(peaks))
        {
            paused = true;
            setWritable(ctx, false);
        }
    }

    @Override
    public void close(final ChannelHandlerContext ctx, final ChannelPromise promise)
    {
        if (count > 0 && ctx.channel().isActive())
        {
            // what was written before the close leaves first
            if (pendingClose == null)
            {
                pendingClose = promise;
            }
            else
            {
                ctx.channel().closeFuture().addListener(f -> promise.trySuccess());
            }
            return;
        }
        ctx.close(promise);
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx)
    {
        discardAll();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx)
    {
        discardAll();
    }

    private void releaseDue()
    {
        timer = null;
        final ChannelHandlerContext ctx = context;
        final long now = System.nanoTime();
        boolean wrote = false;
        while (count > 0 && releaseAtNs[head] - EARLY_NS <= now)
        {
            final int i = head;
            final Object msg = messages[i];
            final ChannelPromise promise = promises[i];
            final long bytes = sizes[i];
            clear(i);
            head = (head + 1) % messages.length;
            count--;
            heldBytes -= bytes;
            runtime.counters.heldBytes.getAndAdd(-bytes);
            ctx.write(msg, promise);
            wrote = true;
        }
        if (wrote)
        {
            ctx.flush();
        }
        if (paused && heldBytes <= pauseBytes / 2)
        {
            // hysteresis: the backend read resumes with room for a few reads before the next pause
            paused = false;
            setWritable(ctx, true);
        }
        if (count > 0)
        {
            schedule(ctx, releaseAtNs[head] - now);
        }
        else if (pendingClose != null)
        {
            final ChannelPromise close = pendingClose;
            pendingClose = null;
            ctx.close(close);
        }
    }

    /**
     * How much a connection may hold before the backend read pauses: about 50 ms of its slowest peak, so the next bytes
     * are already waiting when a timer fires (a connection that paused at the first held byte needs a timer, a
     * writability event and a backend read per write, which a loaded event loop cannot always turn round in time), and
     * at most 64 KiB, so a connection never holds more than that plus one backend read.
     */
    private long pauseBytes(final OutboundPeak[] peaks)
    {
        long slowest = Long.MAX_VALUE;
        for (final OutboundPeak peak : peaks)
        {
            slowest = Math.min(slowest, peak.bytesPerSecond());
        }
        final long bytes = slowest == Long.MAX_VALUE ? MAX_PAUSE_BYTES : slowest * PAUSE_AFTER_NS / 1_000_000_000L;
        pauseBytes = Math.max(MIN_PAUSE_BYTES, Math.min(MAX_PAUSE_BYTES, bytes));
        return pauseBytes;
    }

    private void hold(final Object msg, final ChannelPromise promise, final long releaseAt, final long bytes,
        final OutboundPeak[] peaks)
    {
        if (count == messages.length)
        {
            grow();
        }
        final int i = index(count);
        messages[i] = msg;
        promises[i] = promise;
        releaseAtNs[i] = releaseAt;
        sizes[i] = bytes;
        bookedIn[i] = peaks;
        count++;
        heldBytes += bytes;
        runtime.counters.heldBytes.getAndAdd(bytes);
    }

    private void discardAll()
    {
        if (timer != null)
        {
            timer.cancel(false);
            timer = null;
        }
        final IllegalStateException closed = count == 0 ? null : new IllegalStateException("connection closed");
        while (count > 0)
        {
            final int i = head;
            final Object msg = messages[i];
            final ChannelPromise promise = promises[i];
            for (final OutboundPeak peak : bookedIn[i])
            {
                peak.refund(sizes[i]);
            }
            runtime.counters.heldBytes.getAndAdd(-sizes[i]);
            heldBytes -= sizes[i];
            clear(i);
            head = (head + 1) % messages.length;
            count--;
            ReferenceCountUtil.release(msg);
            promise.tryFailure(closed);
        }
        if (pendingClose != null)
        {
            final ChannelPromise close = pendingClose;
            pendingClose = null;
            context.close(close);
        }
    }

    private void schedule(final ChannelHandlerContext ctx, final long delayNs)
    {
        timer = ctx.executor().schedule(release, Math.max(0, delayNs), TimeUnit.NANOSECONDS);
    }

    private static void setWritable(final ChannelHandlerContext ctx, final boolean writable)
    {
        final io.netty.channel.ChannelOutboundBuffer buffer = ctx.channel().unsafe().outboundBuffer();
        if (buffer != null)
        {
            buffer.setUserDefinedWritability(WRITABILITY_BIT, writable);
        }
    }

    private void clear(final int i)
    {
        messages[i] = null;
        promises[i] = null;
        bookedIn[i] = null;
    }

    private int index(final int offset)
    {
        return (head + offset) % messages.length;
    }

    private void grow()
    {
        final int capacity = messages.length * 2;
        final Object[] newMessages = new Object[capacity];
        final ChannelPromise[] newPromises = new ChannelPromise[capacity];
        final long[] newRelease = new long[capacity];
        final long[] newSizes = new long[capacity];
        final OutboundPeak[][] newBooked = new OutboundPeak[capacity][];
        for (int k = 0; k < count; k++)
        {
            final int i = index(k);
            newMessages[k] = messages[i];
            newPromises[k] = promises[i];
            newRelease[k] = releaseAtNs[i];
            newSizes[k] = sizes[i];
            newBooked[k] = bookedIn[i];
        }
        messages = newMessages;
        promises = newPromises;
        releaseAtNs = newRelease;
        sizes = newSizes;
        bookedIn = newBooked;
        head = 0;
    }

    private static long sizeOf(final Object msg)
    {
        if (msg instanceof ByteBuf buf)
        {
            return buf.readableBytes();
        }
        if (msg instanceof ByteBufHolder holder)
        {
            return holder.content().readableBytes();
        }
        if (msg instanceof FileRegion region)
        {
            return region.count() - region.transferred();
        }
        return 0;
    }
}
