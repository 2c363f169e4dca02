package io.sluice.nativeio.xdp;

/**
 * Key of the {@code flows} map ({@link XdpFlowTable}): a frame as it arrives, 40 bytes.
 * <pre>
 *   0              16             32      34      36     37..39
 *   +--------------+--------------+-------+-------+------+------+
 *   | source (16)  | dest (16)    | sport | dport | prot | 0    |
 *   +--------------+--------------+-------+-------+------+------+
 * </pre>
 * Addresses and ports in network order, exactly as on the wire; IPv4 addresses IPv4-mapped ({@code ::ffff:a.b.c.d}),
 * as in {@link VipKey}. Protocol 6 (TCP) or 17 (UDP); the pad must be zero (hash keys compare every byte).
 */
public final class FlowKey
{
    public static final int LENGTH = 40;
    public static final int SOURCE_OFFSET = 0;
    public static final int DESTINATION_OFFSET = 16;
    public static final int SOURCE_PORT_OFFSET = 32;
    public static final int DESTINATION_PORT_OFFSET = 34;
    public static final int PROTOCOL_OFFSET = 36;

    private FlowKey()
    {
    }
}
