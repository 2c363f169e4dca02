package io.sluice.nativeio.uring;

import io.sluice.nativeio.Availability;
import io.sluice.nativeio.Errno;
import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.sluice.nativeio.uring.IoUringLayouts.CQE_FLAGS;
import static io.sluice.nativeio.uring.IoUringLayouts.CQE_RES;
import static io.sluice.nativeio.uring.IoUringLayouts.CQE_USER_DATA;
import static io.sluice.nativeio.uring.IoUringLayouts.SQE_ADDR;
import static io.sluice.nativeio.uring.IoUringLayouts.SQE_BUF_INDEX;
import static io.sluice.nativeio.uring.IoUringLayouts.SQE_FD;
import static io.sluice.nativeio.uring.IoUringLayouts.SQE_FLAGS;
import static io.sluice.nativeio.uring.IoUringLayouts.SQE_IOPRIO;
import static io.sluice.nativeio.uring.IoUringLayouts.SQE_LEN;
import static io.sluice.nativeio.uring.IoUringLayouts.SQE_OFF;
import static io.sluice.nativeio.uring.IoUringLayouts.SQE_OPCODE;
import static io.sluice.nativeio.uring.IoUringLayouts.SQE_OP_FLAGS;
import static io.sluice.nativeio.uring.IoUringLayouts.SQE_USER_DATA;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * An io_uring instance (io_uring_setup(2) through {@code syscall()}): submission and completion rings mapped from the
 * kernel, SQEs prepared in place, submitted in batches with one io_uring_enter, CQEs reaped in batches.
 * <p>
 * Ring indices are u32s shared with the kernel: the SQ tail is published with a release store after the SQEs are
 * written, the CQ tail is read with an acquire load before CQEs are read, the CQ head is released after they are
 * consumed (as liburing does). Nothing allocates after {@link #create(int)}. One thread per ring.
 * <p>
 * {@code prep*} methods return false when the submission queue is full: submit, then try again.
 */
public final class IoUring implements AutoCloseable
{
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final Availability AVAILABILITY = probe();

    private final int fd;
    private final MemorySegment sqRing;
    private final MemorySegment cqRing;
    private final MemorySegment sqes;
    private final long sqRingLength;
    private final long cqRingLength;
    private final boolean singleMmap;
    private final long sqTail;
    private final long sqHead;
    private final int sqMask;
    private final int sqEntries;
    private final long sqArray;
    private final long cqHead;
    private final long cqTail;
    private final int cqMask;
    private final long cqes;
    private int localSqTail;
    private int submittedTail;

    private IoUring(final int entries)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment params = arena.allocate(IoUringLayouts.IO_URING_PARAMS);
            final long rc = Libc.syscall(Libc.SYS_IO_URING_SETUP, entries, params.address(), 0, 0, 0, 0);
            fd = (int)NativeException.check(rc, "io_uring_setup(" + entries + ")", hint((int)-rc));
            sqEntries = params.get(JAVA_INT, 0);
            final int cqEntries = params.get(JAVA_INT, 4);
            final int features = params.get(JAVA_INT, 20);
            final int sqArrayOffset = params.get(JAVA_INT, IoUringLayouts.paramsOffset("sq_off", "array"));
            final int cqesOffset = params.get(JAVA_INT, IoUringLayouts.paramsOffset("cq_off", "cqes"));
            final long sqLength = sqArrayOffset + (long)sqEntries * 4;
            final long cqLength = cqesOffset + (long)cqEntries * IoUringLayouts.IO_URING_CQE.byteSize();
            singleMmap = (features & IoUringLayouts.IORING_FEAT_SINGLE_MMAP) != 0;
            if (singleMmap)
            {
                final long length = Math.max(sqLength, cqLength);
                sqRing = map(length, IoUringLayouts.IORING_OFF_SQ_RING, "sq/cq ring");
                cqRing = sqRing;
                sqRingLength = length;
                cqRingLength = 0;
            }
            else
            {
                sqRing = map(sqLength, IoUringLayouts.IORING_OFF_SQ_RING, "sq ring");
                cqRing = map(cqLength, IoUringLayouts.IORING_OFF_CQ_RING, "cq ring");
                sqRingLength = sqLength;
                cqRingLength = cqLength;
            }
            sqes = map((long)sqEntries * IoUringLayouts.IO_URING_SQE.byteSize(), IoUringLayouts.IORING_OFF_SQES, "sqes");
            sqHead = params.get(JAVA_INT, IoUringLayouts.paramsOffset("sq_off", "head"));
            sqTail = params.get(JAVA_INT, IoUringLayouts.paramsOffset("sq_off", "tail"));
            sqMask = sqRing.get(JAVA_INT, params.get(JAVA_INT, IoUringLayouts.paramsOffset("sq_off", "ring_mask")));
            sqArray = sqArrayOffset;
            cqHead = params.get(JAVA_INT, IoUringLayouts.paramsOffset("cq_off", "head"));
            cqTail = params.get(JAVA_INT, IoUringLayouts.paramsOffset("cq_off", "tail"));
            cqMask = cqRing.get(JAVA_INT, params.get(JAVA_INT, IoUringLayouts.paramsOffset("cq_off", "ring_mask")));
            cqes = cqesOffset;
            localSqTail = (int)INT.getAcquire(sqRing, sqTail);
            submittedTail = localSqTail;
        }
    }

    private MemorySegment map(final long length, final long offset, final String what)
    {
        final long address = Libc.mmap(MemorySegment.NULL, length, Libc.PROT_READ | Libc.PROT_WRITE,
            Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, offset);
        if (address < 0)
        {
            Libc.close(fd);
            NativeException.check(address, "mmap(io_uring " + what + ")", null);
        }
        return MemorySegment.ofAddress(address).reinterpret(length);
    }

    /** Create a ring with {@code entries} SQEs (rounded up to a power of two by the kernel; CQ twice that). */
    public static IoUring create(final int entries)
    {
        return new IoUring(entries);
    }

    public static boolean isAvailable()
    {
        return AVAILABILITY.available();
    }

    public static String unavailabilityCause()
    {
        return AVAILABILITY.cause();
    }

    private static Availability probe()
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment params = arena.allocate(IoUringLayouts.IO_URING_PARAMS);
            final long rc = Libc.syscall(Libc.SYS_IO_URING_SETUP, 1, params.address(), 0, 0, 0, 0);
            if (rc < 0)
            {
                return Availability.unavailable("io_uring_setup failed with " + Errno.name((int)-rc) + ": " + hint((int)-rc));
            }
            Libc.close((int)rc);
            return Availability.AVAILABLE;
        }
        catch (final RuntimeException | LinkageError ex)
        {
            return Availability.unavailable("libc cannot be called: " + ex);
        }
    }

    private static String hint(final int errno)
    {
        if (errno == Errno.ENOSYS)
        {
            return "kernel without io_uring (CONFIG_IO_URING) or too old (< 5.1)";
        }
        if (errno == Errno.EPERM)
        {
            String disabled = "?";
            try
            {
                disabled = Files.readString(Path.of("/proc/sys/kernel/io_uring_disabled")).trim();
            }
            catch (final java.io.IOException ignored)
            {
                // older kernels have no such sysctl
            }
            return "kernel.io_uring_disabled = " + disabled + " (0 enables it for everyone, 1 only for io_uring_group)";
        }
        if (errno == Errno.ENOMEM)
        {
            return "RLIMIT_MEMLOCK too low for the rings";
        }
        return null;
    }

    public int fd()
    {
        return fd;
    }

    public int sqEntries()
    {
        return sqEntries;
    }

    private long sqeOffset()
    {
        return (long)((localSqTail - 1) & sqMask) * 64;
    }

    private boolean prepare(final int opcode, final int targetFd, final long address, final int length, final long offset,
        final int opFlags, final long userData)
    {
        final int head = (int)INT.getAcquire(sqRing, sqHead);
        if (localSqTail - head >= sqEntries)
        {
            return false;
        }
        final int index = localSqTail & sqMask;
        final long base = (long)index * 64;
        for (long word = 0; word < 64; word += 8)
        {
            sqes.set(JAVA_LONG, base + word, 0L);
        }
        sqes.set(JAVA_BYTE, base + SQE_OPCODE, (byte)opcode);
        sqes.set(JAVA_INT, base + SQE_FD, targetFd);
        sqes.set(JAVA_LONG, base + SQE_OFF, offset);
        sqes.set(JAVA_LONG, base + SQE_ADDR, address);
        sqes.set(JAVA_INT, base + SQE_LEN, length);
        sqes.set(JAVA_INT, base + SQE_OP_FLAGS, opFlags);
        sqes.set(JAVA_LONG, base + SQE_USER_DATA, userData);
        sqRing.set(JAVA_INT, sqArray + (long)index * 4, index);
        localSqTail++;
        return true;
    }

    public boolean prepNop(final long userData)
    {
        return prepare(IoUringLayouts.IORING_OP_NOP, -1, 0, 0, 0, 0, userData);
    }

    /** read(2) into {@code buffer} at file {@code offset} (-1: the current position). */
    public boolean prepRead(final int targetFd, final MemorySegment buffer, final int length, final long offset, final long userData)
    {
        return prepare(IoUringLayouts.IORING_OP_READ, targetFd, buffer.address(), length, offset, 0, userData);
    }

    public boolean prepWrite(final int targetFd, final MemorySegment buffer, final int length, final long offset, final long userData)
    {
        return prepare(IoUringLayouts.IORING_OP_WRITE, targetFd, buffer.address(), length, offset, 0, userData);
    }

    /** recvmsg(2) into a {@link MsgHdr}. */
    public boolean prepRecvMsg(final int socketFd, final MemorySegment msghdr, final int flags, final long userData)
    {
        return prepare(IoUringLayouts.IORING_OP_RECVMSG, socketFd, msghdr.address(), 1, 0, flags, userData);
    }

    public boolean prepSendMsg(final int socketFd, final MemorySegment msghdr, final int flags, final long userData)
    {
        return prepare(IoUringLayouts.IORING_OP_SENDMSG, socketFd, msghdr.address(), 1, 0, flags, userData);
    }

    /** One-shot poll for {@code events} (POLLIN, POLLOUT); the result is the ready mask. */
    public boolean prepPollAdd(final int targetFd, final int events, final long userData)
    {
        return prepare(IoUringLayouts.IORING_OP_POLL_ADD, targetFd, 0, 0, 0, events & 0xffff, userData);
    }

    /**
     * Complete after the time in {@code timespec} (struct __kernel_timespec: s64 sec, s64 nsec) with -ETIME, or
     * earlier with 0 once {@code count} other completions happened (0: time only).
     */
    public boolean prepTimeout(final MemorySegment timespec, final int count, final long userData)
    {
        return prepare(IoUringLayouts.IORING_OP_TIMEOUT, -1, timespec.address(), 1, count, 0, userData);
    }

    /**
     * Multishot recv: one CQE per datagram into a buffer picked from provided-buffer group {@code bufferGroup} (see
     * {@link BufferRing}); CQEs carry IORING_CQE_F_MORE while the request stays armed (kernel ≥ 6.0).
     */
    public boolean prepRecvMultishot(final int socketFd, final int bufferGroup, final long userData)
    {
        if (!prepare(IoUringLayouts.IORING_OP_RECV, socketFd, 0, 0, 0, 0, userData))
        {
            return false;
        }
        final long base = sqeOffset();
        sqes.set(JAVA_SHORT, base + SQE_IOPRIO, (short)IoUringLayouts.IORING_RECV_MULTISHOT);
        sqes.set(JAVA_BYTE, base + SQE_FLAGS, (byte)IoUringLayouts.IOSQE_BUFFER_SELECT);
        sqes.set(JAVA_SHORT, base + SQE_BUF_INDEX, (short)bufferGroup);
        return true;
    }

    /** @return SQEs prepared but not yet submitted. */
    public int pending()
    {
        return localSqTail - submittedTail;
    }

    /** Publish prepared SQEs and submit them; returns how many the kernel took, or -errno. */
    public int submit()
    {
        return enter(0, 0);
    }

    /** Submit and wait until at least {@code minComplete} CQEs are ready; returns SQEs taken, or -errno (EINTR, ETIME). */
    public int submitAndWait(final int minComplete)
    {
        return enter(minComplete, minComplete > 0 ? IoUringLayouts.IORING_ENTER_GETEVENTS : 0);
    }

    private int enter(final int minComplete, final int flags)
    {
        final int toSubmit = localSqTail - submittedTail;
        INT.setRelease(sqRing, sqTail, localSqTail);
        submittedTail = localSqTail;
        if (toSubmit == 0 && minComplete == 0)
        {
            return 0;
        }
        return (int)Libc.syscall(Libc.SYS_IO_URING_ENTER, fd, toSubmit, minComplete, flags, 0, 0);
    }

    /** Hand up to {@code max} ready CQEs to {@code handler}; returns how many. Never blocks. */
    public int reap(final CompletionHandler handler, final int max)
    {
        int head = (int)INT.get(cqRing, cqHead);
        final int tail = (int)INT.getAcquire(cqRing, cqTail);
        int count = 0;
        while (head != tail && count < max)
        {
            final long offset = cqes + (long)(head & cqMask) * 16;
            handler.onCompletion(cqRing.get(JAVA_LONG, offset + CQE_USER_DATA), cqRing.get(JAVA_INT, offset + CQE_RES),
                cqRing.get(JAVA_INT, offset + CQE_FLAGS));
            head++;
            count++;
        }
        if (count > 0)
        {
            INT.setRelease(cqRing, cqHead, head);
        }
        return count;
    }

    /** io_uring_register(2); returns the result or -errno. */
    int register(final int opcode, final MemorySegment argument, final int count)
    {
        return (int)Libc.syscall(Libc.SYS_IO_URING_REGISTER, fd, opcode, argument.address(), count, 0, 0);
    }

    @Override
    public void close()
    {
        Libc.munmap(sqes, sqes.byteSize());
        Libc.munmap(sqRing, sqRingLength);
        if (!singleMmap)
        {
            Libc.munmap(cqRing, cqRingLength);
        }
        Libc.close(fd);
    }
}
