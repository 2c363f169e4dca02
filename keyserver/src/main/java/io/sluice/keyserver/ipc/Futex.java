package io.sluice.keyserver.ipc;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * futex(2) on a 32-bit word in a shared mapping, for wake-ups between processes (see futex(2) and
 * <a href="https://github.com/torvalds/linux/blob/master/include/uapi/linux/futex.h">linux/futex.h</a>).
 * <p>
 * Only the shared operations are used: {@code FUTEX_WAIT}/{@code FUTEX_WAKE} without {@code FUTEX_PRIVATE_FLAG}, which
 * the kernel keys by (inode, offset) of a file mapping, so a waiter in one process is woken by a waker in another that
 * mapped the same file (the private variants key by (mm, address) and would never match across processes).
 * <p>
 * Bound through libc's {@code syscall()} with every argument as a long (the variadic wrapper reads longs). The wake is
 * a critical downcall (no thread-state transition: it never blocks); the wait is an ordinary one, since it blocks and
 * the JVM must be able to reach a safepoint meanwhile. errno is not captured: every caller re-checks its condition
 * after a wait, so EAGAIN (word already changed), ETIMEDOUT and EINTR all mean the same thing, "look again".
 */
public final class Futex
{
    /** x86_64 (arch/x86/entry/syscalls/syscall_64.tbl); only x86_64 is built for. */
    static final long SYS_FUTEX = 202;
    static final long FUTEX_WAIT = 0;
    static final long FUTEX_WAKE = 1;
    /** struct timespec { long tv_sec; long tv_nsec; } (uapi/linux/time_types.h __kernel_timespec). */
    public static final long TIMESPEC_LENGTH = 16;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final FunctionDescriptor SYSCALL_6 = FunctionDescriptor.of(JAVA_LONG,
        JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MemorySegment SYSCALL = LINKER.defaultLookup().find("syscall")
        .orElseThrow(() -> new IllegalStateException("libc has no syscall()"));
    private static final MethodHandle WAIT = LINKER.downcallHandle(SYSCALL, SYSCALL_6, Linker.Option.firstVariadicArg(1));
    private static final MethodHandle WAKE = LINKER.downcallHandle(SYSCALL, SYSCALL_6, Linker.Option.firstVariadicArg(1),
        Linker.Option.critical(false));

    private Futex()
    {
    }

    /**
     * Sleep while the word at {@code address} holds {@code expected}, at most the relative timeout in {@code timespec}.
     * The kernel compares the word and queues the caller atomically with respect to {@link #wake}, so a wake after a
     * change of the word is never lost.
     *
     * @param address absolute address of a 4-byte aligned int in a shared mapping.
     * @param expected the value read before deciding to sleep.
     * @param timespec a {@link #TIMESPEC_LENGTH}-byte segment holding the relative timeout (see {@link #timeout}).
     * @return 0 when woken, -1 when the word differed, the timeout passed or a signal arrived.
     */
    public static long await(final long address, final int expected, final MemorySegment timespec)
    {
        try
        {
            return (long)WAIT.invokeExact(SYS_FUTEX, address, FUTEX_WAIT, (long)expected, timespec.address(), 0L, 0L);
        }
        catch (final Throwable t)
        {
            throw new IllegalStateException("futex wait", t);
        }
    }

    /**
     * Wake up to {@code count} waiters of the word at {@code address}.
     *
     * @param address absolute address of the word.
     * @param count how many waiters at most.
     * @return how many were woken (or -1 on error, e.g. the address is not mapped).
     */
    public static long wake(final long address, final int count)
    {
        try
        {
            return (long)WAKE.invokeExact(SYS_FUTEX, address, FUTEX_WAKE, (long)count, 0L, 0L, 0L);
        }
        catch (final Throwable t)
        {
            throw new IllegalStateException("futex wake", t);
        }
    }

    /**
     * Initialise the bindings and run both calls once on a private word, off the hot path. The first use of a downcall
     * handle generates its stubs: on a loaded 2-core VM that took long enough in a fresh key server (both workers
     * blocked on this class's initialisation) that its heartbeat went stale and a client declared it dead; a caller's
     * first request would likewise stall the proxy's event loop.
     */
    public static void warmUp()
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment word = arena.allocate(JAVA_LONG);
            final MemorySegment timespec = arena.allocate(TIMESPEC_LENGTH, 8);
            timeout(timespec, 1000);
            wake(word.address(), 1);
            // the word holds 0: returns at once (EAGAIN)
            await(word.address(), 1, timespec);
        }
    }

    /**
     * Fill a timespec with a relative timeout.
     *
     * @param timespec {@link #TIMESPEC_LENGTH} bytes.
     * @param timeoutNs nanoseconds (&gt; 0).
     */
    public static void timeout(final MemorySegment timespec, final long timeoutNs)
    {
        timespec.set(JAVA_LONG, 0, timeoutNs / 1_000_000_000L);
        timespec.set(JAVA_LONG, 8, timeoutNs % 1_000_000_000L);
    }
}
