package io.sluice.nativeio.xdp;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The structs and constants of linux/if_xdp.h
 * (https://github.com/torvalds/linux/blob/master/include/uapi/linux/if_xdp.h), as {@link MemoryLayout}s named after
 * the kernel structs.
 */
public final class XdpLayouts
{
    public static final int SOL_XDP = 283;

    /** Socket options at SOL_XDP. */
    public static final int XDP_MMAP_OFFSETS = 1;
    public static final int XDP_RX_RING = 2;
    public static final int XDP_TX_RING = 3;
    public static final int XDP_UMEM_REG = 4;
    public static final int XDP_UMEM_FILL_RING = 5;
    public static final int XDP_UMEM_COMPLETION_RING = 6;
    public static final int XDP_STATISTICS = 7;
    public static final int XDP_OPTIONS = 8;

    /** sockaddr_xdp.sxdp_flags. */
    public static final int XDP_SHARED_UMEM = 1 << 0;
    public static final int XDP_COPY = 1 << 1;
    public static final int XDP_ZEROCOPY = 1 << 2;
    public static final int XDP_USE_NEED_WAKEUP = 1 << 3;

    /** xdp_ring_offset.flags bit: the kernel wants a syscall to make progress on this ring. */
    public static final int XDP_RING_NEED_WAKEUP = 1 << 0;
    /** xdp_options.flags bit. */
    public static final int XDP_OPTIONS_ZEROCOPY = 1 << 0;

    /** mmap page offsets selecting the ring. */
    public static final long XDP_PGOFF_RX_RING = 0;
    public static final long XDP_PGOFF_TX_RING = 0x80000000L;
    public static final long XDP_UMEM_PGOFF_FILL_RING = 0x100000000L;
    public static final long XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000L;

    /** Headroom the kernel reserves in front of every received frame (XDP_PACKET_HEADROOM). */
    public static final int XDP_PACKET_HEADROOM = 256;

    /** struct xdp_ring_offset { __u64 producer; __u64 consumer; __u64 desc; __u64 flags; }. */
    public static final StructLayout XDP_RING_OFFSET = MemoryLayout.structLayout(
        JAVA_LONG.withName("producer"), JAVA_LONG.withName("consumer"), JAVA_LONG.withName("desc"), JAVA_LONG.withName("flags"))
        .withName("xdp_ring_offset");

    /** struct xdp_mmap_offsets { struct xdp_ring_offset rx, tx, fr, cr; }. */
    public static final StructLayout XDP_MMAP_OFFSETS_LAYOUT = MemoryLayout.structLayout(
        XDP_RING_OFFSET.withName("rx"), XDP_RING_OFFSET.withName("tx"), XDP_RING_OFFSET.withName("fr"),
        XDP_RING_OFFSET.withName("cr")).withName("xdp_mmap_offsets");

    /** struct xdp_umem_reg { __u64 addr; __u64 len; __u32 chunk_size; __u32 headroom; __u32 flags; __u32 tx_metadata_len; }. */
    public static final StructLayout XDP_UMEM_REG_LAYOUT = MemoryLayout.structLayout(
        JAVA_LONG.withName("addr"), JAVA_LONG.withName("len"), JAVA_INT.withName("chunk_size"), JAVA_INT.withName("headroom"),
        JAVA_INT.withName("flags"), JAVA_INT.withName("tx_metadata_len")).withName("xdp_umem_reg");

    /** struct sockaddr_xdp { __u16 sxdp_family; __u16 sxdp_flags; __u32 sxdp_ifindex; __u32 sxdp_queue_id; __u32 sxdp_shared_umem_fd; }. */
    public static final StructLayout SOCKADDR_XDP = MemoryLayout.structLayout(
        JAVA_SHORT.withName("sxdp_family"), JAVA_SHORT.withName("sxdp_flags"), JAVA_INT.withName("sxdp_ifindex"),
        JAVA_INT.withName("sxdp_queue_id"), JAVA_INT.withName("sxdp_shared_umem_fd")).withName("sockaddr_xdp");

    /** struct xdp_desc { __u64 addr; __u32 len; __u32 options; }. */
    public static final StructLayout XDP_DESC = MemoryLayout.structLayout(
        JAVA_LONG.withName("addr"), JAVA_INT.withName("len"), JAVA_INT.withName("options")).withName("xdp_desc");

    /** struct xdp_statistics: six __u64 counters. */
    public static final StructLayout XDP_STATISTICS_LAYOUT = MemoryLayout.structLayout(
        JAVA_LONG.withName("rx_dropped"), JAVA_LONG.withName("rx_invalid_descs"), JAVA_LONG.withName("tx_invalid_descs"),
        JAVA_LONG.withName("rx_ring_full"), JAVA_LONG.withName("rx_fill_ring_empty_descs"),
        JAVA_LONG.withName("tx_ring_empty_descs")).withName("xdp_statistics");

    /** struct xdp_options { __u32 flags; }. */
    public static final StructLayout XDP_OPTIONS_LAYOUT = MemoryLayout.structLayout(JAVA_INT.withName("flags"))
        .withName("xdp_options");

    public static final long DESC_ADDR = XDP_DESC.byteOffset(MemoryLayout.PathElement.groupElement("addr"));
    public static final long DESC_LEN = XDP_DESC.byteOffset(MemoryLayout.PathElement.groupElement("len"));
    public static final long DESC_OPTIONS = XDP_DESC.byteOffset(MemoryLayout.PathElement.groupElement("options"));

    private XdpLayouts()
    {
    }

    /** @return the byte offset of field {@code field} of ring {@code ring} ("rx", "tx", "fr", "cr") in xdp_mmap_offsets. */
    public static long ringOffsetField(final String ring, final String field)
    {
        return XDP_MMAP_OFFSETS_LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(ring),
            MemoryLayout.PathElement.groupElement(field));
    }
}
