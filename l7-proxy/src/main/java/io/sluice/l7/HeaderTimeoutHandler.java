package io.sluice.l7;

import java.util.concurrent.TimeUnit;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;

/**
 * Slowloris guard, first in the client pipeline: the clock starts at the first byte of a request and stops when
 * {@link FrontendHandler} has the complete head. A head that takes longer than {@code headerTimeoutSeconds} gets 408 and the
 * connection is closed. Keep-alive connections waiting for their next request are not timed here (the idle timeout is).
 */
final class HeaderTimeoutHandler extends ChannelInboundHandlerAdapter
{
    private final long timeoutNanos;
    private final Runnable onTimeout;
    private boolean awaitingHead = true;
    /** When the head being read must be complete; 0 while no head is being read. */
    private long deadlineNanos;
    /**
     * One lazily re-armed task per connection rather than a schedule and a cancel per request: when it fires it re-arms
     * for whatever is left of the current deadline, or lapses when no head is being read.
     */
    private ScheduledFuture<?> timer;
    private ChannelHandlerContext ctx;

    HeaderTimeoutHandler(final long timeoutNanos, final Runnable onTimeout)
    {
        this.timeoutNanos = timeoutNanos;
        this.onTimeout = onTimeout;
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx)
    {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        if (awaitingHead && deadlineNanos == 0 && msg instanceof ByteBuf buf && buf.isReadable())
        {
            deadlineNanos = ctx.executor().ticker().nanoTime() + timeoutNanos;
            if (timer == null)
            {
                timer = ctx.executor().schedule(this::fire, timeoutNanos, TimeUnit.NANOSECONDS);
            }
        }
        ctx.fireChannelRead(msg);
    }

    /** The head is complete: stop the clock until the next request. */
    void headComplete()
    {
        awaitingHead = false;
        deadlineNanos = 0;
    }

    /** The previous exchange is done: the next byte starts the clock again. */
    void awaitNextHead()
    {
        awaitingHead = true;
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx)
    {
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx)
    {
        cancel();
    }

    private void fire()
    {
        timer = null;
        if (deadlineNanos == 0 || !ctx.channel().isActive())
        {
            return;
        }
        final long remainingNanos = deadlineNanos - ctx.executor().ticker().nanoTime();
        if (remainingNanos > 0)
        {
            timer = ctx.executor().schedule(this::fire, remainingNanos, TimeUnit.NANOSECONDS);
            return;
        }
        deadlineNanos = 0;
        if (awaitingHead)
        {
            onTimeout.run();
        }
    }

    private void cancel()
    {
        deadlineNanos = 0;
        if (timer != null)
        {
            timer.cancel(false);
            timer = null;
        }
    }
}
