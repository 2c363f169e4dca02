package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.sluice.control.config.Schema.BoolSpec;
import io.sluice.control.config.Schema.CidrSpec;
import io.sluice.control.config.Schema.EnumSpec;
import io.sluice.control.config.Schema.Field;
import io.sluice.control.config.Schema.IntSpec;
import io.sluice.control.config.Schema.ListSpec;
import io.sluice.control.config.Schema.ObjectSpec;
import io.sluice.control.config.Schema.StringSpec;
import io.sluice.control.config.Schema.Values;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A protocol:port entry point on a load balancer's VIP. L4 keys (tcp, udp) and L7 keys (http, https) share one record;
 * a key that does not apply to the protocol is rejected when given, and takes a neutral value otherwise.
 *
 * @param protocol                  tcp | udp | http | https.
 * @param port                      the VIP port.
 * @param serverGroup               default group (null on a redirect-only listener).
 * @param scheduler                 how a server is picked.
 * @param maxConnections            0 = unlimited.
 * @param synProxy                  tcp: SYN cookies until the client completes the handshake.
 * @param persistenceTimeoutSeconds L4 source-IP persistence, 0 = off.
 * @param idleTimeoutSeconds        idle connection/session timeout.
 * @param bandwidthMbps             outbound peak, -1 = unlimited.
 * @param acl                       source ACL or null.
 * @param toa                       tcp: TCP option 254 with the client address.
 * @param healthCheck               per (listener, server) health check.
 * @param certificates              https: key-server certificate names; SNI picks.
 * @param tlsPolicy                 https: TLS preset.
 * @param http2                     L7: offer HTTP/2 (ALPN for https, prior knowledge for http).
 * @param mutualTls                 https: client certificates required, or null.
 * @param rules                     L7: host/path routing.
 * @param hashKey                   L7 hash scheduler key, or null.
 * @param stickySession             L7 sticky sessions, or null.
 * @param xForwardedFor             L7: append X-Forwarded-For and friends.
 * @param requestTimeoutSeconds     L7: whole request/response timeout.
 * @param headerTimeoutSeconds      L7: time to receive the request header.
 * @param maxHeaderBytes            L7: larger headers get 431.
 * @param maxBodyBytes              L7: larger bodies get 413.
 * @param proxyProtocol             tcp/http/https: PROXY protocol v2 to backends.
 * @param redirectTo                L7: redirect every request instead of proxying, or null.
 * @param newConnectionsPerSecond   tcp/udp: new flows per second admitted, 0 = unlimited (null on L7).
 * @param newConnectionsPerSourcePerSecond tcp/udp: new flows per second per client address, 0 = unlimited.
 * @param minBodyRateBytesPerSecond L7: slowest request body accepted (slow POST), 0 = off (null on L4).
 * @param minBodyRateWindowSeconds  L7: the window the body rate is measured over (null on L4).
 * @param gzip                      L7: gzip responses for clients that accept it when the backend did not compress.
 * @param loadBalancerHeaders       L7: add X-Sluice-Lb (the load balancer's name) and X-Sluice-Vip to requests.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Listener(
    Protocol protocol,
    int port,
    String serverGroup,
    Scheduler scheduler,
    int maxConnections,
    Boolean synProxy,
    Integer persistenceTimeoutSeconds,
    int idleTimeoutSeconds,
    int bandwidthMbps,
    Acl acl,
    Boolean toa,
    HealthCheck healthCheck,
    List<String> certificates,
    TlsPolicy tlsPolicy,
    Boolean http2,
    MutualTls mutualTls,
    List<Rule> rules,
    HashKey hashKey,
    StickySession stickySession,
    Boolean xForwardedFor,
    Integer requestTimeoutSeconds,
    Integer headerTimeoutSeconds,
    Integer maxHeaderBytes,
    Long maxBodyBytes,
    Boolean proxyProtocol,
    RedirectTo redirectTo,
    Integer newConnectionsPerSecond,
    Integer newConnectionsPerSourcePerSecond,
    Integer minBodyRateBytesPerSecond,
    Integer minBodyRateWindowSeconds,
    Boolean gzip,
    Boolean loadBalancerHeaders)
{
    private static final StringSpec GROUP_NAME = StringSpec.matching(NodeConfig.NAME_PATTERN, "a server group name");

    /**
     * Source-address ACL.
     *
     * @param mode  allow: only these sources; deny: all but these.
     * @param cidrs the prefixes, IPv4 and IPv6.
     */
    public record Acl(AclMode mode, List<Cidr> cidrs)
    {
        static final Field<AclMode> MODE = Field.required("mode", new EnumSpec<>(AclMode.class),
            "allow: only the listed sources; deny: every source but those.");
        static final Field<List<Cidr>> CIDRS = Field.required("cidrs", new ListSpec<>(new CidrSpec(), 0, 10_000),
            "Source prefixes, IPv4 and IPv6.");
        public static final ObjectSpec<Acl> SPEC = new ObjectSpec<>("acl", "A source-address ACL.",
            v -> new Acl(v.get(MODE), v.get(CIDRS)), MODE, CIDRS);
    }

    /**
     * Health check of each (listener, server).
     *
     * @param enabled            false: servers are always up.
     * @param type               tcp | http | https | udp.
     * @param intervalSeconds    between probes.
     * @param timeoutSeconds     for one probe.
     * @param healthyThreshold   successes to mark up.
     * @param unhealthyThreshold failures to mark down.
     * @param path               http(s): request path.
     * @param host               http(s): Host header, or null for the server address.
     * @param port               probe port, 0 = the server's port.
     * @param method             http(s): GET or HEAD.
     * @param expectedCodes      http(s): status classes that count as healthy.
     * @param udpRequest         udp: payload sent.
     * @param udpResponse        udp: expected reply (substring), or null for "no ICMP unreachable".
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record HealthCheck(boolean enabled, HealthCheckType type, int intervalSeconds, int timeoutSeconds,
        int healthyThreshold, int unhealthyThreshold, String path, String host, int port, HttpMethod method,
        List<ExpectedCode> expectedCodes, String udpRequest, String udpResponse)
    {
        static final Field<Boolean> ENABLED = Field.optional("enabled", new BoolSpec(), true,
            "false: no probes, every server counts as up.");
        static final Field<HealthCheckType> TYPE = Field.derived("type", new EnumSpec<>(HealthCheckType.class),
            "tcp for tcp, udp for udp, http for http/https", "The probe.");
        static final Field<Long> INTERVAL = Field.optional("intervalSeconds", IntSpec.range(1, 50), 2L, "Time between probes.");
        static final Field<Long> TIMEOUT = Field.optional("timeoutSeconds", IntSpec.range(1, 300), 5L, "Timeout of one probe.");
        static final Field<Long> HEALTHY = Field.optional("healthyThreshold", IntSpec.range(1, 10), 3L,
            "Consecutive successes that mark a server up.");
        static final Field<Long> UNHEALTHY = Field.optional("unhealthyThreshold", IntSpec.range(1, 10), 3L,
            "Consecutive failures that mark a server down.");
        static final Field<String> PATH = Field.optional("path",
            StringSpec.matching("/[\\x21-\\x7e]{0,1023}", "an absolute request path (no spaces)"), "/", "http(s): request path.");
        static final Field<String> HOST = Field.optional("host",
            StringSpec.matching("[A-Za-z0-9.:\\[\\]-]{1,253}", "a host name"), null, "http(s): Host header (default: the server address).");
        static final Field<Long> PORT = Field.optional("port", IntSpec.rangeOr(1, 65535, 0, "the server's port"), 0L,
            "Probe port.");
        static final Field<HttpMethod> METHOD = Field.optional("method", new EnumSpec<>(HttpMethod.class), HttpMethod.GET,
            "http(s): request method.");
        static final Field<List<ExpectedCode>> EXPECTED = Field.optional("expectedCodes",
            new ListSpec<>(new EnumSpec<>(ExpectedCode.class), 1, 4), List.of(ExpectedCode.HTTP_2XX, ExpectedCode.HTTP_3XX),
            "http(s): status classes that count as healthy.");
        static final Field<String> UDP_REQUEST = Field.optional("udpRequest",
            StringSpec.matching("[\\s\\S]{1,512}", "1..512 characters"), "ping", "udp: payload sent.");
        static final Field<String> UDP_RESPONSE = Field.optional("udpResponse",
            StringSpec.matching("[\\s\\S]{1,512}", "1..512 characters"), null,
            "udp: expected reply (substring); absent: healthy unless an ICMP unreachable comes back.");
        public static final ObjectSpec<HealthCheck> SPEC = new ObjectSpec<>("healthCheck", "Per (listener, server) health check.",
            v -> new HealthCheck(v.get(ENABLED), v.get(TYPE), v.get(INTERVAL).intValue(), v.get(TIMEOUT).intValue(),
                v.get(HEALTHY).intValue(), v.get(UNHEALTHY).intValue(), v.get(PATH), v.get(HOST), v.get(PORT).intValue(),
                v.get(METHOD), v.get(EXPECTED), v.get(UDP_REQUEST), v.get(UDP_RESPONSE)),
            ENABLED, TYPE, INTERVAL, TIMEOUT, HEALTHY, UNHEALTHY, PATH, HOST, PORT, METHOD, EXPECTED, UDP_REQUEST, UDP_RESPONSE);

        HealthCheck withType(final HealthCheckType resolved)
        {
            return new HealthCheck(enabled, resolved, intervalSeconds, timeoutSeconds, healthyThreshold, unhealthyThreshold,
                path, host, port, method, expectedCodes, udpRequest, udpResponse);
        }
    }

    /**
     * An L7 routing rule: host exact or {@code *.wildcard} (exact wins), path longest prefix.
     *
     * @param host        host pattern, or null for any.
     * @param path        path prefix, or null for any.
     * @param serverGroup the group matching requests go to.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Rule(String host, String path, String serverGroup)
    {
        static final Field<String> HOST = Field.optional("host",
            StringSpec.matching("(\\*\\.)?[A-Za-z0-9]([-A-Za-z0-9]{0,62})(\\.[A-Za-z0-9]([-A-Za-z0-9]{0,62}))*",
                "a host name or *.domain"), null, "Host exact or *.wildcard; exact wins.");
        static final Field<String> PATH = Field.optional("path",
            StringSpec.matching("/[\\x21-\\x7e]{0,1023}", "a path prefix starting with /"), null, "Path prefix; longest wins.");
        static final Field<String> GROUP = Field.required("serverGroup", GROUP_NAME, "The group matching requests go to.");
        public static final ObjectSpec<Rule> SPEC = new ObjectSpec<>("rule", "An L7 routing rule.", Rule::from, HOST, PATH, GROUP);

        private static Rule from(final Values v)
        {
            if (v.get(HOST) == null && v.get(PATH) == null)
            {
                v.reject(HOST, "a rule needs a host, a path or both");
            }
            return new Rule(v.get(HOST), v.get(PATH), v.get(GROUP));
        }
    }

    /**
     * The key of the L7 hash scheduler.
     *
     * @param source ip | header | cookie.
     * @param name   header or cookie name.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record HashKey(HashSource source, String name)
    {
        static final Field<HashSource> SOURCE = Field.optional("source", new EnumSpec<>(HashSource.class), HashSource.IP,
            "What is hashed.");
        static final Field<String> NAME = Field.optional("name", StringSpec.matching("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}",
            "a header or cookie name"), null, "Header or cookie name (required for those sources).");
        public static final ObjectSpec<HashKey> SPEC = new ObjectSpec<>("hashKey", "The key of the hash scheduler.",
            HashKey::from, SOURCE, NAME);

        private static HashKey from(final Values v)
        {
            if (v.get(SOURCE) != HashSource.IP && v.get(NAME) == null)
            {
                v.reject(NAME, "is required when source is " + v.get(SOURCE).wireName());
            }
            if (v.get(SOURCE) == HashSource.IP && v.get(NAME) != null)
            {
                v.reject(NAME, "is only for header and cookie sources");
            }
            return new HashKey(v.get(SOURCE), v.get(NAME));
        }
    }

    /**
     * Sticky sessions.
     *
     * @param type                 insert: the proxy sets a cookie naming the server; server: rewrites the server's cookie.
     * @param cookieTimeoutSeconds insert: cookie lifetime.
     * @param cookieName           server: the server's cookie.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record StickySession(StickyType type, int cookieTimeoutSeconds, String cookieName)
    {
        static final Field<StickyType> TYPE = Field.required("type", new EnumSpec<>(StickyType.class),
            "insert: the proxy sets a cookie naming the server; server: the proxy rewrites the server's own cookie.");
        static final Field<Long> TIMEOUT = Field.optional("cookieTimeoutSeconds", IntSpec.range(1, 86_400), 1000L,
            "insert: cookie lifetime.");
        static final Field<String> NAME = Field.optional("cookieName",
            StringSpec.matching("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,200}", "a cookie name"), null,
            "server: the server's cookie (required for that type).");
        public static final ObjectSpec<StickySession> SPEC = new ObjectSpec<>("stickySession", "Sticky sessions.",
            StickySession::from, TYPE, TIMEOUT, NAME);

        private static StickySession from(final Values v)
        {
            if (v.get(TYPE) == StickyType.SERVER && v.get(NAME) == null)
            {
                v.reject(NAME, "is required when type is server");
            }
            return new StickySession(v.get(TYPE), v.get(TIMEOUT).intValue(), v.get(NAME));
        }
    }

    /**
     * Mutual TLS.
     *
     * @param caCertificate name of a CA certificate imported into the key server with {@code import --ca}.
     */
    public record MutualTls(String caCertificate)
    {
        static final Field<String> CA = Field.required("caCertificate",
            StringSpec.matching(NodeConfig.NAME_PATTERN, "a certificate name"), "CA certificate name in the key server.");
        public static final ObjectSpec<MutualTls> SPEC = new ObjectSpec<>("mutualTls", "Client certificates required.",
            v -> new MutualTls(v.get(CA)), CA);
    }

    /**
     * Redirect every request.
     *
     * @param protocol http | https.
     * @param port     target port.
     * @param code     301 or 308.
     */
    public record RedirectTo(Protocol protocol, int port, int code)
    {
        static final Field<Protocol> PROTOCOL = Field.required("protocol", new EnumSpec<>(Protocol.class), "http or https.");
        static final Field<Long> PORT = Field.required("port", IntSpec.range(1, 65535), "Target port.");
        static final Field<Long> CODE = Field.optional("code", IntSpec.range(301, 308), 301L,
            "301 (may turn POST into GET) or 308 (keeps the method).");
        public static final ObjectSpec<RedirectTo> SPEC = new ObjectSpec<>("redirectTo", "Redirect instead of proxying.",
            RedirectTo::from, PROTOCOL, PORT, CODE);

        private static RedirectTo from(final Values v)
        {
            if (!v.get(PROTOCOL).isL7())
            {
                v.reject(PROTOCOL, "\"" + v.get(PROTOCOL).wireName() + "\" is not one of http | https");
            }
            if (v.get(CODE) != 301 && v.get(CODE) != 308)
            {
                v.reject(CODE, v.get(CODE) + " is not one of 301 | 308");
            }
            return new RedirectTo(v.get(PROTOCOL), v.get(PORT).intValue(), v.get(CODE).intValue());
        }
    }

    static final Field<Protocol> PROTOCOL = Field.required("protocol", new EnumSpec<>(Protocol.class), "The listener's protocol.");
    static final Field<Long> PORT = Field.required("port", IntSpec.range(1, 65535), "The VIP port.");
    static final Field<String> SERVER_GROUP = Field.optional("serverGroup", GROUP_NAME, null,
        "The default server group (required unless redirectTo is given).");
    static final Field<Scheduler> SCHEDULER = Field.optional("scheduler", new EnumSpec<>(Scheduler.class), Scheduler.WRR,
        "tcp/udp: rr | wrr | wlc | sh | maglev; http/https: rr | wrr | wlc | hash.");
    static final Field<Long> MAX_CONNECTIONS = Field.optional("maxConnections", IntSpec.range(0, 100_000_000), 0L,
        "Concurrent connections (L4: sessions) at the most; 0 = unlimited.");
    static final Field<Boolean> SYN_PROXY = Field.optional("synProxy", new BoolSpec(), false,
        "tcp: answer SYNs with cookies until the client completes the handshake.");
    static final Field<Long> PERSISTENCE = Field.optional("persistenceTimeoutSeconds", IntSpec.range(0, 3600), 0L,
        "tcp/udp: source-IP persistence; 0 = off.");
    static final Field<Long> IDLE_TIMEOUT = Field.derived("idleTimeoutSeconds", IntSpec.range(1, 900),
        "tcp 900 (10..900), udp 300 (10..900), http/https 15 (1..60)", "Idle connection (L4: session) timeout.");
    static final Field<Long> BANDWIDTH = Field.optional("bandwidthMbps",
        IntSpec.rangeOr(1, LoadBalancer.MAX_BANDWIDTH_MBPS, -1, "unlimited"), -1L, "Outbound peak of this listener.");
    static final Field<Acl> ACL = Field.optional("acl", Acl.SPEC, null, "Source ACL, checked before any byte is read.");
    static final Field<Boolean> TOA = Field.optional("toa", new BoolSpec(), false,
        "tcp: TCP option 254 carrying the client address and port to the backend.");
    static final Field<HealthCheck> HEALTH_CHECK = Field.derived("healthCheck", HealthCheck.SPEC, "enabled, type by protocol",
        "Health check of each server for this listener.");
    static final Field<List<String>> CERTIFICATES = Field.optional("certificates",
        new ListSpec<>(StringSpec.matching(NodeConfig.NAME_PATTERN, "a certificate name"), 0, 64), List.of(),
        "https: certificate names imported into the key server; SNI picks one (the first is the default).");
    static final Field<TlsPolicy> TLS_POLICY = Field.derived("tlsPolicy", new EnumSpec<>(TlsPolicy.class),
        "tls_1_2 for https", "https: TLS versions and suites.");
    static final Field<Boolean> HTTP2 = Field.optional("http2", new BoolSpec(), false,
        "http/https: offer HTTP/2 (ALPN h2 on https, prior knowledge on http).");
    static final Field<MutualTls> MUTUAL_TLS = Field.optional("mutualTls", MutualTls.SPEC, null,
        "https: require client certificates signed by this CA.");
    static final Field<List<Rule>> RULES = Field.optional("rules", new ListSpec<>(Rule.SPEC, 0, 1000), List.of(),
        "http/https: host/path routing rules.");
    static final Field<HashKey> HASH_KEY = Field.derived("hashKey", HashKey.SPEC, "source ip when scheduler is hash",
        "http/https: what the hash scheduler hashes.");
    static final Field<StickySession> STICKY = Field.optional("stickySession", StickySession.SPEC, null,
        "http/https: sticky sessions by cookie.");
    static final Field<Boolean> XFF = Field.derived("xForwardedFor", new BoolSpec(), "true for http/https",
        "http/https: append X-Forwarded-For, X-Forwarded-Proto/Port and X-Real-IP.");
    static final Field<Long> REQUEST_TIMEOUT = Field.optional("requestTimeoutSeconds", IntSpec.range(1, 180), 60L,
        "http/https: time for the backend to answer a request.");
    static final Field<Long> HEADER_TIMEOUT = Field.optional("headerTimeoutSeconds", IntSpec.range(1, 60), 10L,
        "http/https: time for a client to send the request header (else 408).");
    static final Field<Long> MAX_HEADER_BYTES = Field.optional("maxHeaderBytes", IntSpec.range(1024, 1 << 20), 32_768L,
        "http/https: larger request headers get 431.");
    static final Field<Long> MAX_BODY_BYTES = Field.optional("maxBodyBytes", IntSpec.range(0, 1L << 40), 10_485_760L,
        "http/https: larger request bodies get 413; 0 = no body allowed.");
    static final Field<Boolean> PROXY_PROTOCOL = Field.optional("proxyProtocol", new BoolSpec(), false,
        "tcp/http/https: PROXY protocol v2 header to backends.");
    static final Field<RedirectTo> REDIRECT = Field.optional("redirectTo", RedirectTo.SPEC, null,
        "http/https: answer every request with a redirect (keeps host, path and query) instead of proxying.");

    static final Field<Long> NEW_CONNECTIONS = Field.optional("newConnectionsPerSecond", IntSpec.range(0, 100_000_000), 0L,
        "tcp/udp: new connections (L4 sessions) per second admitted, beyond that dropped and counted; 0 = unlimited.");
    static final Field<Long> NEW_CONNECTIONS_PER_SOURCE = Field.optional("newConnectionsPerSourcePerSecond",
        IntSpec.range(0, 100_000_000), 0L, "tcp/udp: new connections per second per client address; 0 = unlimited.");

    static final Field<Long> MIN_BODY_RATE = Field.optional("minBodyRateBytesPerSecond", IntSpec.range(0, 1 << 30), 512L,
        "http/https: slowest request body accepted, measured over minBodyRateWindowSeconds windows (a window in which the backend was not "
            + "taking the body does not count); slower gets 408 and the connection closes; 0 = off.");

    static final Field<Long> MIN_BODY_RATE_WINDOW = Field.optional("minBodyRateWindowSeconds", IntSpec.range(1, 60), 10L,
        "http/https: the window minBodyRateBytesPerSecond is measured over; a body must bring rate × window bytes in each.");
    static final Field<Boolean> GZIP = Field.optional("gzip", new BoolSpec(), false,
        "http/https: gzip responses when the client accepts gzip and the backend sent them without a Content-Encoding.");
    static final Field<Boolean> LB_HEADERS = Field.optional("loadBalancerHeaders", new BoolSpec(), false,
        "http/https: add X-Sluice-Lb (the load balancer's name) and X-Sluice-Vip (its VIP) to requests to backends.");

    public static final ObjectSpec<Listener> SPEC = new ObjectSpec<>("listener", "A protocol:port entry point on the VIP.",
        Listener::from, PROTOCOL, PORT, SERVER_GROUP, SCHEDULER, MAX_CONNECTIONS, SYN_PROXY, PERSISTENCE, IDLE_TIMEOUT,
        BANDWIDTH, ACL, TOA, HEALTH_CHECK, CERTIFICATES, TLS_POLICY, HTTP2, MUTUAL_TLS, RULES, HASH_KEY, STICKY, XFF,
        REQUEST_TIMEOUT, HEADER_TIMEOUT, MAX_HEADER_BYTES, MAX_BODY_BYTES, PROXY_PROTOCOL, REDIRECT,
        NEW_CONNECTIONS, NEW_CONNECTIONS_PER_SOURCE, MIN_BODY_RATE, MIN_BODY_RATE_WINDOW, GZIP, LB_HEADERS);

    private static final Set<Scheduler> L4_SCHEDULERS =
        EnumSet.of(Scheduler.RR, Scheduler.WRR, Scheduler.WLC, Scheduler.SH, Scheduler.MAGLEV);
    private static final Set<Scheduler> L7_SCHEDULERS = EnumSet.of(Scheduler.RR, Scheduler.WRR, Scheduler.WLC, Scheduler.HASH);

    /** Where this listener is served: the L7 proxy or the L4 fastpath. */
    @JsonIgnore
    public boolean isL7()
    {
        return protocol.isL7();
    }

    /** {@code proto:port}, the name the CLI and API use for a listener. */
    public String key()
    {
        return protocol.wireName() + ":" + port;
    }

    private static Listener from(final Values v)
    {
        final Protocol protocol = v.get(PROTOCOL);
        final boolean l7 = protocol.isL7();
        final String only = l7 ? "is only for tcp/udp listeners" : "is only for http/https listeners";
        for (final Field<?> l7Key : List.of(RULES, HASH_KEY, STICKY, XFF, REQUEST_TIMEOUT, HEADER_TIMEOUT, MAX_HEADER_BYTES,
            MAX_BODY_BYTES, HTTP2, REDIRECT, MIN_BODY_RATE, MIN_BODY_RATE_WINDOW, GZIP, LB_HEADERS))
        {
            if (!l7 && v.present(l7Key) && !(v.get(l7Key) instanceof List<?> list && list.isEmpty()))
            {
                v.reject(l7Key, only);
            }
        }
        for (final Field<Long> l4Key : List.of(NEW_CONNECTIONS, NEW_CONNECTIONS_PER_SOURCE))
        {
            if (l7 && v.present(l4Key) && v.get(l4Key) != 0)
            {
                v.reject(l4Key, "is only for tcp/udp listeners");
            }
        }
        if (l7 && v.present(PERSISTENCE) && v.get(PERSISTENCE) != 0)
        {
            v.reject(PERSISTENCE, "is only for tcp/udp listeners (http/https use stickySession)");
        }
        if (protocol != Protocol.TCP)
        {
            if (v.get(SYN_PROXY))
            {
                v.reject(SYN_PROXY, "is only for tcp listeners");
            }
            if (v.get(TOA))
            {
                v.reject(TOA, "is only for tcp listeners");
            }
        }
        if (protocol == Protocol.UDP && v.get(PROXY_PROTOCOL))
        {
            v.reject(PROXY_PROTOCOL, "is not for udp listeners");
        }
        if (protocol != Protocol.HTTPS)
        {
            if (!v.get(CERTIFICATES).isEmpty())
            {
                v.reject(CERTIFICATES, "is only for https listeners");
            }
            if (v.present(TLS_POLICY))
            {
                v.reject(TLS_POLICY, "is only for https listeners");
            }
            if (v.present(MUTUAL_TLS))
            {
                v.reject(MUTUAL_TLS, "is only for https listeners");
            }
        }
        else if (v.get(CERTIFICATES).isEmpty())
        {
            v.reject(CERTIFICATES, "an https listener needs at least one certificate");
        }

        final Scheduler scheduler = v.get(SCHEDULER);
        if (!(l7 ? L7_SCHEDULERS : L4_SCHEDULERS).contains(scheduler))
        {
            v.reject(SCHEDULER, "\"" + scheduler.wireName() + "\" is not one of "
                + (l7 ? "rr | wrr | wlc | hash" : "rr | wrr | wlc | sh | maglev") + " for " + protocol.wireName() + " listeners");
        }
        // A hashKey next to another scheduler is kept (switching the scheduler to hash later uses it), not an error.
        HashKey hashKey = v.get(HASH_KEY);
        if (hashKey == null && scheduler == Scheduler.HASH)
        {
            hashKey = new HashKey(HashSource.IP, null);
        }

        final long idleDefault = switch (protocol)
        {
            case TCP -> 900;
            case UDP -> 300;
            case HTTP, HTTPS -> 15;
        };
        final long idleMin = l7 ? 1 : 10;
        final long idleMax = l7 ? 60 : 900;
        final long idle = v.get(IDLE_TIMEOUT) == null ? idleDefault : v.get(IDLE_TIMEOUT);
        if (idle < idleMin || idle > idleMax)
        {
            v.reject(IDLE_TIMEOUT, idle + " is not in " + idleMin + ".." + idleMax + " for " + protocol.wireName() + " listeners");
        }

        final HealthCheckType defaultCheck = switch (protocol)
        {
            case TCP -> HealthCheckType.TCP;
            case UDP -> HealthCheckType.UDP;
            case HTTP, HTTPS -> HealthCheckType.HTTP;
        };
        HealthCheck healthCheck = v.get(HEALTH_CHECK);
        if (healthCheck == null)
        {
            healthCheck = HealthCheck.SPEC.defaults();
        }
        if (healthCheck.type() == null)
        {
            healthCheck = healthCheck.withType(defaultCheck);
        }
        final boolean udpCheck = healthCheck.type() == HealthCheckType.UDP;
        if ((protocol == Protocol.UDP) != udpCheck)
        {
            v.reject(HEALTH_CHECK, "type " + healthCheck.type().wireName() + " cannot check a " + protocol.wireName() + " listener");
        }

        final RedirectTo redirect = v.get(REDIRECT);
        if (v.get(SERVER_GROUP) == null && redirect == null)
        {
            v.reject(SERVER_GROUP, "is required (or give redirectTo on an http/https listener)");
        }
        if (redirect != null && redirect.protocol() == protocol && redirect.port() == v.get(PORT).intValue())
        {
            v.reject(REDIRECT, "redirects to itself (" + protocol.wireName() + ":" + redirect.port() + ")");
        }

        // Keys that do not apply to the protocol are null, so the record written back out (API, get -o yaml) is valid input.
        final boolean tcp = protocol == Protocol.TCP;
        return new Listener(protocol, v.get(PORT).intValue(), v.get(SERVER_GROUP), scheduler, v.get(MAX_CONNECTIONS).intValue(),
            tcp ? v.get(SYN_PROXY) : null, l7 ? null : v.get(PERSISTENCE).intValue(), (int)idle, v.get(BANDWIDTH).intValue(),
            v.get(ACL), tcp ? v.get(TOA) : null, healthCheck, v.get(CERTIFICATES),
            protocol == Protocol.HTTPS ? orDefault(v.get(TLS_POLICY), TlsPolicy.TLS_1_2) : null,
            l7 ? v.get(HTTP2) : null, v.get(MUTUAL_TLS), v.get(RULES), hashKey, v.get(STICKY),
            l7 ? orDefault(v.get(XFF), true) : null,
            l7 ? v.get(REQUEST_TIMEOUT).intValue() : null, l7 ? v.get(HEADER_TIMEOUT).intValue() : null,
            l7 ? v.get(MAX_HEADER_BYTES).intValue() : null, l7 ? v.get(MAX_BODY_BYTES) : null,
            protocol == Protocol.UDP ? null : v.get(PROXY_PROTOCOL), redirect,
            l7 ? null : v.get(NEW_CONNECTIONS).intValue(), l7 ? null : v.get(NEW_CONNECTIONS_PER_SOURCE).intValue(),
            l7 ? v.get(MIN_BODY_RATE).intValue() : null, l7 ? v.get(MIN_BODY_RATE_WINDOW).intValue() : null,
            l7 ? v.get(GZIP) : null, l7 ? v.get(LB_HEADERS) : null);
    }

    private static <T> T orDefault(final T value, final T fallback)
    {
        return value == null ? fallback : value;
    }
}
