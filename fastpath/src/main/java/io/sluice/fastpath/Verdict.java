package io.sluice.fastpath;

/** What the forwarder did with a frame; every drop has a counter of the same name. */
public enum Verdict
{
    /** A parse stage passed; the caller goes on (never the outcome of a frame). */
    CONTINUE(null),
    TX(null),
    HANDOFF(FastpathCounter.HANDOFFS),
    /** Held until the next hop's MAC is known ({@link NeighbourQueue}); counts as a drop only if it never resolves. */
    NEIGHBOUR_QUEUED(null),
    DROP_MALFORMED(FastpathCounter.DROP_MALFORMED),
    DROP_UNSUPPORTED(FastpathCounter.DROP_UNSUPPORTED),
    DROP_NO_LISTENER(FastpathCounter.DROP_NO_LISTENER),
    DROP_ACL(FastpathCounter.DROP_ACL),
    DROP_LIMIT(FastpathCounter.DROP_LIMIT),
    DROP_TABLE_FULL(FastpathCounter.DROP_TABLE_FULL),
    DROP_NO_NEIGHBOUR(FastpathCounter.DROP_NO_NEIGHBOUR),
    DROP_UNSOLICITED(FastpathCounter.DROP_UNSOLICITED),
    DROP_NO_BACKEND(FastpathCounter.DROP_NO_BACKEND),
    DROP_NO_SNAT_PORT(FastpathCounter.DROP_NO_SNAT_PORT),
    DROP_NO_SESSION(FastpathCounter.DROP_NO_SESSION),
    DROP_HANDOFF_FULL(FastpathCounter.DROP_HANDOFF_FULL),
    DROP_TX_FULL(FastpathCounter.DROP_TX_FULL),
    /** Outbound (towards the client) beyond the listener's bandwidthMbps. */
    DROP_BANDWIDTH(FastpathCounter.DROP_BANDWIDTH),
    /** An IPv4 fragment (MF or offset set) or an IPv6 fragment header: not reassembled, never forwarded. */
    DROP_FRAGMENT(FastpathCounter.DROP_FRAGMENT),
    /** An ICMP error that quotes no tracked session. */
    DROP_ICMP_NO_SESSION(FastpathCounter.DROP_ICMP_NO_SESSION),
    /** ICMP the fastpath does not handle: other types, echo to an address that is no VIP. */
    DROP_ICMP_UNSUPPORTED(FastpathCounter.DROP_ICMP_UNSUPPORTED),
    /** A new flow beyond the listener's newConnectionsPerSecond. */
    DROP_NEW_FLOW_RATE(FastpathCounter.DROP_NEW_FLOW_RATE),
    /** A new flow beyond the listener's newConnectionsPerSourcePerSecond for its client address. */
    DROP_SOURCE_NEW_FLOW_RATE(FastpathCounter.DROP_SOURCE_NEW_FLOW_RATE),
    /** synProxy: a SYN answered with a SYN-ACK carrying a cookie (transmitted, no session). */
    SYN_COOKIE(FastpathCounter.SYN_COOKIES_SENT),
    /** synProxy: an ACK (or other segment) without a session whose cookie does not verify. */
    DROP_BAD_COOKIE(FastpathCounter.DROP_BAD_COOKIE),
    /** synProxy: a client segment without data while the backend has not answered yet (the client repeats it). */
    DROP_SYNPROXY_EARLY_DATA(FastpathCounter.DROP_SYNPROXY_EARLY_DATA);

    private final FastpathCounter counter;

    Verdict(final FastpathCounter counter)
    {
        this.counter = counter;
    }

    public FastpathCounter counter()
    {
        return counter;
    }
}
