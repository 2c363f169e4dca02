package io.sluice.l7;

/**
 * Every l7-proxy counter, with its stable type id (400–499) and label. Listener counters are allocated per listener
 * (label suffixed with the listener name), backend counters per (listener, server).
 */
public enum L7Counter
{
    CONNECTIONS_ACCEPTED(400, "l7 connections accepted"),
    CONNECTIONS_ACTIVE(401, "l7 connections active"),
    ACL_DENIED_DROPS(402, "l7 acl denied drops"),
    MAX_CONNECTIONS_DROPS(403, "l7 max connections drops"),
    REQUESTS(404, "l7 requests"),
    RESPONSES_1XX(405, "l7 responses 1xx"),
    RESPONSES_2XX(406, "l7 responses 2xx"),
    RESPONSES_3XX(407, "l7 responses 3xx"),
    RESPONSES_4XX(408, "l7 responses 4xx"),
    RESPONSES_5XX(409, "l7 responses 5xx"),
    BAD_REQUEST_DROPS(410, "l7 bad request (400) drops"),
    HEADER_TOO_LARGE_DROPS(411, "l7 header too large (431) drops"),
    BODY_TOO_LARGE_DROPS(412, "l7 body too large (413) drops"),
    HEADER_TIMEOUT_DROPS(413, "l7 header or body timeout (408) drops"),
    URI_TOO_LONG_DROPS(414, "l7 uri too long (414) drops"),
    SMUGGLING_DROPS(415, "l7 conflicting length/encoding drops"),
    REDIRECTS(416, "l7 redirects"),
    NO_BACKEND_DROPS(417, "l7 no backend up (503) drops"),
    BACKEND_CONNECT_FAILURES(418, "l7 backend connect failures"),
    RETRIES(419, "l7 retries on another backend"),
    BACKEND_ERRORS(420, "l7 backend errors (502)"),
    REQUEST_TIMEOUTS(421, "l7 request timeouts (504)"),
    EJECTIONS(422, "l7 backend ejections"),
    UPGRADES(423, "l7 upgrades (websocket)"),
    POOL_REUSES(424, "l7 pooled backend connection reuses"),
    BACKEND_CONNECTS(425, "l7 backend connects"),
    ACCESS_LOG_DROPS(426, "l7 access log drops"),
    BACKEND_REQUESTS(450, "l7 backend requests"),
    BACKEND_FAILURES(451, "l7 backend failures");

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
