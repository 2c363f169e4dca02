package io.sluice.nativeio.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A reusable {@code struct msghdr} (sys/socket.h) with one iovec and room for a sockaddr_in6, all in one segment, for
 * recvmsg/sendmsg on a datagram socket. Allocated once; per message only the iov length and the name length change.
 */
public final class MsgHdr
{
    /** struct msghdr on x86_64. */
    public static final StructLayout MSGHDR = MemoryLayout.structLayout(
        ADDRESS.withName("msg_name"), JAVA_INT.withName("msg_namelen"), MemoryLayout.paddingLayout(4),
        ADDRESS.withName("msg_iov"), JAVA_LONG.withName("msg_iovlen"), ADDRESS.withName("msg_control"),
        JAVA_LONG.withName("msg_controllen"), JAVA_INT.withName("msg_flags"), MemoryLayout.paddingLayout(4)).withName("msghdr");
    /** struct iovec. */
    public static final StructLayout IOVEC = MemoryLayout.structLayout(ADDRESS.withName("iov_base"), JAVA_LONG.withName("iov_len"))
        .withName("iovec");
    static final int SOCKADDR_STORAGE = 28;

    private final MemorySegment msghdr;
    private final MemorySegment iov;
    private final MemorySegment name;
    private final MemorySegment buffer;

    public MsgHdr(final Arena arena, final int bufferSize)
    {
        msghdr = arena.allocate(MSGHDR);
        iov = arena.allocate(IOVEC);
        name = arena.allocate(SOCKADDR_STORAGE, 8);
        buffer = arena.allocate(bufferSize, 64);
        msghdr.set(ADDRESS, 0, name);
        msghdr.set(ADDRESS, 16, iov);
        msghdr.set(JAVA_LONG, 24, 1);
        iov.set(ADDRESS, 0, buffer);
        reset();
    }

    /** Prepare for a receive: whole buffer, whole name area. */
    public MsgHdr reset()
    {
        msghdr.set(JAVA_INT, 8, SOCKADDR_STORAGE);
        iov.set(JAVA_LONG, 8, buffer.byteSize());
        msghdr.set(JAVA_INT, 48, 0);
        return this;
    }

    /** Prepare to send {@code length} bytes of the buffer to the name as it is (e.g. the sender just received from). */
    public MsgHdr length(final int length)
    {
        iov.set(JAVA_LONG, 8, length);
        return this;
    }

    public MemorySegment segment()
    {
        return msghdr;
    }

    public MemorySegment buffer()
    {
        return buffer;
    }

    /** Set the destination (control path: reads the InetSocketAddress). */
    public MsgHdr name(final InetSocketAddress address)
    {
        msghdr.set(JAVA_INT, 8, writeSockaddr(name, address));
        return this;
    }

    /** @return the address in the name area (after a receive). Allocates: for tests and the control path. */
    public InetSocketAddress name()
    {
        return readSockaddr(name);
    }

    /** Write a sockaddr_in or sockaddr_in6 for {@code address}; returns its length. */
    public static int writeSockaddr(final MemorySegment target, final InetSocketAddress address)
    {
        target.fill((byte)0);
        final InetAddress ip = address.getAddress();
        final int port = address.getPort();
        target.set(JAVA_BYTE, 2, (byte)(port >>> 8));
        target.set(JAVA_BYTE, 3, (byte)port);
        final byte[] raw = ip.getAddress();
        if (ip instanceof Inet4Address)
        {
            target.set(JAVA_SHORT, 0, (short)io.sluice.nativeio.Libc.AF_INET);
            MemorySegment.copy(raw, 0, target, JAVA_BYTE, 4, 4);
            return 16;
        }
        target.set(JAVA_SHORT, 0, (short)io.sluice.nativeio.Libc.AF_INET6);
        MemorySegment.copy(raw, 0, target, JAVA_BYTE, 8, 16);
        return 28;
    }

    public static InetSocketAddress readSockaddr(final MemorySegment source)
    {
        final int family = source.get(JAVA_SHORT, 0);
        final int port = (Byte.toUnsignedInt(source.get(JAVA_BYTE, 2)) << 8) | Byte.toUnsignedInt(source.get(JAVA_BYTE, 3));
        try
        {
            final byte[] raw = family == io.sluice.nativeio.Libc.AF_INET
                ? source.asSlice(4, 4).toArray(JAVA_BYTE) : source.asSlice(8, 16).toArray(JAVA_BYTE);
            return new InetSocketAddress(InetAddress.getByAddress(raw), port);
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
