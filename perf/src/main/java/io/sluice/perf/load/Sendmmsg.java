package io.sluice.perf.load;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * The minimal libc binding the UDP generator needs: socket(2), sendmmsg(2), close(2). Calls
 * return {@code -errno} instead of throwing, so the send loop stays allocation-free.
 */
final class Sendmmsg
{
    static final int AF_INET = 2;
    static final int SOCK_DGRAM = 2;
    static final int EAGAIN = 11;
    static final int ENOBUFS = 105;

    /** struct iovec, include/uapi/linux/uio.h. */
    static final GroupLayout IOVEC = MemoryLayout.structLayout(
        ValueLayout.ADDRESS.withName("iov_base"),
        ValueLayout.JAVA_LONG.withName("iov_len")).withName("iovec");

    /** struct msghdr (user ABI), include/linux/socket.h: 56 bytes on x86-64. */
    static final GroupLayout MSGHDR = MemoryLayout.structLayout(
        ValueLayout.ADDRESS.withName("msg_name"),
        ValueLayout.JAVA_INT.withName("msg_namelen"),
        MemoryLayout.paddingLayout(4),
        ValueLayout.ADDRESS.withName("msg_iov"),
        ValueLayout.JAVA_LONG.withName("msg_iovlen"),
        ValueLayout.ADDRESS.withName("msg_control"),
        ValueLayout.JAVA_LONG.withName("msg_controllen"),
        ValueLayout.JAVA_INT.withName("msg_flags"),
        MemoryLayout.paddingLayout(4)).withName("msghdr");

    /** struct mmsghdr, include/linux/socket.h: a msghdr and the byte count the kernel writes back. */
    static final GroupLayout MMSGHDR = MemoryLayout.structLayout(
        MSGHDR.withName("msg_hdr"),
        ValueLayout.JAVA_INT.withName("msg_len"),
        MemoryLayout.paddingLayout(4)).withName("mmsghdr");

    /** struct sockaddr_in, include/uapi/linux/in.h: family in host order, port and address big-endian. */
    static final GroupLayout SOCKADDR_IN = MemoryLayout.structLayout(
        ValueLayout.JAVA_SHORT.withName("sin_family"),
        ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN).withName("sin_port"),
        ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN).withName("sin_addr"),
        MemoryLayout.paddingLayout(8)).withName("sockaddr_in");

    static final VarHandle IOV_BASE = IOVEC.varHandle(groupElement("iov_base"));
    static final VarHandle IOV_LEN = IOVEC.varHandle(groupElement("iov_len"));
    static final VarHandle MSG_NAME = MMSGHDR.varHandle(groupElement("msg_hdr"), groupElement("msg_name"));
    static final VarHandle MSG_NAMELEN = MMSGHDR.varHandle(groupElement("msg_hdr"), groupElement("msg_namelen"));
    static final VarHandle MSG_IOV = MMSGHDR.varHandle(groupElement("msg_hdr"), groupElement("msg_iov"));
    static final VarHandle MSG_IOVLEN = MMSGHDR.varHandle(groupElement("msg_hdr"), groupElement("msg_iovlen"));
    static final VarHandle SIN_FAMILY = SOCKADDR_IN.varHandle(groupElement("sin_family"));
    static final VarHandle SIN_PORT = SOCKADDR_IN.varHandle(groupElement("sin_port"));
    static final VarHandle SIN_ADDR = SOCKADDR_IN.varHandle(groupElement("sin_addr"));

    private static final MethodHandle SOCKET;
    private static final MethodHandle SENDMMSG;
    private static final MethodHandle CLOSE;
    private static final VarHandle ERRNO;
    private static final long STATE_SIZE;

    static
    {
        final Linker linker = Linker.nativeLinker();
        final Linker.Option errno = Linker.Option.captureCallState("errno");
        ERRNO = Linker.Option.captureStateLayout().varHandle(groupElement("errno"));
        STATE_SIZE = Linker.Option.captureStateLayout().byteSize();
        SOCKET = linker.downcallHandle(linker.defaultLookup().find("socket").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), errno);
        SENDMMSG = linker.downcallHandle(linker.defaultLookup().find("sendmmsg").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT), errno);
        CLOSE = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }

    private final MemorySegment callState;

    Sendmmsg(final Arena arena)
    {
        this.callState = arena.allocate(STATE_SIZE);
    }

    int socket(final int domain, final int type)
    {
        try
        {
            final int fd = (int)SOCKET.invokeExact(callState, domain, type, 0);
            return fd < 0 ? -errno() : fd;
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** Sends up to {@code count} messages starting at {@code vec}; returns how many went, or -errno. */
    int sendmmsg(final int fd, final MemorySegment vec, final int count)
    {
        try
        {
            final int sent = (int)SENDMMSG.invokeExact(callState, fd, vec, count, 0);
            return sent < 0 ? -errno() : sent;
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    static void close(final int fd)
    {
        try
        {
            final int ignored = (int)CLOSE.invokeExact(fd);
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private int errno()
    {
        return (int)ERRNO.get(callState, 0L);
    }
}
