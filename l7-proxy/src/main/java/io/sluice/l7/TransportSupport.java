package io.sluice.l7;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/** Event loop group and channel classes for one {@link Transport}; availability probed once, with the cause. */
record TransportSupport(Transport transport, IoHandlerFactory ioHandlerFactory, Class<? extends ServerChannel> serverChannelClass,
    Class<? extends SocketChannel> socketChannelClass)
{
    static TransportSupport of(final Transport transport)
    {
        return switch (transport)
        {
            case IO_URING ->
            {
                if (!IoUring.isAvailable())
                {
                    throw new IllegalStateException("io_uring transport unavailable", IoUring.unavailabilityCause());
                }
                yield new TransportSupport(transport, IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class,
                    IoUringSocketChannel.class);
            }
            case EPOLL ->
            {
                if (!Epoll.isAvailable())
                {
                    throw new IllegalStateException("epoll transport unavailable", Epoll.unavailabilityCause());
                }
                yield new TransportSupport(transport, EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                    EpollSocketChannel.class);
            }
            case NIO -> new TransportSupport(transport, NioIoHandler.newFactory(), NioServerSocketChannel.class,
                NioSocketChannel.class);
        };
    }

    MultiThreadIoEventLoopGroup newGroup(final int threads, final String name)
    {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), ioHandlerFactory);
    }
}
