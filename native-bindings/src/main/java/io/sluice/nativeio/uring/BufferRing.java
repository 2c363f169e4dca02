package io.sluice.nativeio.uring;

import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A provided-buffer ring (IORING_REGISTER_PBUF_RING, kernel ≥ 5.19): {@code count} equal buffers the kernel picks
 * from for multishot receives, identified by buffer id in the CQE ({@code flags >>> 16}). After handling a buffer,
 * {@link #recycle(int)} gives it back. The ring tail overlays the {@code resv} field of entry 0
 * (struct io_uring_buf_ring) and is published with a release store.
 */
public final class BufferRing implements AutoCloseable
{
    private static final VarHandle SHORT = ValueLayout.JAVA_SHORT.varHandle();
    private static final long TAIL_OFFSET = 14;

    private final IoUring ring;
    private final int groupId;
    private final int count;
    private final int mask;
    private final int bufferSize;
    private final MemorySegment entries;
    private final MemorySegment buffers;
    private final long entriesLength;
    private final long buffersLength;
    private short tail;

    BufferRing(final IoUring ring, final int groupId, final int count, final int bufferSize)
    {
        if (Integer.bitCount(count) != 1 || count > 32768)
        {
            throw new IllegalArgumentException("count: " + count + " is not a power of two in 1..32768");
        }
        this.ring = ring;
        this.groupId = groupId;
        this.count = count;
        this.mask = count - 1;
        this.bufferSize = bufferSize;
        entriesLength = Math.max(4096, (long)count * 16);
        buffersLength = (long)count * bufferSize;
        entries = mapAnonymous(entriesLength);
        buffers = mapAnonymous(buffersLength);
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment reg = arena.allocate(IoUringLayouts.IO_URING_BUF_REG);
            reg.set(JAVA_LONG, 0, entries.address());
            reg.set(JAVA_INT, 8, count);
            reg.set(JAVA_SHORT, 12, (short)groupId);
            final int rc = ring.register(IoUringLayouts.IORING_REGISTER_PBUF_RING, reg, 1);
            if (rc < 0)
            {
                Libc.munmap(entries, entriesLength);
                Libc.munmap(buffers, buffersLength);
                NativeException.check(rc, "io_uring_register(IORING_REGISTER_PBUF_RING)", "needs kernel >= 5.19");
            }
        }
        for (int bid = 0; bid < count; bid++)
        {
            put(bid, tail + bid);
        }
        tail = (short)(tail + count);
        SHORT.setRelease(entries, TAIL_OFFSET, tail);
    }

    private static MemorySegment mapAnonymous(final long length)
    {
        final long address = Libc.mmap(MemorySegment.NULL, length, Libc.PROT_READ | Libc.PROT_WRITE,
            Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_POPULATE, -1, 0);
        NativeException.check(address, "mmap(buffer ring)", null);
        return MemorySegment.ofAddress(address).reinterpret(length);
    }

    /** Register a ring of {@code count} buffers of {@code bufferSize} bytes as group {@code groupId} of {@code ring}. */
    public static BufferRing register(final IoUring ring, final int groupId, final int count, final int bufferSize)
    {
        return new BufferRing(ring, groupId, count, bufferSize);
    }

    private void put(final int bid, final int position)
    {
        final long offset = (long)(position & mask) * 16;
        entries.set(JAVA_LONG, offset, buffers.address() + (long)bid * bufferSize);
        entries.set(JAVA_INT, offset + 8, bufferSize);
        entries.set(JAVA_SHORT, offset + 12, (short)bid);
    }

    /** @return buffer {@code bid} (a slice view: the caller reads {@code length} bytes from its start). */
    public MemorySegment buffer(final int bid)
    {
        return buffers.asSlice((long)bid * bufferSize, bufferSize);
    }

    /** @return the buffer id of a CQE's flags. */
    public static int bufferId(final int cqeFlags)
    {
        return cqeFlags >>> IoUringLayouts.IORING_CQE_BUFFER_SHIFT;
    }

    /** Give buffer {@code bid} back to the kernel. */
    public void recycle(final int bid)
    {
        put(bid, tail);
        tail++;
        SHORT.setRelease(entries, TAIL_OFFSET, tail);
    }

    public int groupId()
    {
        return groupId;
    }

    public int count()
    {
        return count;
    }

    @Override
    public void close()
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment reg = arena.allocate(IoUringLayouts.IO_URING_BUF_REG);
            reg.set(JAVA_SHORT, 12, (short)groupId);
            ring.register(IoUringLayouts.IORING_UNREGISTER_PBUF_RING, reg, 1);
        }
        Libc.munmap(entries, entriesLength);
        Libc.munmap(buffers, buffersLength);
    }
}
