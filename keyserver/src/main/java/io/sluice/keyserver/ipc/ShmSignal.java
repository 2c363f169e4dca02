package io.sluice.keyserver.ipc;

import java.lang.foreign.MemorySegment;
import java.util.function.BooleanSupplier;

import org.agrona.concurrent.AtomicBuffer;

/**
 * An event count in shared memory: a consumer in one process sleeps until a producer in another commits work. Two
 * 32-bit words, {@code sequence} (the futex word, bumped by every {@link #signal}) and {@code sleepers} (consumers that
 * announced they are about to sleep), so a producer makes a syscall only when somebody may be asleep.
 *
 * <pre>
 *  offset 0  sequence  int  futex word; producers add 1 after each commit
 *  offset 4  sleepers  int  consumers inside {@link #await}, minus consumers polling actively ({@link #beginPolling})
 * </pre>
 *
 * Why no wake-up is lost (both sides use {@code lock xadd}, a full fence on x86_64, for their announcement):
 * <ul>
 *   <li>Producer: commit the record (release store), {@code sequence += 1}, then read {@code sleepers}; wake one
 *       waiter if it is above 0.</li>
 *   <li>Consumer: read {@code sequence} into {@code seq}, {@code sleepers += 1}, look for work again, and only if
 *       there is none {@code FUTEX_WAIT(sequence, seq)}; then {@code sleepers -= 1}.</li>
 * </ul>
 * The two increments are totally ordered. If the producer's came first, its commit is visible to the consumer's look
 * (which follows its own increment), so the consumer does not sleep. If the consumer's came first, the producer reads
 * {@code sleepers >= 1} and wakes; should the wake come before the consumer is queued in the kernel, the kernel's
 * compare of {@code sequence} with {@code seq} (atomic with the queueing, futex(2)) sees the producer's increment and
 * the wait returns at once. Waking one waiter per commit suffices: a woken waiter has left the kernel queue, so the next
 * commit's wake reaches another one; every wait also has a timeout, so a waiter whose process lost track (e.g. a
 * crashed peer left {@code sleepers} raised) still wakes for its duty.
 */
public final class ShmSignal
{
    public static final int SEQUENCE_OFFSET = 0;
    public static final int SLEEPERS_OFFSET = 4;
    public static final int LENGTH = 8;
    /** {@link #awaitResult}: work was there, nothing slept. */
    public static final long READY = 1;

    private final AtomicBuffer buffer;
    private final int sequenceOffset;
    private final int sleepersOffset;
    private final long address;

    /**
     * @param buffer a buffer over a shared mapping (off-heap).
     * @param offset where the two words start; 4-byte aligned.
     */
    public ShmSignal(final AtomicBuffer buffer, final int offset)
    {
        if (buffer.byteArray() != null)
        {
            throw new IllegalArgumentException("a futex word must be in native (mapped) memory");
        }
        this.buffer = buffer;
        this.sequenceOffset = offset + SEQUENCE_OFFSET;
        this.sleepersOffset = offset + SLEEPERS_OFFSET;
        this.address = buffer.addressOffset() + sequenceOffset;
        if ((address & 3) != 0)
        {
            throw new IllegalArgumentException("futex word at " + Long.toHexString(address) + " is not 4-byte aligned");
        }
    }

    /**
     * The producer's half: call after committing a record. No syscall unless a consumer announced it may sleep.
     *
     * @return true when a FUTEX_WAKE was issued.
     */
    public boolean signal()
    {
        buffer.getAndAddInt(sequenceOffset, 1);
        if (buffer.getIntVolatile(sleepersOffset) > 0)
        {
            Futex.wake(address, 1);
            return true;
        }
        return false;
    }

    /**
     * The consumer's half: sleep until a producer signals or the timeout passes, unless {@code ready} already says
     * there is work.
     *
     * @param ready true when there is work; looked at after the announcement.
     * @param timespec this thread's own {@link Futex#TIMESPEC_LENGTH}-byte segment.
     * @param timeoutNs longest sleep in nanoseconds.
     * @return true when {@code ready} said there was work (nothing slept), false after a sleep (work or not).
     */
    public boolean await(final BooleanSupplier ready, final MemorySegment timespec, final long timeoutNs)
    {
        return awaitResult(ready, timespec, timeoutNs) == READY;
    }

    /**
     * {@link #await} telling how the wait ended.
     *
     * @param ready true when there is work; looked at after the announcement.
     * @param timespec this thread's own {@link Futex#TIMESPEC_LENGTH}-byte segment.
     * @param timeoutNs longest sleep in nanoseconds.
     * @return {@link #READY} when {@code ready} said there was work (nothing slept), {@link Futex#WOKEN} when a
     *     {@link #signal} woke the sleep, else the futex's -errno (-ETIMEDOUT; -EAGAIN: a signal came between the
     *     announcement and the sleep).
     */
    public long awaitResult(final BooleanSupplier ready, final MemorySegment timespec, final long timeoutNs)
    {
        final int seq = buffer.getIntVolatile(sequenceOffset);
        if (ready.getAsBoolean())
        {
            return READY;
        }
        buffer.getAndAddInt(sleepersOffset, 1);
        try
        {
            if (ready.getAsBoolean())
            {
                return READY;
            }
            Futex.timeout(timespec, timeoutNs);
            return Futex.await(address, seq, timespec);
        }
        finally
        {
            buffer.getAndAddInt(sleepersOffset, -1);
        }
    }

    /**
     * A consumer that polls actively (it will see every commit without being woken) takes itself out of the count for
     * that time, so producers do not wake a sleeping fellow consumer for records it will read itself. Must be paired
     * with {@link #endPolling}, which puts the count back and then looks for records committed meanwhile.
     */
    public void beginPolling()
    {
        buffer.getAndAddInt(sleepersOffset, -1);
    }

    /**
     * End of {@link #beginPolling}. A producer that read the lowered count did not wake anybody; its commit came before
     * this increment (both are {@code lock xadd}s, totally ordered), so the caller's next look at the ring sees it:
     * the caller must read (or wake the sleeping consumer for) whatever is there after this returns.
     */
    public void endPolling()
    {
        buffer.getAndAddInt(sleepersOffset, 1);
    }

    /** Zero both words (a reclaimed client slot: a waiter that died left {@code sleepers} raised). */
    public void reset()
    {
        buffer.putIntVolatile(sleepersOffset, 0);
        buffer.putIntVolatile(sequenceOffset, 0);
    }

    public int sequence()
    {
        return buffer.getIntVolatile(sequenceOffset);
    }

    public int sleepers()
    {
        return buffer.getIntVolatile(sleepersOffset);
    }
}
