package io.sluice.fastpath;

/**
 * Every fastpath counter type, with its stable Agrona type id (fastpath range 200–399) and label (dotted lower case).
 * Listener counters (230–269) exist once per listener, labelled {@code <stem>.<listener name>}; backend counters
 * (270–299) once per (listener, backend), labelled {@code <stem>.<listener name>.<address>:<port>}; instance counters
 * (370–379) once per load balancer, labelled {@code <stem>.<load balancer name>}; every other id (200–229, 300–369,
 * 380–399) is a global counter, once per node. A counter's slot is its position within its group, whatever
 * the declaration order. Drop counters have {@code drop} in their labels.
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
    LISTENER_BANDWIDTH_DELAYED(241, "fastpath.listener.bandwidth.delayed"),
    LISTENER_DROP_NEW_FLOW_RATE(242, "fastpath.listener.drop.new_flow_rate"),
    LISTENER_DROP_SOURCE_NEW_FLOW_RATE(243, "fastpath.listener.drop.source_new_flow_rate"),

    BACKEND_PACKETS_IN(270, "fastpath.backend.packets_in"),
    BACKEND_BYTES_IN(271, "fastpath.backend.bytes_in"),
    BACKEND_PACKETS_OUT(272, "fastpath.backend.packets_out"),
    BACKEND_BYTES_OUT(273, "fastpath.backend.bytes_out"),
    BACKEND_NEW_SESSIONS(274, "fastpath.backend.sessions.new"),
    BACKEND_ACTIVE_SESSIONS(275, "fastpath.backend.sessions.active"),

    // Guard (300–339): malformed input by reason (each also counts in drop.malformed), fragments, unsupported input
    // by reason (each also counts in drop.unsupported), ICMP handled by the fastpath. See docs/fastpath.md.
    MALFORMED_ETHERNET_TRUNCATED(300, "fastpath.drop.malformed.ethernet_truncated"),
    MALFORMED_VLAN_TRUNCATED(301, "fastpath.drop.malformed.vlan_truncated"),
    MALFORMED_IPV4_TRUNCATED(302, "fastpath.drop.malformed.ipv4_truncated"),
    MALFORMED_IPV4_VERSION(303, "fastpath.drop.malformed.ipv4_version"),
    MALFORMED_IPV4_HEADER_LENGTH(304, "fastpath.drop.malformed.ipv4_header_length"),
    MALFORMED_IPV4_TOTAL_LENGTH(305, "fastpath.drop.malformed.ipv4_total_length"),
    MALFORMED_IPV4_CHECKSUM(306, "fastpath.drop.malformed.ipv4_checksum"),
    MALFORMED_IPV6_TRUNCATED(307, "fastpath.drop.malformed.ipv6_truncated"),
    MALFORMED_IPV6_VERSION(308, "fastpath.drop.malformed.ipv6_version"),
    MALFORMED_IPV6_PAYLOAD_LENGTH(309, "fastpath.drop.malformed.ipv6_payload_length"),
    MALFORMED_TCP_TRUNCATED(310, "fastpath.drop.malformed.tcp_truncated"),
    MALFORMED_TCP_DATA_OFFSET(311, "fastpath.drop.malformed.tcp_data_offset"),
    MALFORMED_TCP_CHECKSUM(312, "fastpath.drop.malformed.tcp_checksum"),
    MALFORMED_TCP_OPTIONS(313, "fastpath.drop.malformed.tcp_options"),
    MALFORMED_UDP_TRUNCATED(314, "fastpath.drop.malformed.udp_truncated"),
    MALFORMED_UDP_LENGTH(315, "fastpath.drop.malformed.udp_length"),
    MALFORMED_UDP_CHECKSUM(316, "fastpath.drop.malformed.udp_checksum"),
    MALFORMED_ICMP_TRUNCATED(317, "fastpath.drop.malformed.icmp_truncated"),
    MALFORMED_ICMP_CHECKSUM(318, "fastpath.drop.malformed.icmp_checksum"),
    MALFORMED_ICMP_QUOTE(319, "fastpath.drop.malformed.icmp_quote"),
    DROP_FRAGMENT(320, "fastpath.drop.fragment"),
    UNSUPPORTED_ETHERTYPE(321, "fastpath.drop.unsupported.ethertype"),
    UNSUPPORTED_PROTOCOL(322, "fastpath.drop.unsupported.protocol"),
    ICMP_ECHO_REPLIES(323, "fastpath.icmp.echo_replies"),
    ICMP_ERRORS_TO_CLIENT(324, "fastpath.icmp.errors_to_client"),
    ICMP_ERRORS_TO_BACKEND(325, "fastpath.icmp.errors_to_backend"),
    DROP_ICMP_NO_SESSION(326, "fastpath.drop.icmp.no_session"),
    DROP_ICMP_UNSUPPORTED(327, "fastpath.drop.icmp.unsupported"),

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
    SYNPROXY_EARLY_DATA_HELD(350, "fastpath.synproxy.early_data_held"),

    // Per load balancer (instance, 370–379): its listeners' outbound/inbound meter and bandwidth drops.
    INSTANCE_PACKETS_OUT(370, "fastpath.instance.packets_out"),
    INSTANCE_BYTES_OUT(371, "fastpath.instance.bytes_out"),
    INSTANCE_PACKETS_IN(372, "fastpath.instance.packets_in"),
    INSTANCE_BYTES_IN(373, "fastpath.instance.bytes_in"),
    INSTANCE_DROP_BANDWIDTH(374, "fastpath.instance.drop.bandwidth"),
    INSTANCE_BANDWIDTH_DELAYED(375, "fastpath.instance.bandwidth.delayed"),

    // Hand-off wake-ups (380): a forwarder handed a frame to an owner asleep in poll(2) and woke it (io.EventFdDoorbell).
    HANDOFF_WAKEUPS(380, "fastpath.handoff.wakeups"),
    // Duty-cycle accounting (390–391): wall time of the doWork calls that did work, and how many there were, so work
    // time per packet (÷ packets_in + packets_out) and frames per busy cycle come out of the counters file.
    FORWARDER_WORK_NANOS(390, "fastpath.forwarder.work_ns"),
    FORWARDER_BUSY_CYCLES(391, "fastpath.forwarder.busy_cycles"),
    // XDP flow offload (392–395, FlowOffload): sessions whose established frames the XDP program forwards in the kernel,
    // sessions it could not take (its map full), entries re-installed after a neighbour change, entry lookups on expiry.
    OFFLOADED_SESSIONS(392, "fastpath.offload.sessions"),
    OFFLOAD_FULL(393, "fastpath.offload.full"),
    OFFLOAD_REFRESHED(394, "fastpath.offload.refreshed"),
    OFFLOAD_EXPIRY_CHECKS(395, "fastpath.offload.expiry_checks"),
    // Frames the program forwarded, folded into packets_in/packets_out once a second: those minus this are the frames
    // the forwarders themselves handled.
    OFFLOAD_PACKETS(396, "fastpath.offload.packets");

    public static final FastpathCounter[] GLOBAL = group(Group.GLOBAL);
    public static final FastpathCounter[] LISTENER = group(Group.LISTENER);
    public static final FastpathCounter[] BACKEND = group(Group.BACKEND);
    /** Per load balancer (instance) counters, labelled {@code <stem>.<load balancer name>}. */
    public static final FastpathCounter[] INSTANCE = group(Group.INSTANCE);

    private enum Group
    {
        GLOBAL, LISTENER, BACKEND, INSTANCE
    }

    static
    {
        for (final FastpathCounter[] members : new FastpathCounter[][] {GLOBAL, LISTENER, BACKEND, INSTANCE})
        {
            for (int i = 0; i < members.length; i++)
            {
                members[i].slot = i;
            }
        }
    }

    private final int typeId;
    private final String label;
    private int slot;

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

    /** Index of this counter within its group (global, listener, backend or instance), in declaration order. */
    public int slot()
    {
        return slot;
    }

    private Group group()
    {
        if (typeId >= 230 && typeId < 270)
        {
            return Group.LISTENER;
        }
        if (typeId >= 270 && typeId < 300)
        {
            return Group.BACKEND;
        }
        if (typeId >= 370 && typeId < 380)
        {
            return Group.INSTANCE;
        }
        return Group.GLOBAL;
    }

    private static FastpathCounter[] group(final Group group)
    {
        return java.util.Arrays.stream(values()).filter(c -> c.group() == group).toArray(FastpathCounter[]::new);
    }
}
