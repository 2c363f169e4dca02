package io.sluice.nativeio;

import io.sluice.nativeio.uring.MsgHdr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetSocketAddress;

/** Plain kernel sockets as raw fds, for io_uring and the session-sync path (setup calls: they throw). */
public final class Sockets
{
    private Sockets()
    {
    }

    /** @return a UDP socket bound to {@code address}, in the calling thread's network namespace. */
    public static int bindUdp(final InetSocketAddress address)
    {
        final int family = address.getAddress() instanceof Inet4Address ? Libc.AF_INET : Libc.AF_INET6;
        final int fd = NativeException.check(Libc.socket(family, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0), "socket(UDP)", null);
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment sockaddr = arena.allocate(28, 8);
            final int length = MsgHdr.writeSockaddr(sockaddr, address);
            NativeException.check(Libc.bind(fd, sockaddr, length), "bind(" + address + ")", "is the address on an interface here?");
            return fd;
        }
        catch (final RuntimeException ex)
        {
            Libc.close(fd);
            throw ex;
        }
    }
}
