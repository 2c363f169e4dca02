package io.sluice.nativeio.xdp;

/**
 * What the XDP steering program did with a frame: one slot each in its per-CPU counters array, exactly one
 * incremented per frame, except that {@link #OFFLOAD_STALE} comes on top of the normal steering's counter. In the
 * node's counters file they appear with type id
 * {@link io.sluice.nativeio.NativeCounterType#STEER_BASE} + index (see {@link io.sluice.nativeio.NativeCounters}).
 */
public enum SteeringCounter
{
    /** ARP, ND, non-IP, unknown protocols, fragments and addresses with no entry: handed to the kernel. */
    PASS_UNMATCHED(0, "xdp.steer.pass_unmatched"),
    /** Matched a vip_map entry whose action is PASS (L7 listeners). */
    PASS_ENTRY(1, "xdp.steer.pass_entry"),
    /** Matched a VIP entry with action REDIRECT (or an ICMP error quoting such a flow). */
    REDIRECT_VIP(2, "xdp.steer.redirect_vip"),
    /** Matched an entry with action DROP. */
    DROP_ENTRY(3, "xdp.steer.drop_entry"),
    /** To a local (FullNAT source) address inside its SNAT port range. */
    REDIRECT_LOCAL(4, "xdp.steer.redirect_local"),
    /** To a local address outside its SNAT port range: the kernel's own connections. */
    PASS_LOCAL(5, "xdp.steer.pass_local"),
    /** Too short for the headers it claims: handed to the kernel, which counts and drops it itself. */
    PASS_MALFORMED(6, "xdp.steer.pass_malformed"),
    /** An established flow of the {@link XdpFlowTable}: rewritten and sent on (XDP_TX or redirect) by the program. */
    OFFLOAD_FORWARDED(7, "xdp.steer.offload_forwarded"),
    /**
     * Matched a flow table entry of an older epoch (its MACs may be stale): left untouched to the normal steering,
     * and counted again there; the forwarder re-installs the entry.
     */
    OFFLOAD_STALE(8, "xdp.steer.offload_stale");

    public static final int COUNT = values().length;

    private final int index;
    private final String label;

    SteeringCounter(final int index, final String label)
    {
        this.index = index;
        this.label = label;
    }

    public int index()
    {
        return index;
    }

    public String label()
    {
        return label;
    }
}
