package io.sluice.l7;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

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
    /** Set while a head is being read. */
    private final LazyDeadline deadline;

    HeaderTimeoutHandler(final long timeoutNanos, final Runnable onTimeout)
    {
        this.timeoutNanos = timeoutNanos;
        this.onTimeout = onTimeout;
        this.deadline = new LazyDeadline(this::expired);
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx)
    {
        deadline.attach(ctx);
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        if (awaitingHead && !deadline.isSet() && msg instanceof ByteBuf buf && buf.isReadable())
        {
            deadline.restart(timeoutNanos);
        }
        ctx.fireChannelRead(msg);
    }

    /** The head is complete: stop the clock until the next request. */
    void headComplete()
    {
        awaitingHead = false;
        deadline.clear();
    }

    /** The previous exchange is done: the next byte starts the clock again. */
    void awaitNextHead()
    {
        awaitingHead = true;
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx)
    {
        deadline.cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx)
    {
        deadline.cancel();
    }

    private void expired()
    {
        if (awaitingHead)
        {
            onTimeout.run();
        }
    }
}
