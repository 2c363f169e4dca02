package io.sluice.nativeio.xdp;

import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One AF_XDP ring mapped from the kernel: a power-of-two array of entries (u64 addresses for fill/completion,
 * {@code struct xdp_desc} for rx/tx) with a producer and a consumer index, exactly as libxdp's {@code xsk.h} drives it.
 * <p>
 * Indices are free-running u32s. The producer index is published with release semantics after the entries are
 * written, and read with acquire semantics before entries are read (the kernel pairs these with smp_load_acquire /
 * smp_store_release). Both sides keep a cached copy of the other side's index and touch the shared one only when the
 * cache says the ring looks full (producer) or empty (consumer), so most batches cost no shared-cache-line reads.
 * <p>
 * Batch protocol, no allocation: producer rings {@link #reserve} n then write entries at {@code index .. index+n-1}
 * then {@link #submit}; consumer rings {@link #peek} up to n then read then {@link #release}. The start index of the
 * last reserve/peek is {@link #index()}. Single-threaded: one ring, one thread.
 */
public final class XskRing
{
    private static final VarHandle INT_HANDLE = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment mapping;
    private final long producerOffset;
    private final long consumerOffset;
    private final long flagsOffset;
    private final MemorySegment entries;
    private final int size;
    private final int mask;
    private final int entrySize;
    private final boolean producer;
    private int cachedProducer;
    private int cachedConsumer;
    private int index;

    XskRing(final MemorySegment mapping, final long producerOffset, final long consumerOffset, final long descOffset,
        final long flagsOffset, final int size, final int entrySize, final boolean producer)
    {
        this.mapping = mapping;
        this.producerOffset = producerOffset;
        this.consumerOffset = consumerOffset;
        this.flagsOffset = flagsOffset;
        this.entries = mapping.asSlice(descOffset, (long)size * entrySize);
        this.size = size;
        this.mask = size - 1;
        this.entrySize = entrySize;
        this.producer = producer;
        cachedProducer = (int)INT_HANDLE.getAcquire(mapping, producerOffset);
        cachedConsumer = (int)INT_HANDLE.getAcquire(mapping, consumerOffset);
        if (producer)
        {
            // A producer sees "free = cached_cons - cached_prod": start with a whole ring of room.
            cachedConsumer += size;
        }
    }

    /** Map a ring of {@code size} entries from {@code fd} at page offset {@code pgoff}; offsets from XDP_MMAP_OFFSETS. */
    static XskRing map(final int fd, final long pgoff, final int size, final int entrySize, final boolean producer,
        final long producerOffset, final long consumerOffset, final long descOffset, final long flagsOffset)
    {
        final long length = descOffset + (long)size * entrySize;
        final long address = Libc.mmap(MemorySegment.NULL, length, Libc.PROT_READ | Libc.PROT_WRITE,
            Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, pgoff);
        NativeException.check(address, "mmap(xsk ring at pgoff 0x" + Long.toHexString(pgoff) + ")",
            "was the ring size set with setsockopt before mmap?");
        final MemorySegment mapping = MemorySegment.ofAddress(address).reinterpret(length);
        return new XskRing(mapping, producerOffset, consumerOffset, descOffset, flagsOffset, size, entrySize, producer);
    }

    void unmap()
    {
        Libc.munmap(mapping, mapping.byteSize());
    }

    public int size()
    {
        return size;
    }

    /** @return the start index of the last successful {@link #reserve} or {@link #peek}. */
    public int index()
    {
        return index;
    }

    // ---- producer side (fill, tx) ----

    /** @return how many entries can be reserved, at least looking again at the kernel's consumer if fewer than n. */
    public int free(final int n)
    {
        int free = cachedConsumer - cachedProducer;
        if (free >= n)
        {
            return free;
        }
        cachedConsumer = (int)INT_HANDLE.getAcquire(mapping, consumerOffset) + size;
        free = cachedConsumer - cachedProducer;
        return free;
    }

    /** Reserve exactly n entries; returns n (start at {@link #index()}) or 0 when there is not room for all n. */
    public int reserve(final int n)
    {
        if (free(n) < n)
        {
            return 0;
        }
        index = cachedProducer;
        cachedProducer += n;
        return n;
    }

    /** Reserve as many as are free, up to n; returns how many (start at {@link #index()}), possibly 0. */
    public int reserveUpTo(final int n)
    {
        final int k = Math.min(free(n), n);
        if (k <= 0)
        {
            return 0;
        }
        index = cachedProducer;
        cachedProducer += k;
        return k;
    }

    /** Publish n reserved entries to the kernel (release store of the producer index). */
    public void submit(final int n)
    {
        final int current = (int)INT_HANDLE.get(mapping, producerOffset);
        INT_HANDLE.setRelease(mapping, producerOffset, current + n);
    }

    /** Give back n reserved but unwritten entries (the last n). */
    public void cancel(final int n)
    {
        cachedProducer -= n;
    }

    // ---- consumer side (rx, completion) ----

    /** @return entries ready to read, up to n, looking at the kernel's producer only when the cache is empty. */
    public int available(final int n)
    {
        int entries = cachedProducer - cachedConsumer;
        if (entries == 0)
        {
            cachedProducer = (int)INT_HANDLE.getAcquire(mapping, producerOffset);
            entries = cachedProducer - cachedConsumer;
        }
        return Math.min(entries, n);
    }

    /** Take up to n entries (start at {@link #index()}); returns how many. */
    public int peek(final int n)
    {
        final int entries = available(n);
        if (entries > 0)
        {
            index = cachedConsumer;
            cachedConsumer += entries;
        }
        return entries;
    }

    /** Hand n read entries back to the kernel (release store of the consumer index). */
    public void release(final int n)
    {
        final int current = (int)INT_HANDLE.get(mapping, consumerOffset);
        INT_HANDLE.setRelease(mapping, consumerOffset, current + n);
    }

    /** @return true when the kernel asked for a syscall to make progress (XDP_USE_NEED_WAKEUP sockets). */
    public boolean needsWakeup()
    {
        return ((int)INT_HANDLE.getVolatile(mapping, flagsOffset) & XdpLayouts.XDP_RING_NEED_WAKEUP) != 0;
    }

    /** @return entries the kernel has not consumed yet (producer side) — for leak checks and draining. */
    public int outstanding()
    {
        return (int)INT_HANDLE.getAcquire(mapping, producerOffset) - (int)INT_HANDLE.getAcquire(mapping, consumerOffset);
    }

    // ---- entries ----

    /** Fill/completion entry: a UMEM address. */
    public long address(final int idx)
    {
        return entries.get(JAVA_LONG, (long)(idx & mask) * entrySize);
    }

    public void address(final int idx, final long address)
    {
        entries.set(JAVA_LONG, (long)(idx & mask) * entrySize, address);
    }

    /** rx/tx entry: struct xdp_desc addr. */
    public long descAddress(final int idx)
    {
        return entries.get(JAVA_LONG, (long)(idx & mask) * entrySize + XdpLayouts.DESC_ADDR);
    }

    public int descLength(final int idx)
    {
        return entries.get(JAVA_INT, (long)(idx & mask) * entrySize + XdpLayouts.DESC_LEN);
    }

    public int descOptions(final int idx)
    {
        return entries.get(JAVA_INT, (long)(idx & mask) * entrySize + XdpLayouts.DESC_OPTIONS);
    }

    public void desc(final int idx, final long address, final int length, final int options)
    {
        final long offset = (long)(idx & mask) * entrySize;
        entries.set(JAVA_LONG, offset + XdpLayouts.DESC_ADDR, address);
        entries.set(JAVA_INT, offset + XdpLayouts.DESC_LEN, length);
        entries.set(JAVA_INT, offset + XdpLayouts.DESC_OPTIONS, options);
    }

    boolean isProducer()
    {
        return producer;
    }
}
