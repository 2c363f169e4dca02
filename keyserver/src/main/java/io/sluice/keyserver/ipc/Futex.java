package io.sluice.keyserver.ipc;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import io.sluice.nativeio.Libc;

/**
 * futex(2) on a 32-bit word in a shared mapping, for wake-ups between processes (see futex(2) and
 * <a href="https://github.com/torvalds/linux/blob/master/include/uapi/linux/futex.h">linux/futex.h</a>), through
 * native-bindings' {@link Libc#futex}.
 * <p>
 * Only the shared operations are used: {@code FUTEX_WAIT}/{@code FUTEX_WAKE} without {@code FUTEX_PRIVATE_FLAG}, which
 * the kernel keys by (inode, offset) of a file mapping, so a waiter in one process is woken by a waker in another that
 * mapped the same file (the private variants key by (mm, address) and would never match across processes).
 */
public final class Futex
{
    /** struct timespec { long tv_sec; long tv_nsec; } (uapi/linux/time_types.h __kernel_timespec). */
    public static final long TIMESPEC_LENGTH = 16;
    /** {@link #await}'s result when a {@link #wake} ended the sleep. */
    public static final long WOKEN = 0;

    private Futex()
    {
    }

    /**
     * Sleep while the word at {@code address} holds {@code expected}, at most the relative timeout in {@code timespec}.
     * The kernel compares the word and queues the caller atomically with respect to {@link #wake}, so a wake after a
     * change of the word is never lost. Callers re-check their condition after any return.
     *
     * @param address absolute address of a 4-byte aligned int in a shared mapping.
     * @param expected the value read before deciding to sleep.
     * @param timespec a {@link #TIMESPEC_LENGTH}-byte segment holding the relative timeout (see {@link #timeout}).
     * @return {@link #WOKEN} when woken, else -errno: -EAGAIN (the word differed), -ETIMEDOUT, -EINTR.
     */
    public static long await(final long address, final int expected, final MemorySegment timespec)
    {
        return Libc.futex(address, Libc.FUTEX_WAIT, expected, timespec.address());
    }

    /**
     * Wake up to {@code count} waiters of the word at {@code address}.
     *
     * @param address absolute address of the word.
     * @param count how many waiters at most.
     * @return how many were woken (or -errno, e.g. the address is not mapped).
     */
    public static long wake(final long address, final int count)
    {
        return Libc.futex(address, Libc.FUTEX_WAKE, count, 0);
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
