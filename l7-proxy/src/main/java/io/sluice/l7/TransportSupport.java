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
import io.sluice.nativeio.ThreadScheduling;

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
        return newGroup(threads, name, 0);
    }

    /**
     * @param sliceNanos EEVDF time slice each event loop thread asks for as it starts ({@link ThreadScheduling}; no nice: an
     *                   event loop nice measured worse in session 6); 0 leaves the kernel's default.
     */
    MultiThreadIoEventLoopGroup newGroup(final int threads, final String name, final long sliceNanos)
    {
        final ThreadScheduling scheduling = new ThreadScheduling(0, sliceNanos);
        final DefaultThreadFactory factory = scheduling.isDefault() ? new DefaultThreadFactory(name, true)
            : new ScheduledThreadFactory(name, scheduling);
        return new MultiThreadIoEventLoopGroup(threads, factory, ioHandlerFactory);
    }

    /**
     * Event loop threads that apply their scheduling (a short time slice) before they run their loop: a loop woken by a
     * completion then preempts a busier thread sooner, with its CPU share unchanged (docs/l7-proxy.md "Session 5: time
     * slice"). Applied by the thread itself; refused, warned once for the group, and the loop runs anyway.
     */
    private static final class ScheduledThreadFactory extends DefaultThreadFactory
    {
        private final ThreadScheduling scheduling;

        ScheduledThreadFactory(final String name, final ThreadScheduling scheduling)
        {
            super(name, true);
            this.scheduling = scheduling;
        }

        @Override
        protected Thread newThread(final Runnable r, final String name)
        {
            return super.newThread(() ->
            {
                scheduling.applyToCurrentThread();
                r.run();
            }, name);
        }
    }
}
