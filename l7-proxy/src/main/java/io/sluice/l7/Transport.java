package io.sluice.l7;

/** The Netty transport the proxy's event loops run on. io_uring is the default on Linux; epoll and NIO are fallbacks. */
public enum Transport
{
    IO_URING,
    EPOLL,
    NIO
}
