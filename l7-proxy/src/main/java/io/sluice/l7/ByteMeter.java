package io.sluice.l7;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * First handler of a client connection: counts the bytes that cross the client socket each way (TLS records and HTTP/2
 * frames included) into the listener's {@code l7.bytes_out} / {@code l7.bytes_in}. Sums are kept per connection and
 * added to the shared counters once per flush and once per read batch, so a response of many pieces costs one atomic add,
 * not one per piece.
 */
final class ByteMeter extends ChannelDuplexHandler
{
    private final AtomicCounter bytesOut;
    private final AtomicCounter bytesIn;
    private long unpublishedOut;
    private long unpublishedIn;

    ByteMeter(final AtomicCounter bytesOut, final AtomicCounter bytesIn)
    {
        this.bytesOut = bytesOut;
        this.bytesIn = bytesIn;
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        if (msg instanceof ByteBuf buf)
        {
            unpublishedIn += buf.readableBytes();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(final ChannelHandlerContext ctx)
    {
        publishIn();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void write(final ChannelHandlerContext ctx, final Object msg, final ChannelPromise promise)
    {
        if (msg instanceof ByteBuf buf)
        {
            unpublishedOut += buf.readableBytes();
        }
        else if (msg instanceof ByteBufHolder holder)
        {
            unpublishedOut += holder.content().readableBytes();
        }
        ctx.write(msg, promise);
    }

    @Override
    public void flush(final ChannelHandlerContext ctx)
    {
        publishOut();
        ctx.flush();
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx)
    {
        publishIn();
        publishOut();
        ctx.fireChannelInactive();
    }

    private void publishIn()
    {
        if (unpublishedIn != 0)
        {
            bytesIn.getAndAdd(unpublishedIn);
            unpublishedIn = 0;
        }
    }

    private void publishOut()
    {
        if (unpublishedOut != 0)
        {
            bytesOut.getAndAdd(unpublishedOut);
            unpublishedOut = 0;
        }
    }
}
