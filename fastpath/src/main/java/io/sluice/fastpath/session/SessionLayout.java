package io.sluice.fastpath.session;

/**
 * The session record: 136 bytes, native byte order, the unit the session-sync issue replicates.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 generation (bumped on every state change)      |  0
 *  +---------------+---------------+---------------+---------------+
 *  |     state     |   protocol    |  family 4|6   |  owner index  |  4
 *  +---------------+---------------+---------------+---------------+
 *  |                client address (16, v4-mapped for IPv4)        |  8
 *  |                VIP address (16)                               | 24
 *  |                backend address (16)                           | 40
 *  |                local (SNAT) address (16)                      | 56
 *  +-------------------------------+-------------------------------+
 *  |         client port           |           VIP port            | 72
 *  |         backend port          |          local port           | 76
 *  |         listener id           |          backend id           | 80
 *  +-------------------------------+-------------------------------+
 *  |            created (seconds of the forwarder's nano clock)    | 84
 *  |            wheel / free-list link (record index + 1, 0 = end) | 88
 *  |       timeout seconds         |            flags              | 92
 *  +---------------------------------------------------------------+
 *  |            last seen (ns, the forwarder's nano clock)         | 96
 *  |            bytes in (client to backend)                       |104
 *  |            bytes out (backend to client)                      |112
 *  |            packets in             |          packets out      |120
 *  +---------------------------------------------------------------+
 *  |   synProxy: cookie (handshake), then seq delta (established)  |128
 *  |            XDP offload: the flow-table epoch of its entries   |132
 *  +---------------------------------------------------------------+
 * </pre>
 * Flags (offset 94): {@link #FLAG_SYNPROXY} the client's handshake was answered with a SYN cookie;
 * {@link #FLAG_SEQ_DELTA} the backend answered and offset 128 holds {@code cookie − backend ISN};
 * {@link #FLAG_OFFLOAD_CLIENT} / {@link #FLAG_OFFLOAD_REPLY} the XDP flow table holds the client / reply direction
 * (FlowOffload), installed under the epoch at offset 132.
 * Two lookup keys name a record: the client key (client, clientPort → VIP, vipPort, protocol) and the reply key
 * (backend, backendPort → local, localPort, protocol). Ports and ids are unsigned 16-bit. The link, timeout and
 * flags words are local bookkeeping a replica recomputes; everything else is state.
 */
public final class SessionLayout
{
    public static final int RECORD_LENGTH = 136;

    public static final int GENERATION_OFFSET = 0;
    public static final int STATE_OFFSET = 4;
    public static final int PROTOCOL_OFFSET = 5;
    public static final int FAMILY_OFFSET = 6;
    public static final int OWNER_OFFSET = 7;
    public static final int CLIENT_ADDRESS_OFFSET = 8;
    public static final int VIP_ADDRESS_OFFSET = 24;
    public static final int BACKEND_ADDRESS_OFFSET = 40;
    public static final int LOCAL_ADDRESS_OFFSET = 56;
    public static final int CLIENT_PORT_OFFSET = 72;
    public static final int VIP_PORT_OFFSET = 74;
    public static final int BACKEND_PORT_OFFSET = 76;
    public static final int LOCAL_PORT_OFFSET = 78;
    public static final int LISTENER_ID_OFFSET = 80;
    public static final int BACKEND_ID_OFFSET = 82;
    public static final int CREATED_SECONDS_OFFSET = 84;
    public static final int LINK_OFFSET = 88;
    public static final int TIMEOUT_SECONDS_OFFSET = 92;
    public static final int FLAGS_OFFSET = 94;
    public static final int LAST_SEEN_NS_OFFSET = 96;
    public static final int BYTES_IN_OFFSET = 104;
    public static final int BYTES_OUT_OFFSET = 112;
    public static final int PACKETS_IN_OFFSET = 120;
    public static final int PACKETS_OUT_OFFSET = 124;
    /** synProxy: the cookie (our ISN towards the client) until the backend answers, then the sequence delta. */
    public static final int SYNPROXY_SEQ_OFFSET = 128;
    /** XDP offload: the flow table's epoch when this session's entries were installed (FlowOffload). */
    public static final int OFFLOAD_EPOCH_OFFSET = 132;

    /** Flags word bits. */
    public static final short FLAG_SYNPROXY = 1;
    public static final short FLAG_SEQ_DELTA = 2;
    public static final short FLAG_OFFLOAD_CLIENT = 4;
    public static final short FLAG_OFFLOAD_REPLY = 8;
    public static final short SYNPROXY_FLAGS = FLAG_SYNPROXY | FLAG_SEQ_DELTA;
    public static final short OFFLOAD_FLAGS = FLAG_OFFLOAD_CLIENT | FLAG_OFFLOAD_REPLY;

    /** Record unused (on the free list or never allocated). */
    public static final byte STATE_FREE = 0;
    /** Client SYN seen: embryonic. */
    public static final byte STATE_TCP_SYN_SENT = 1;
    /** Backend SYN-ACK seen: still embryonic. */
    public static final byte STATE_TCP_SYN_RECEIVED = 2;
    public static final byte STATE_TCP_ESTABLISHED = 3;
    /** A FIN seen in either direction: short timeout. */
    public static final byte STATE_TCP_CLOSING = 4;
    /** RST seen or session removed: keys already gone, the record waits for the wheel to reclaim it. */
    public static final byte STATE_CLOSED = 5;
    public static final byte STATE_UDP = 6;

    /** Offsets of the two address pairs per lookup direction, for key comparison. */
    public static final int DIRECTION_CLIENT = 0;
    public static final int DIRECTION_REPLY = 1;

    private SessionLayout()
    {
    }

    public static String stateName(final int state)
    {
        return switch (state)
        {
            case STATE_FREE -> "free";
            case STATE_TCP_SYN_SENT -> "syn-sent";
            case STATE_TCP_SYN_RECEIVED -> "syn-received";
            case STATE_TCP_ESTABLISHED -> "established";
            case STATE_TCP_CLOSING -> "closing";
            case STATE_CLOSED -> "closed";
            case STATE_UDP -> "udp";
            default -> "unknown(" + state + ")";
        };
    }
}
