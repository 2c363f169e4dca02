package io.sluice.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc calls sluice needs, as Panama downcall handles with {@code errno} captured by the linker
 * ({@link Linker.Option#captureCallState}), so no thread-local errno is ever read after another call clobbered it.
 * <p>
 * Every method returns the call's result, or {@code -errno} when the call failed: no exception, no allocation,
 * usable on the data path. Setup code turns a negative result into a {@link NativeException} with
 * {@link NativeException#check(int, String, String)}.
 * <p>
 * Pointers are passed as {@link MemorySegment}s; {@link MemorySegment#NULL} for NULL.
 */
public final class Libc
{
    // x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl); only x86_64 is built for.
    public static final long SYS_BPF = 321;
    public static final long SYS_IO_URING_SETUP = 425;
    public static final long SYS_IO_URING_ENTER = 426;
    public static final long SYS_IO_URING_REGISTER = 427;
    public static final long SYS_GETTID = 186;

    public static final int AF_UNIX = 1;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int AF_NETLINK = 16;
    public static final int AF_PACKET = 17;
    public static final int AF_XDP = 44;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_RAW = 3;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_SOCKET = 1;
    public static final int SO_RCVBUF = 8;
    public static final int SO_RCVTIMEO = 20;
    public static final int SO_BUSY_POLL = 46;
    public static final int SO_PREFER_BUSY_POLL = 69;
    public static final int SO_BUSY_POLL_BUDGET = 70;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_TRUNC = 0x20;

    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_POPULATE = 0x8000;
    public static final int MAP_HUGETLB = 0x40000;
    public static final int MAP_HUGE_2MB = 21 << 26;

    public static final int O_RDONLY = 0;
    public static final int O_CLOEXEC = 0x80000;
    public static final int CLONE_NEWNET = 0x40000000;

    public static final short POLLIN = 0x1;
    public static final short POLLOUT = 0x4;

    /** struct pollfd (poll.h): int fd; short events; short revents. */
    public static final StructLayout POLLFD = MemoryLayout.structLayout(
        JAVA_INT.withName("fd"), ValueLayout.JAVA_SHORT.withName("events"), ValueLayout.JAVA_SHORT.withName("revents"))
        .withName("pollfd");

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final ThreadLocal<MemorySegment> CAPTURE = ThreadLocal.withInitial(
        () -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    private static final MethodHandle SYSCALL = handle("syscall", FunctionDescriptor.of(JAVA_LONG,
        JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SOCKET = handle("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = handle("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT = handle("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SETSOCKOPT = handle("setsockopt",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = handle("getsockopt",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle MMAP = handle("mmap",
        FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = handle("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle SENDTO = handle("sendto",
        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVFROM = handle("recvfrom",
        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS));
    /** recvfrom with every pointer as a plain long: what the AF_XDP rx wakeup calls on the data path. */
    private static final MethodHandle RECVFROM_RAW = handle("recvfrom",
        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle SENDMSG = handle("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVMSG = handle("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle POLL = handle("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle IOCTL = handle("ioctl",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle SETNS = handle("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle OPEN = handle("open",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle READ = handle("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = handle("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle IF_NAMETOINDEX = handle("if_nametoindex", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle GETPID = LINKER.downcallHandle(
        LOOKUP.find("getpid").orElseThrow(), FunctionDescriptor.of(JAVA_INT));

    private Libc()
    {
    }

    private static MethodHandle handle(final String name, final FunctionDescriptor descriptor, final Linker.Option... extra)
    {
        final Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = CAPTURE_ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        final MemorySegment symbol = LOOKUP.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    private static MemorySegment capture()
    {
        return CAPTURE.get();
    }

    private static int errno(final MemorySegment capture)
    {
        return (int)ERRNO.get(capture, 0L);
    }

    private static int result(final int rc, final MemorySegment capture)
    {
        return rc == -1 ? -errno(capture) : rc;
    }

    private static long result(final long rc, final MemorySegment capture)
    {
        return rc == -1 ? -errno(capture) : rc;
    }

    private static RuntimeException rethrow(final Throwable t)
    {
        if (t instanceof RuntimeException re)
        {
            return re;
        }
        if (t instanceof Error e)
        {
            throw e;
        }
        return new IllegalStateException(t);
    }

    /** {@code long syscall(long number, ...)} with six argument registers; pointers as addresses. */
    public static long syscall(final long number, final long a1, final long a2, final long a3, final long a4, final long a5,
        final long a6)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((long)SYSCALL.invokeExact(cs, number, a1, a2, a3, a4, a5, a6), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static int socket(final int domain, final int type, final int protocol)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((int)SOCKET.invokeExact(cs, domain, type, protocol), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static int bind(final int fd, final MemorySegment address, final int length)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((int)BIND.invokeExact(cs, fd, address, length), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static int connect(final int fd, final MemorySegment address, final int length)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((int)CONNECT.invokeExact(cs, fd, address, length), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static int setsockopt(final int fd, final int level, final int name, final MemorySegment value, final int length)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((int)SETSOCKOPT.invokeExact(cs, fd, level, name, value, length), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    /** setsockopt with an int value; allocates a small confined segment (setup path only). */
    public static int setsockoptInt(final int fd, final int level, final int name, final int value)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment v = arena.allocate(JAVA_INT);
            v.set(JAVA_INT, 0, value);
            return setsockopt(fd, level, name, v, 4);
        }
    }

    /** @param length a segment holding a socklen_t that is read and updated by the kernel. */
    public static int getsockopt(final int fd, final int level, final int name, final MemorySegment value,
        final MemorySegment length)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((int)GETSOCKOPT.invokeExact(cs, fd, level, name, value, length), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    /** @return the mapped address, or -errno. */
    public static long mmap(final MemorySegment address, final long length, final int prot, final int flags, final int fd,
        final long offset)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((long)MMAP.invokeExact(cs, address, length, prot, flags, fd, offset), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static int munmap(final MemorySegment address, final long length)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((int)MUNMAP.invokeExact(cs, address, length), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static int close(final int fd)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((int)CLOSE.invokeExact(cs, fd), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static long sendto(final int fd, final MemorySegment buffer, final long length, final int flags,
        final MemorySegment address, final int addressLength)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((long)SENDTO.invokeExact(cs, fd, buffer, length, flags, address, addressLength), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static long recvfrom(final int fd, final MemorySegment buffer, final long length, final int flags,
        final MemorySegment address, final MemorySegment addressLength)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((long)RECVFROM.invokeExact(cs, fd, buffer, length, flags, address, addressLength), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    /**
     * {@code recvfrom(fd, NULL, 0, flags, NULL, NULL)}: a wakeup with no data. Declared with long-typed pointers because
     * the ADDRESS-typed variant was seen allocating 40 bytes a call on JDK 25 (see XskSocketTest no-allocation test).
     */
    public static long recvfromNoData(final int fd, final int flags)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((long)RECVFROM_RAW.invokeExact(cs, fd, 0L, 0L, flags, 0L, 0L), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static long sendmsg(final int fd, final MemorySegment msghdr, final int flags)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((long)SENDMSG.invokeExact(cs, fd, msghdr, flags), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static long recvmsg(final int fd, final MemorySegment msghdr, final int flags)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((long)RECVMSG.invokeExact(cs, fd, msghdr, flags), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static int poll(final MemorySegment pollfds, final long count, final int timeoutMs)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((int)POLL.invokeExact(cs, pollfds, count, timeoutMs), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static int ioctl(final int fd, final long request, final MemorySegment argument)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((int)IOCTL.invokeExact(cs, fd, request, argument), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    /** Move the calling OS thread into the namespace behind {@code fd} (see setns(2)). */
    public static int setns(final int fd, final int nsType)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((int)SETNS.invokeExact(cs, fd, nsType), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static int open(final String path, final int flags)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment cs = capture();
            return result((int)OPEN.invokeExact(cs, arena.allocateFrom(path), flags, 0), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static long read(final int fd, final MemorySegment buffer, final long length)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((long)READ.invokeExact(cs, fd, buffer, length), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static long write(final int fd, final MemorySegment buffer, final long length)
    {
        final MemorySegment cs = capture();
        try
        {
            return result((long)WRITE.invokeExact(cs, fd, buffer, length), cs);
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    /** @return the interface index in the calling thread's network namespace, or -errno (ENODEV when absent). */
    public static int ifNameToIndex(final String name)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment cs = capture();
            final int index = (int)IF_NAMETOINDEX.invokeExact(cs, arena.allocateFrom(name));
            return index == 0 ? -errno(cs) : index;
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    public static int getpid()
    {
        try
        {
            return (int)GETPID.invokeExact();
        }
        catch (final Throwable t)
        {
            throw rethrow(t);
        }
    }

    /** @return the kernel thread id of the calling thread. */
    public static int gettid()
    {
        return (int)syscall(SYS_GETTID, 0, 0, 0, 0, 0, 0);
    }

    /** eventfd2(2) (syscall_64.tbl) and its flags (uapi/linux/eventfd.h: the O_ values). */
    public static final long SYS_EVENTFD2 = 290;
    public static final int EFD_NONBLOCK = 0x800;
    public static final int EFD_CLOEXEC = 0x80000;

    /**
     * {@code eventfd2(initval, flags)}: a counter a thread can poll(2) on; an 8-byte write adds to it and makes it
     * readable, an 8-byte read returns and clears it.
     *
     * @return the fd, or -errno.
     */
    public static int eventfd(final int initialValue, final int flags)
    {
        return (int)syscall(SYS_EVENTFD2, initialValue, flags, 0, 0, 0, 0);
    }

    /** getpriority(2), sched_setattr(2) (syscall_64.tbl); PRIO_PROCESS (uapi/linux/resource.h); SCHED_OTHER (uapi/linux/sched.h). */
    public static final long SYS_GETPRIORITY = 140;
    public static final int PRIO_PROCESS = 0;
    public static final long SYS_SCHED_SETATTR = 314;
    public static final int SCHED_OTHER = 0;
    /** The first (and smallest) sched_attr the kernel accepts: no utilization clamps (uapi/linux/sched/types.h). */
    public static final int SCHED_ATTR_SIZE_VER0 = 48;
    /** EEVDF's bounds on a requested slice (kernel/sched/syscalls.c clamps sched_runtime to 0.1 ms..100 ms). */
    public static final long MIN_SLICE_NANOS = 100_000L;
    public static final long MAX_SLICE_NANOS = 100_000_000L;

    /**
     * struct sched_attr as of SCHED_ATTR_SIZE_VER0, include/uapi/linux/sched/types.h
     * (https://github.com/torvalds/linux/blob/master/include/uapi/linux/sched/types.h). For SCHED_OTHER since Linux 6.12
     * {@code sched_runtime} is the requested EEVDF time slice in ns (0 = the default, {@code sched_base_slice}).
     */
    public static final StructLayout SCHED_ATTR = MemoryLayout.structLayout(
        JAVA_INT.withName("size"),
        JAVA_INT.withName("sched_policy"),
        JAVA_LONG.withName("sched_flags"),
        JAVA_INT.withName("sched_nice"),
        JAVA_INT.withName("sched_priority"),
        JAVA_LONG.withName("sched_runtime"),
        JAVA_LONG.withName("sched_deadline"),
        JAVA_LONG.withName("sched_period"))
        .withName("sched_attr");
    private static final long SCHED_ATTR_SIZE = offset("size");
    private static final long SCHED_ATTR_POLICY = offset("sched_policy");
    private static final long SCHED_ATTR_NICE = offset("sched_nice");
    private static final long SCHED_ATTR_RUNTIME = offset("sched_runtime");

    private static long offset(final String field)
    {
        return SCHED_ATTR.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    /**
     * {@code getpriority(PRIO_PROCESS, gettid())}: the calling thread's nice value. The raw syscall answers 20 - nice (1..40)
     * so that a nice value is never mistaken for -errno; this undoes that.
     *
     * @return -20..19, or {@code Integer.MIN_VALUE + errno} when the call failed (it does not for the calling thread).
     */
    public static int currentThreadNice()
    {
        return niceOf(gettid());
    }

    private static int niceOf(final int tid)
    {
        final long rc = syscall(SYS_GETPRIORITY, PRIO_PROCESS, tid, 0, 0, 0, 0);
        return rc < 0 ? Integer.MIN_VALUE + (int)-rc : 20 - (int)rc;
    }

    /**
     * Sets the calling thread's nice value and EEVDF time slice with one
     * {@code sched_setattr(gettid(), {SCHED_OTHER, nice, sched_runtime = sliceNanos}, 0)}: on Linux a thread id names one
     * thread, so only the calling thread changes. A shorter slice gives the thread an earlier virtual deadline, so on
     * wake-up it preempts the running task sooner (kernel commit "sched/eevdf: Allow shorter slices to wakeup-preempt"),
     * while its weight and so its CPU share stay what the nice value makes them. sched_setattr always sets both, hence:
     * <ul>
     * <li>nice 0 and slice 0: nothing to change, no syscall;</li>
     * <li>nice only: the slice goes to the kernel's default ({@code sched_base_slice}), what a thread that never asked has;</li>
     * <li>slice only: the thread's current nice (getpriority, one more syscall) is passed back unchanged.</li>
     * </ul>
     * A nice below the current one needs CAP_SYS_NICE (or RLIMIT_NICE), as with setpriority. The policy becomes
     * SCHED_OTHER: call it on a thread that is SCHED_OTHER (every JVM thread is unless changed). Setup path: allocates one
     * small confined segment.
     *
     * @param nice       -20..19; 0 = keep the thread's current one.
     * @param sliceNanos 0 = the kernel's default; else {@link #MIN_SLICE_NANOS}..{@link #MAX_SLICE_NANOS}.
     * @return 0, or -errno (-EINVAL for a nice or slice out of range, nothing changed; -EPERM for a nice the thread may not
     *     take; a kernel older than 6.12 accepts the call and ignores the slice).
     */
    public static int setCurrentThreadScheduling(final int nice, final long sliceNanos)
    {
        if (nice < -20 || nice > 19 || (sliceNanos != 0 && (sliceNanos < MIN_SLICE_NANOS || sliceNanos > MAX_SLICE_NANOS)))
        {
            return -Errno.EINVAL;
        }
        if (nice == 0 && sliceNanos == 0)
        {
            return 0;
        }
        final int tid = gettid();
        int schedNice = nice;
        if (nice == 0)
        {
            schedNice = niceOf(tid);
            if (schedNice < -20)
            {
                return -(schedNice - Integer.MIN_VALUE);
            }
        }
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment attr = arena.allocate(SCHED_ATTR);
            attr.set(JAVA_INT, SCHED_ATTR_SIZE, SCHED_ATTR_SIZE_VER0);
            attr.set(JAVA_INT, SCHED_ATTR_POLICY, SCHED_OTHER);
            attr.set(JAVA_INT, SCHED_ATTR_NICE, schedNice);
            attr.set(JAVA_LONG, SCHED_ATTR_RUNTIME, sliceNanos);
            return (int)syscall(SYS_SCHED_SETATTR, tid, attr.address(), 0, 0, 0, 0);
        }
    }

    /** futex(2) (syscall_64.tbl) and its shared (not {@code _PRIVATE}) operations, uapi/linux/futex.h. */
    public static final long SYS_FUTEX = 202;
    public static final int FUTEX_WAIT = 0;
    public static final int FUTEX_WAKE = 1;

    /**
     * {@code futex(uaddr, op, val, timeout, NULL, 0)}: an ordinary (not critical) downcall, since FUTEX_WAIT blocks.
     *
     * @param uaddr absolute address of a 4-byte aligned int.
     * @param op {@link #FUTEX_WAIT} or {@link #FUTEX_WAKE} (shared: a waiter in another process mapping the same file is
     *     reached).
     * @param val WAIT: the value the word must still hold to sleep; WAKE: how many waiters to wake at most.
     * @param timeout WAIT: address of a relative {@code struct timespec}, 0 for none; WAKE: 0.
     * @return WAIT: 0 when woken, else -errno (-EAGAIN the word differed, -ETIMEDOUT, -EINTR); WAKE: waiters woken.
     */
    public static long futex(final long uaddr, final int op, final int val, final long timeout)
    {
        return syscall(SYS_FUTEX, uaddr, op, val, timeout, 0, 0);
    }

    /** Close, ignoring the result: for cleanup paths where the fd is being abandoned anyway. */
    public static void closeQuietly(final int fd)
    {
        if (fd >= 0)
        {
            close(fd);
        }
    }

    /** @return true when the calling process has effective uid 0 (most AF_XDP/BPF/netlink writes need it). */
    public static boolean isRoot()
    {
        try
        {
            final String status = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/status"));
            for (final String line : status.split("\n"))
            {
                if (line.startsWith("Uid:"))
                {
                    final String[] parts = line.trim().split("\\s+");
                    return "0".equals(parts[2]);
                }
            }
        }
        catch (final java.io.IOException ignored)
        {
            // no /proc: treat as unprivileged
        }
        return false;
    }

    /** @return the number of possible CPUs (the size of per-CPU BPF map values), from /sys/devices/system/cpu/possible. */
    public static int possibleCpus()
    {
        try
        {
            final String text = java.nio.file.Files.readString(java.nio.file.Path.of("/sys/devices/system/cpu/possible")).trim();
            int count = 0;
            for (final String range : text.split(","))
            {
                final int dash = range.indexOf('-');
                if (dash < 0)
                {
                    count++;
                }
                else
                {
                    count += Integer.parseInt(range.substring(dash + 1)) - Integer.parseInt(range.substring(0, dash)) + 1;
                }
            }
            return count;
        }
        catch (final java.io.IOException ex)
        {
            return Runtime.getRuntime().availableProcessors();
        }
    }
}
