package io.sluice.fastpath;

/**
 * Every fastpath counter type, with its stable Agrona type id (fastpath range 200–399) and label (dotted lower case).
 * Global counters (200–229) exist once per node; listener counters (230–269) once per listener, labelled
 * {@code <stem>.<listener name>}; backend counters (270–299) once per (listener, backend), labelled
 * {@code <stem>.<listener name>.<address>:<port>}. Drop counters have {@code drop} in their labels.
 * Never renumber: {@code sluice stat} and dashboards key on the ids.
 */
public enum FastpathCounter
{
    PACKETS_IN(200, "fastpath.packets_in"),
    BYTES_IN(201, "fastpath.bytes_in"),
    PACKETS_OUT(202, "fastpath.packets_out"),
    BYTES_OUT(203, "fastpath.bytes_out"),
    NEW_SESSIONS(204, "fastpath.sessions.new"),
    ACTIVE_SESSIONS(205, "fastpath.sessions.active"),
    EXPIRED_SESSIONS(206, "fastpath.sessions.expired"),
    HANDOFFS(207, "fastpath.handoffs"),
    DROP_NO_LISTENER(208, "fastpath.drop.no_listener"),
    DROP_ACL(209, "fastpath.drop.acl"),
    DROP_LIMIT(210, "fastpath.drop.limit"),
    DROP_TABLE_FULL(211, "fastpath.drop.table_full"),
    DROP_MALFORMED(212, "fastpath.drop.malformed"),
    DROP_NO_NEIGHBOUR(213, "fastpath.drop.no_neighbour"),
    DROP_UNSOLICITED(214, "fastpath.drop.unsolicited"),
    DROP_NO_BACKEND(215, "fastpath.drop.no_backend"),
    DROP_NO_SNAT_PORT(216, "fastpath.drop.no_snat_port"),
    DROP_NO_SESSION(217, "fastpath.drop.no_session"),
    DROP_UNSUPPORTED(218, "fastpath.drop.unsupported"),
    DROP_HANDOFF_FULL(219, "fastpath.drop.handoff_full"),
    DROP_TX_FULL(220, "fastpath.drop.tx_full"),
    NEIGHBOUR_REQUESTS(221, "fastpath.neighbour_requests"),
    DROP_BANDWIDTH(222, "fastpath.drop.bandwidth"),

    LISTENER_PACKETS_IN(230, "fastpath.listener.packets_in"),
    LISTENER_BYTES_IN(231, "fastpath.listener.bytes_in"),
    LISTENER_PACKETS_OUT(232, "fastpath.listener.packets_out"),
    LISTENER_BYTES_OUT(233, "fastpath.listener.bytes_out"),
    LISTENER_NEW_SESSIONS(234, "fastpath.listener.sessions.new"),
    LISTENER_ACTIVE_SESSIONS(235, "fastpath.listener.sessions.active"),
    LISTENER_DROP_ACL(236, "fastpath.listener.drop.acl"),
    LISTENER_DROP_LIMIT(237, "fastpath.listener.drop.limit"),
    LISTENER_DROP_NO_BACKEND(238, "fastpath.listener.drop.no_backend"),
    LISTENER_DROP_TABLE_FULL(239, "fastpath.listener.drop.table_full"),
    LISTENER_DROP_BANDWIDTH(240, "fastpath.listener.drop.bandwidth"),

    BACKEND_PACKETS_IN(270, "fastpath.backend.packets_in"),
    BACKEND_BYTES_IN(271, "fastpath.backend.bytes_in"),
    BACKEND_PACKETS_OUT(272, "fastpath.backend.packets_out"),
    BACKEND_BYTES_OUT(273, "fastpath.backend.bytes_out"),
    BACKEND_NEW_SESSIONS(274, "fastpath.backend.sessions.new"),
    BACKEND_ACTIVE_SESSIONS(275, "fastpath.backend.sessions.active"),

    // SYN flood defence (issue 6): table-full reclaim, new-flow rate limits, SYN proxy, TOA. Global, 340–369.
    RECLAIMED_SESSIONS(340, "fastpath.sessions.reclaimed"),
    DROP_NEW_FLOW_RATE(341, "fastpath.drop.new_flow_rate"),
    DROP_SOURCE_NEW_FLOW_RATE(342, "fastpath.drop.source_new_flow_rate"),
    SYN_COOKIES_SENT(343, "fastpath.synproxy.cookies_sent"),
    SYN_COOKIES_ACCEPTED(344, "fastpath.synproxy.cookies_accepted"),
    DROP_BAD_COOKIE(345, "fastpath.drop.synproxy_bad_cookie"),
    DROP_SYNPROXY_EARLY_DATA(346, "fastpath.drop.synproxy_early_data"),
    SYNPROXY_HANDSHAKES(347, "fastpath.synproxy.handshakes"),
    TOA_ADDED(348, "fastpath.toa.added"),
    TOA_NO_ROOM(349, "fastpath.toa.no_room"),
    SYNPROXY_EARLY_DATA_HELD(350, "fastpath.synproxy.early_data_held");

    /** Global counters: ids below 230 and from 300 on (blocks added by later work). */
    public static final FastpathCounter[] GLOBAL = group(0);
    public static final FastpathCounter[] LISTENER = group(1);
    public static final FastpathCounter[] BACKEND = group(2);
    private static final int[] SLOTS = new int[values().length];

    static
    {
        for (final FastpathCounter[] g : new FastpathCounter[][] {GLOBAL, LISTENER, BACKEND})
        {
            for (int i = 0; i < g.length; i++)
            {
                SLOTS[g[i].ordinal()] = i;
            }
        }
    }

    private final int typeId;
    private final String label;

    FastpathCounter(final int typeId, final String label)
    {
        this.typeId = typeId;
        this.label = label;
    }

    public int typeId()
    {
        return typeId;
    }

    public String label()
    {
        return label;
    }

    /** Index of this counter within its group (global, listener or backend). */
    public int slot()
    {
        return SLOTS[ordinal()];
    }

    private static int groupOf(final int typeId)
    {
        if (typeId >= 230 && typeId < 270)
        {
            return 1;
        }
        return typeId >= 270 && typeId < 300 ? 2 : 0;
    }

    private static FastpathCounter[] group(final int group)
    {
        return java.util.Arrays.stream(values()).filter(c -> groupOf(c.typeId) == group).toArray(FastpathCounter[]::new);
    }
}
