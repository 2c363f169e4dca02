package io.sluice.nativeio;

/**
 * Stable counter type ids of native-bindings (range 100–199) with their labels, as they appear in the node's
 * counters file (dotted lower case, drop counters named with {@code drop}; the interface and queue are appended,
 * e.g. {@code xsk.drop.rx_ring_full.eth1.q0}). Never renumber: {@code sluice stat} and dashboards key on them.
 */
public enum NativeCounterType
{
    STEER_PASS_UNMATCHED(110, "xdp.steer.pass_unmatched"),
    STEER_PASS_ENTRY(111, "xdp.steer.pass_entry"),
    STEER_REDIRECT_VIP(112, "xdp.steer.redirect_vip"),
    STEER_DROP_ENTRY(113, "xdp.steer.drop_entry"),
    STEER_REDIRECT_LOCAL(114, "xdp.steer.redirect_local"),
    STEER_PASS_LOCAL(115, "xdp.steer.pass_local"),
    STEER_PASS_MALFORMED(116, "xdp.steer.pass_malformed"),
    STEER_OFFLOAD_FORWARDED(117, "xdp.steer.offload_forwarded"),
    STEER_OFFLOAD_STALE(118, "xdp.steer.offload_stale"),
    XSK_RX_DROPPED(120, "xsk.drop.rx_dropped"),
    XSK_RX_INVALID_DESCS(121, "xsk.drop.rx_invalid_descs"),
    XSK_TX_INVALID_DESCS(122, "xsk.drop.tx_invalid_descs"),
    XSK_RX_RING_FULL(123, "xsk.drop.rx_ring_full"),
    XSK_RX_FILL_RING_EMPTY(124, "xsk.rx_fill_ring_empty"),
    XSK_TX_RING_EMPTY(125, "xsk.tx_ring_empty");

    /** Type id of steering counter index 0; index i is STEER_BASE + i. */
    public static final int STEER_BASE = 110;

    private final int id;
    private final String label;

    NativeCounterType(final int id, final String label)
    {
        this.id = id;
        this.label = label;
    }

    public int id()
    {
        return id;
    }

    public String label()
    {
        return label;
    }
}
