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
        if (awaitingHead && timer == null && msg instanceof ByteBuf buf && buf.isReadable())
        {
            timer = ctx.executor().schedule(this::fire, timeoutNanos, TimeUnit.NANOSECONDS);
        }
        ctx.fireChannelRead(msg);
    }

    /** The head is complete: stop the clock until the next request. */
    void headComplete()
    {
        awaitingHead = false;
        cancel();
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
        if (awaitingHead && ctx.channel().isActive())
        {
            onTimeout.run();
        }
    }

    private void cancel()
    {
        if (timer != null)
        {
            timer.cancel(false);
            timer = null;
        }
    }
}
