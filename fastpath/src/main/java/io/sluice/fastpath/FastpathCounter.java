package io.sluice.fastpath;

/**
 * Every fastpath counter type, with its stable Agrona type id (fastpath range 200–399) and label stem.
 * Global counters (200–229) exist once per node; listener counters (230–269) once per listener, keyed by listener
 * id; backend counters (270–299) once per (listener, backend). Drop counters have {@code drop} in their labels.
 */
public enum FastpathCounter
{
    PACKETS_IN(200, "fastpath packets in"),
    BYTES_IN(201, "fastpath bytes in"),
    PACKETS_OUT(202, "fastpath packets out"),
    BYTES_OUT(203, "fastpath bytes out"),
    NEW_SESSIONS(204, "fastpath new sessions"),
    ACTIVE_SESSIONS(205, "fastpath active sessions"),
    EXPIRED_SESSIONS(206, "fastpath expired sessions"),
    HANDOFFS(207, "fastpath frames handed to owner"),
    DROP_NO_LISTENER(208, "fastpath drop no listener"),
    DROP_ACL(209, "fastpath drop acl"),
    DROP_LIMIT(210, "fastpath drop limit"),
    DROP_TABLE_FULL(211, "fastpath drop table full"),
    DROP_MALFORMED(212, "fastpath drop malformed"),
    DROP_NO_NEIGHBOUR(213, "fastpath drop no neighbour"),
    DROP_UNSOLICITED(214, "fastpath drop unsolicited"),
    DROP_NO_BACKEND(215, "fastpath drop no backend"),
    DROP_NO_SNAT_PORT(216, "fastpath drop no snat port"),
    DROP_NO_SESSION(217, "fastpath drop no session"),
    DROP_UNSUPPORTED(218, "fastpath drop unsupported"),
    DROP_HANDOFF_FULL(219, "fastpath drop handoff full"),
    DROP_TX_FULL(220, "fastpath drop tx full"),
    NEIGHBOUR_REQUESTS(221, "fastpath neighbour resolution requests"),

    LISTENER_PACKETS_IN(230, "listener packets in"),
    LISTENER_BYTES_IN(231, "listener bytes in"),
    LISTENER_PACKETS_OUT(232, "listener packets out"),
    LISTENER_BYTES_OUT(233, "listener bytes out"),
    LISTENER_NEW_SESSIONS(234, "listener new sessions"),
    LISTENER_ACTIVE_SESSIONS(235, "listener active sessions"),
    LISTENER_DROP_ACL(236, "listener drop acl"),
    LISTENER_DROP_LIMIT(237, "listener drop limit"),
    LISTENER_DROP_NO_BACKEND(238, "listener drop no backend"),
    LISTENER_DROP_TABLE_FULL(239, "listener drop table full"),

    BACKEND_PACKETS_IN(270, "backend packets in"),
    BACKEND_BYTES_IN(271, "backend bytes in"),
    BACKEND_PACKETS_OUT(272, "backend packets out"),
    BACKEND_BYTES_OUT(273, "backend bytes out"),
    BACKEND_NEW_SESSIONS(274, "backend new sessions"),
    BACKEND_ACTIVE_SESSIONS(275, "backend active sessions");

    public static final FastpathCounter[] GLOBAL = range(PACKETS_IN, NEIGHBOUR_REQUESTS);
    public static final FastpathCounter[] LISTENER = range(LISTENER_PACKETS_IN, LISTENER_DROP_TABLE_FULL);
    public static final FastpathCounter[] BACKEND = range(BACKEND_PACKETS_IN, BACKEND_ACTIVE_SESSIONS);

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
        if (typeId >= BACKEND_PACKETS_IN.typeId)
        {
            return ordinal() - BACKEND_PACKETS_IN.ordinal();
        }
        if (typeId >= LISTENER_PACKETS_IN.typeId)
        {
            return ordinal() - LISTENER_PACKETS_IN.ordinal();
        }
        return ordinal();
    }

    private static FastpathCounter[] range(final FastpathCounter first, final FastpathCounter last)
    {
        return java.util.Arrays.copyOfRange(values(), first.ordinal(), last.ordinal() + 1);
    }
}
