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
import io.sluice.nativeio.Errno;
import io.sluice.nativeio.Libc;

import java.util.concurrent.atomic.AtomicBoolean;

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

    private static final System.Logger LOGGER = System.getLogger(TransportSupport.class.getName());

    MultiThreadIoEventLoopGroup newGroup(final int threads, final String name)
    {
        return newGroup(threads, name, 0);
    }

    /**
     * @param sliceNanos EEVDF time slice each event loop thread asks for as it starts ({@link Libc#setCurrentThreadSlice});
     *                   0 leaves the kernel's default.
     */
    MultiThreadIoEventLoopGroup newGroup(final int threads, final String name, final long sliceNanos)
    {
        final DefaultThreadFactory factory = sliceNanos == 0 ? new DefaultThreadFactory(name, true)
            : new SlicedThreadFactory(name, sliceNanos);
        return new MultiThreadIoEventLoopGroup(threads, factory, ioHandlerFactory);
    }

    /**
     * Event loop threads that ask for a short time slice before they run their loop: a loop woken by a completion then
     * preempts a busier thread sooner, with its CPU share unchanged (docs/l7-proxy.md "Session 5: time slice"). Applied by
     * the thread itself because sched_setattr on a thread id from outside would need the id first; refused once, warned
     * once, and the loop runs anyway.
     */
    private static final class SlicedThreadFactory extends DefaultThreadFactory
    {
        private final long sliceNanos;
        private final AtomicBoolean warned = new AtomicBoolean();

        SlicedThreadFactory(final String name, final long sliceNanos)
        {
            super(name, true);
            this.sliceNanos = sliceNanos;
        }

        @Override
        protected Thread newThread(final Runnable r, final String name)
        {
            return super.newThread(() ->
            {
                final int result = Libc.setCurrentThreadSlice(sliceNanos);
                if (result < 0 && warned.compareAndSet(false, true))
                {
                    LOGGER.log(System.Logger.Level.WARNING, "could not set a time slice of {0} ns for {1}: {2}",
                        sliceNanos, name, Errno.name(-result));
                }
                r.run();
            }, name);
        }
    }
}
