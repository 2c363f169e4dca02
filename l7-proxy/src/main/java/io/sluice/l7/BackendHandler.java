package io.sluice.l7;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * Last handler of a backend connection. While the connection serves an exchange it hands the response to its
 * {@link FrontendHandler}; while it sits idle in the pool any input (other than the close) is unexpected and the connection
 * is dropped.
 */
final class BackendHandler extends ChannelInboundHandlerAdapter
{
    FrontendHandler frontend;
    final ServerState server;
    boolean reused;

    BackendHandler(final ServerState server)
    {
        this.server = server;
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        final FrontendHandler owner = frontend;
        if (owner == null)
        {
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        if (msg instanceof HttpResponse response)
        {
            owner.onResponseHead(ctx.channel(), response);
        }
        if (msg instanceof HttpContent content)
        {
            owner.onResponseContent(ctx.channel(), content);
        }
        else if (msg instanceof ByteBuf buf)
        {
            owner.onTunnelData(ctx.channel(), buf);
        }
    }

    @Override
    public void channelReadComplete(final ChannelHandlerContext ctx)
    {
        final FrontendHandler owner = frontend;
        if (owner != null)
        {
            owner.flushClient();
        }
    }

    @Override
    public void channelWritabilityChanged(final ChannelHandlerContext ctx)
    {
        final FrontendHandler owner = frontend;
        if (owner != null && ctx.channel().isWritable())
        {
            owner.onBackendWritable(ctx.channel());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelActive(final ChannelHandlerContext ctx)
    {
        server.openConnections.incrementAndGet();
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx)
    {
        server.openConnections.decrementAndGet();
        final FrontendHandler owner = frontend;
        if (owner != null)
        {
            owner.onBackendClosed(ctx.channel());
        }
    }

    @Override
    public void userEventTriggered(final ChannelHandlerContext ctx, final Object evt)
    {
        if (evt instanceof IdleStateEvent && frontend == null)
        {
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
    {
        ctx.close();
    }
}
