package io.sluice.l7;

/**
 * Every l7-proxy counter, with its stable type id (400–499) and dotted name; drop counters have {@code drop} in their
 * names. Listener counters are allocated per listener with the label {@code name[listener]}, server counters per
 * (listener, server) as {@code name[listener server]}; the access-log drop counter is process-wide.
 * <ul>
 *   <li>{@code l7.drop.client_timeout}: 408, the head (slowloris) or the body (slow POST) took too long;
 *   {@code l7.drop.slow_body} counts those of them cut by the body-rate floor ({@link BodyRate}).</li>
 *   <li>{@code l7.drop.conflicting_framing}: Content-Length with Transfer-Encoding, or a Transfer-Encoding other than
 *   chunked (request smuggling).</li>
 *   <li>{@code l7.backend.errors}: 502, the backend failed or closed before answering; {@code l7.backend.timeouts}: 504.</li>
 *   <li>{@code l7.drop.tls_not_ready}: an https connection closed because the listener's TLS contexts are not loaded
 *   (key server down at start, certificate unknown to it).</li>
 *   <li>{@code l7.drop.no_backend}: 503, no server of the group is up, un-ejected and under its connection limit.</li>
 *   <li>{@code l7.bytes_out} / {@code l7.bytes_in}: bytes written to / read from client sockets (TLS records included:
 *   what crosses the wire, which is what the usage meter bills), counted under every other handler.</li>
 *   <li>{@code l7.bandwidth.*}: writes to clients held back by the listener's or the load balancer's outbound peak
 *   ({@link OutboundShaper}): how many, their bytes, the sum of their waits in µs, and the bytes held right now.</li>
 * </ul>
 */
public enum L7Counter
{
    CONNECTIONS_ACCEPTED(400, "l7.connections.accepted"),
    CONNECTIONS_ACTIVE(401, "l7.connections.active"),
    ACL_DENIED_DROPS(402, "l7.drop.acl_denied"),
    MAX_CONNECTIONS_DROPS(403, "l7.drop.max_connections"),
    REQUESTS(404, "l7.requests"),
    RESPONSES_1XX(405, "l7.responses.1xx"),
    RESPONSES_2XX(406, "l7.responses.2xx"),
    RESPONSES_3XX(407, "l7.responses.3xx"),
    RESPONSES_4XX(408, "l7.responses.4xx"),
    RESPONSES_5XX(409, "l7.responses.5xx"),
    BAD_REQUEST_DROPS(410, "l7.drop.bad_request"),
    HEADER_TOO_LARGE_DROPS(411, "l7.drop.header_too_large"),
    BODY_TOO_LARGE_DROPS(412, "l7.drop.body_too_large"),
    HEADER_TIMEOUT_DROPS(413, "l7.drop.client_timeout"),
    URI_TOO_LONG_DROPS(414, "l7.drop.uri_too_long"),
    SMUGGLING_DROPS(415, "l7.drop.conflicting_framing"),
    REDIRECTS(416, "l7.redirects"),
    NO_BACKEND_DROPS(417, "l7.drop.no_backend"),
    BACKEND_CONNECT_FAILURES(418, "l7.backend.connect_failures"),
    RETRIES(419, "l7.backend.retries"),
    BACKEND_ERRORS(420, "l7.backend.errors"),
    REQUEST_TIMEOUTS(421, "l7.backend.timeouts"),
    EJECTIONS(422, "l7.backend.ejections"),
    UPGRADES(423, "l7.upgrades"),
    POOL_REUSES(424, "l7.backend.pool_reuses"),
    BACKEND_CONNECTS(425, "l7.backend.connects"),
    ACCESS_LOG_DROPS(426, "l7.drop.access_log"),
    TLS_NOT_READY_DROPS(427, "l7.drop.tls_not_ready"),
    BYTES_OUT(428, "l7.bytes_out"),
    BYTES_IN(429, "l7.bytes_in"),
    SLOW_BODY_DROPS(430, "l7.drop.slow_body"),
    BANDWIDTH_DELAYED_WRITES(431, "l7.bandwidth.delayed_writes"),
    BANDWIDTH_DELAYED_BYTES(432, "l7.bandwidth.delayed_bytes"),
    BANDWIDTH_DELAY_MICROS(433, "l7.bandwidth.delay_micros"),
    BANDWIDTH_HELD_BYTES(434, "l7.bandwidth.held_bytes"),
    CLIENT_CLOSED_DROPS(435, "l7.drop.client_closed"),
    BACKEND_REQUESTS(450, "l7.server.requests"),
    BACKEND_FAILURES(451, "l7.server.failures");

    private final int typeId;
    private final String label;

    L7Counter(final int typeId, final String label)
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
}
