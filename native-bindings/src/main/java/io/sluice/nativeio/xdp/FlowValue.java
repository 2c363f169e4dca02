package io.sluice.nativeio.xdp;

/**
 * Value of the {@code flows} map ({@link XdpFlowTable}): what the steering program rewrites a matching frame to and
 * where it sends it, 88 bytes. Addresses, ports and MACs in network order; u32/u64 fields in host order.
 * <pre>
 *    0 new source address (16)      16 new destination address (16)
 *   32 new source port (2)          34 new destination port (2)
 *   36 destination MAC (6)          42 source MAC (6)
 *   48 u32 egress ifindex           52 u32 L4 checksum delta (RFC 1624 sum)
 *   56 u32 IPv4 header checksum delta (0 for IPv6)
 *   60 u32 epoch                    64 u32 listener counter slot   68 u32 backend counter slot
 *   72 u32 flags (bit 0: to the backend)                           76 u32 zero
 *   80 u64 last-seen ns (bpf_ktime_get_ns, CLOCK_MONOTONIC), written by the program; the writer writes 0
 * </pre>
 * The deltas are sums over every changed 16-bit word w of {@code (~old_w & 0xFFFF) + new_w}: the L4 one over both
 * addresses (IPv4: the 4 address bytes only) and both ports, the IPv4 header one over the addresses only.
 */
public final class FlowValue
{
    public static final int LENGTH = 88;
    public static final int NEW_SOURCE_OFFSET = 0;
    public static final int NEW_DESTINATION_OFFSET = 16;
    public static final int NEW_SOURCE_PORT_OFFSET = 32;
    public static final int NEW_DESTINATION_PORT_OFFSET = 34;
    public static final int DESTINATION_MAC_OFFSET = 36;
    public static final int SOURCE_MAC_OFFSET = 42;
    public static final int EGRESS_IFINDEX_OFFSET = 48;
    public static final int L4_CHECKSUM_DELTA_OFFSET = 52;
    public static final int IP_CHECKSUM_DELTA_OFFSET = 56;
    public static final int EPOCH_OFFSET = 60;
    public static final int LISTENER_SLOT_OFFSET = 64;
    public static final int BACKEND_SLOT_OFFSET = 68;
    public static final int FLAGS_OFFSET = 72;
    public static final int LAST_SEEN_OFFSET = 80;

    /** Flags bit 0: the frame goes to the backend (client → backend direction); clear: backend → client. */
    public static final int FLAG_TO_BACKEND = 1;
    /** A counter slot that counts nothing. */
    public static final int NO_SLOT = 0xFFFFFFFF;

    /** flow_counters value: {packetsToBackend, bytesToBackend, packetsToClient, bytesToClient}, u64 each. */
    public static final int COUNTERS_LENGTH = 32;
    public static final int COUNTERS_TO_BACKEND_OFFSET = 0;
    public static final int COUNTERS_TO_CLIENT_OFFSET = 16;

    private FlowValue()
    {
    }
}
