package io.sluice.nativeio.xdp;

import io.sluice.nativeio.Errno;
import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;

import java.lang.foreign.MemorySegment;

/**
 * The packet memory AF_XDP sockets share with the kernel: one anonymous mapping cut into equal frames, addressed by
 * byte offset ("UMEM address"). It is registered with the kernel by the first {@link XskSocket} opened on it
 * (XDP_UMEM_REG); later sockets share it (XDP_SHARED_UMEM), on the same or other queues and interfaces.
 * <p>
 * Frames are read and written through {@link #segment()} at {@code address}: no copies, no allocation.
 */
public final class Umem implements AutoCloseable
{
    static final long HUGE_PAGE_BYTES = 2L << 20;

    private final UmemConfig config;
    private final MemorySegment segment;
    private final long mappedLength;
    private final boolean hugePages;
    private final String hugePageFallbackReason;
    private XskSocket owner;

    private Umem(final UmemConfig config, final MemorySegment segment, final long mappedLength, final boolean hugePages,
        final String reason)
    {
        this.config = config;
        this.segment = segment;
        this.mappedLength = mappedLength;
        this.hugePages = hugePages;
        this.hugePageFallbackReason = reason;
    }

    /** Map the area (2 MiB pages when asked and available, else normal pages with the reason kept). */
    public static Umem allocate(final UmemConfig config)
    {
        final long length = config.lengthBytes();
        String reason = null;
        if (config.hugePages())
        {
            final long hugeLength = (length + HUGE_PAGE_BYTES - 1) & ~(HUGE_PAGE_BYTES - 1);
            final long address = Libc.mmap(MemorySegment.NULL, hugeLength, Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_HUGETLB | Libc.MAP_HUGE_2MB | Libc.MAP_POPULATE, -1, 0);
            if (address >= 0)
            {
                return new Umem(config, MemorySegment.ofAddress(address).reinterpret(length), hugeLength, true, null);
            }
            reason = "mmap(MAP_HUGETLB 2 MiB) failed: " + Errno.name((int)-address)
                + (address == -Errno.ENOMEM ? " (no free huge pages: raise vm.nr_hugepages)" : "");
        }
        final long address = Libc.mmap(MemorySegment.NULL, length, Libc.PROT_READ | Libc.PROT_WRITE,
            Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_POPULATE, -1, 0);
        NativeException.check(address, "mmap(umem " + length + " bytes)", "RLIMIT_MEMLOCK or memory");
        return new Umem(config, MemorySegment.ofAddress(address).reinterpret(length), length, false, reason);
    }

    public UmemConfig config()
    {
        return config;
    }

    /** @return the whole area; frame {@code i} starts at {@code i * frameSize}. */
    public MemorySegment segment()
    {
        return segment;
    }

    public int frameSize()
    {
        return config.frameSizeBytes();
    }

    public int frameCount()
    {
        return config.frameCount();
    }

    /** @return the UMEM address of frame {@code i}. */
    public long frameAddress(final int i)
    {
        return (long)i * config.frameSizeBytes();
    }

    public boolean hugePages()
    {
        return hugePages;
    }

    /** @return why 2 MiB pages were asked for but not used, or null. */
    public String hugePageFallbackReason()
    {
        return hugePageFallbackReason;
    }

    XskSocket owner()
    {
        return owner;
    }

    void owner(final XskSocket socket)
    {
        owner = socket;
    }

    /** Unmap. Close every socket on it first: the kernel keeps its own reference while they live. */
    @Override
    public void close()
    {
        Libc.munmap(segment, mappedLength);
    }
}
