package io.sluice.nativeio;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What a role's threads (a forwarder, an event loop group) ask of the scheduler for themselves: a nice value and an EEVDF
 * time slice, validated once here and applied by each thread to itself with one {@link Libc#setCurrentThreadScheduling}
 * (a thread id seen from outside would have to be learnt first). Refused — a negative nice without CAP_SYS_NICE — the
 * thread runs on as it was: one WARNING per instance names the thread and the errno, the result says it every time.
 * A separate class rather than more of {@link Libc} because Libc binds syscalls and returns -errno, while this holds a
 * policy: validation that throws, and a log line.
 */
public final class ThreadScheduling
{
    private static final System.Logger LOGGER = System.getLogger(ThreadScheduling.class.getName());

    private final int nice;
    private final long sliceNanos;
    private final AtomicBoolean warned = new AtomicBoolean();

    /**
     * @param nice       -20..19; 0 leaves the thread's own.
     * @param sliceNanos 0 = the kernel's default, else {@link Libc#MIN_SLICE_NANOS}..{@link Libc#MAX_SLICE_NANOS}.
     * @throws IllegalArgumentException for a value out of range.
     */
    public ThreadScheduling(final int nice, final long sliceNanos)
    {
        if (nice < -20 || nice > 19)
        {
            throw new IllegalArgumentException("nice: -20..19: " + nice);
        }
        if (sliceNanos != 0 && (sliceNanos < Libc.MIN_SLICE_NANOS || sliceNanos > Libc.MAX_SLICE_NANOS))
        {
            throw new IllegalArgumentException("sliceNanos: 0 or " + Libc.MIN_SLICE_NANOS + ".." + Libc.MAX_SLICE_NANOS + ": "
                + sliceNanos);
        }
        this.nice = nice;
        this.sliceNanos = sliceNanos;
    }

    /** @return true when nothing is asked (nice 0, slice 0): applying it makes no syscall. */
    public boolean isDefault()
    {
        return nice == 0 && sliceNanos == 0;
    }

    /**
     * Applies it to the calling thread; refused, the first refusal of this instance is logged. Setup path.
     *
     * @return 0 (also when nothing is asked), or -errno.
     */
    public int applyToCurrentThread()
    {
        final int result = Libc.setCurrentThreadScheduling(nice, sliceNanos);
        if (result < 0 && warned.compareAndSet(false, true))
        {
            LOGGER.log(System.Logger.Level.WARNING, "could not set nice " + nice + " and a time slice of " + sliceNanos
                + " ns (0: as it was) for " + Thread.currentThread().getName() + ": " + Errno.name(-result));
        }
        return result;
    }
}
