package io.sluice.fastpath.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.BooleanSupplier;

import io.sluice.fastpath.HandoffWakeup;
import io.sluice.nativeio.Libc;

/**
 * Wakes a forwarder asleep in poll(2) ({@link PollingIdleStrategy}) when another forwarder hands it a frame: an eventfd
 * in the sleeper's poll set, written only when the sleeper has said it is going to sleep. Without it a handed-off frame
 * waited for the poll timeout (the profile's max park, 1 ms in {@code shared}), and with two forwarders on two veth
 * queues about half of all frames are handed off (docs/fastpath.md, session 5).
 * <p>
 * The two sides follow Dekker's pattern, so a wake-up is neither lost nor paid for while the owner is awake:
 * <pre>
 *   sleeper (owner):  sleeping = 1 (volatile) ; any hand-off ring non-empty? → sleeping = 0, do not sleep
 *                     else poll(sockets + eventfd) ; sleeping = 0 ; eventfd readable → read it (clears it)
 *   waker (handing):  ring write ; full fence ; sleeping == 1 and CAS 1 → 0 won → write 1 to the eventfd
 * </pre>
 * The fence orders the ring's tail store before the load of {@code sleeping} (a release store may pass a later load);
 * the CAS makes one waker per sleep write the eventfd, however many frames follow.
 */
public final class EventFdDoorbell implements HandoffWakeup, AutoCloseable
{
    private static final VarHandle SLEEPING;

    static
    {
        try
        {
            SLEEPING = MethodHandles.lookup().findVarHandle(EventFdDoorbell.class, "sleeping", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final int fd;
    private final BooleanSupplier pending;
    private final MemorySegment one;
    private final MemorySegment drained;
    private volatile int sleeping;
    private boolean closed;

    /** @param pending true while the owner has handed-off frames to read ({@code ForwarderAgent::hasHandedOffFrames}). */
    public EventFdDoorbell(final BooleanSupplier pending)
    {
        final int result = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (result < 0)
        {
            throw new IllegalStateException("eventfd: errno " + -result);
        }
        this.fd = result;
        this.pending = pending;
        // two buffers: the waker's and the sleeper's threads each write their own
        this.one = Arena.ofAuto().allocate(ValueLayout.JAVA_LONG);
        this.one.set(ValueLayout.JAVA_LONG, 0, 1L);
        this.drained = Arena.ofAuto().allocate(ValueLayout.JAVA_LONG);
    }

    /** The eventfd the owner's idle strategy adds to its poll set. */
    public int fd()
    {
        return fd;
    }

    /** Waker side (another forwarder's thread), after its ring write. */
    @Override
    public boolean wake()
    {
        VarHandle.fullFence();
        if ((int)SLEEPING.getVolatile(this) == 1 && SLEEPING.compareAndSet(this, 1, 0))
        {
            Libc.write(fd, one, Long.BYTES);
            return true;
        }
        return false;
    }

    /** Sleeper side, before poll(2): false when a hand-off is already waiting (then do not sleep). */
    public boolean arm()
    {
        SLEEPING.setVolatile(this, 1);
        if (pending.getAsBoolean())
        {
            SLEEPING.setVolatile(this, 0);
            return false;
        }
        return true;
    }

    /** Sleeper side, after poll(2): {@code signalled} when the eventfd was readable (its count is then cleared). */
    public void disarm(final boolean signalled)
    {
        SLEEPING.setVolatile(this, 0);
        if (signalled)
        {
            Libc.read(fd, drained, Long.BYTES);
        }
    }

    @Override
    public void close()
    {
        if (!closed)
        {
            closed = true;
            Libc.closeQuietly(fd);
        }
    }
}
