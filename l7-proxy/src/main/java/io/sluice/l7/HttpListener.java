package io.sluice.l7;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One http or https listener on a VIP:port with everything CONTRACT.md lets a user set for it. Control translates the YAML
 * listener (plus the load balancer's server groups it refers to) into this record; health checking stays with control,
 * which reports results through {@link L7Proxy#setServerState}.
 *
 * @param name                   stable identity across {@link L7Proxy#apply}, e.g. {@code web/http:80}; labels counters.
 * @param vip                    address to bind (IPv4 or IPv6 literal).
 * @param port                   1..65535.
 * @param protocol               http or https.
 * @param serverGroup            default group for requests no rule matches (may be null when redirectTo is set).
 * @param rules                  host/path rules.
 * @param redirectTo             when set, every request not matched by a rule is redirected.
 * @param serverGroups           the groups this listener's default and rules refer to.
 * @param scheduler              rr, wrr, wlc, hash.
 * @param hashKey                for hash; default source ip.
 * @param stickySession          optional cookie persistence.
 * @param xForwardedFor          add X-Forwarded-For/-Proto/-Port and X-Real-IP.
 * @param loadBalancerHeaders    add {@code X-Sluice-Lb} (load balancer name) and {@code X-Sluice-Vip}.
 * @param loadBalancerName       value of {@code X-Sluice-Lb}.
 * @param timeouts               idle/request/header/connect.
 * @param maxHeaderBytes         request line + headers beyond → 431, 1024..1048576 (default 32768).
 * @param maxBodyBytes           request body beyond → 413, 0..2^40 (0 = no body allowed; default 10485760).
 * @param maxConnections         concurrent client connections, 0..100000000, 0 = unlimited.
 * @param proxyProtocol          send a PROXY protocol v2 header on each backend connection (one client per connection).
 * @param http2                  accept cleartext HTTP/2 with prior knowledge (h2 by ALPN once TLS is plugged in).
 * @param acl                    optional source-address ACL.
 * @param gzip                   compress responses when the client accepts gzip and the backend did not compress.
 * @param tls                    for https: the SNI → SslContext seam (null for http).
 * @param minBodyRate            the slowest request body accepted before 408 (default {@link BodyRate#DEFAULT}).
 * @param peakBytesPerSecond     outbound (proxy → client) peak of this listener, bytes on the wire per second (TLS
 *                               included); 0 = none. Enforced at this value ÷ the cluster's live nodes.
 * @param instancePeak           the load balancer's outbound peak this listener shares with its other L7 listeners, or
 *                               null.
 */
public record HttpListener(
    String name,
    String vip,
    int port,
    String protocol,
    String serverGroup,
    List<Rule> rules,
    Redirect redirectTo,
    List<ServerGroup> serverGroups,
    SchedulerType scheduler,
    HashKey hashKey,
    StickySession stickySession,
    boolean xForwardedFor,
    boolean loadBalancerHeaders,
    String loadBalancerName,
    Timeouts timeouts,
    int maxHeaderBytes,
    long maxBodyBytes,
    int maxConnections,
    boolean proxyProtocol,
    boolean http2,
    Acl acl,
    boolean gzip,
    TlsContexts tls,
    BodyRate minBodyRate,
    long peakBytesPerSecond,
    InstancePeak instancePeak)
{
    public HttpListener
    {
        ConfigException.required("name", name);
        ConfigException.required("vip", vip);
        ConfigException.range("port", port, 1, 65_535);
        ConfigException.required(name + ".minBodyRate", minBodyRate);
        if (!"http".equals(protocol) && !"https".equals(protocol))
        {
            throw new ConfigException(name + ".protocol: " + protocol + " is not one of http, https");
        }
        rules = rules == null ? List.of() : List.copyOf(rules);
        serverGroups = serverGroups == null ? List.of() : List.copyOf(serverGroups);
        scheduler = scheduler == null ? SchedulerType.WRR : scheduler;
        hashKey = hashKey == null ? HashKey.SOURCE_IP : hashKey;
        timeouts = timeouts == null ? Timeouts.DEFAULT : timeouts;
        ConfigException.range(name + ".maxHeaderBytes", maxHeaderBytes, 1024, 1 << 20);
        ConfigException.range(name + ".maxBodyBytes", maxBodyBytes, 0, 1L << 40);
        ConfigException.range(name + ".maxConnections", maxConnections, 0, 100_000_000);
        ConfigException.range(name + ".peakBytesPerSecond", peakBytesPerSecond, 0, Long.MAX_VALUE / 1_000_000_000L);
        final Set<String> groupNames = new HashSet<>();
        for (final ServerGroup group : serverGroups)
        {
            if (!groupNames.add(group.name()))
            {
                throw new ConfigException(name + ".serverGroups: " + group.name() + " is defined twice");
            }
        }
        if (serverGroup == null && redirectTo == null)
        {
            throw new ConfigException(name + ".serverGroup: is required unless redirectTo is set");
        }
        if (serverGroup != null && !groupNames.contains(serverGroup))
        {
            throw new ConfigException(name + ".serverGroup: " + serverGroup + " names no server group");
        }
        for (int i = 0; i < rules.size(); i++)
        {
            final Rule rule = rules.get(i);
            if (rule.serverGroup() != null && rule.redirectTo() == null && !groupNames.contains(rule.serverGroup()))
            {
                throw new ConfigException(name + ".rules[" + i + "].serverGroup: " + rule.serverGroup() + " names no server group");
            }
        }
        if ("https".equals(protocol) && tls == null && redirectTo == null)
        {
            throw new ConfigException(name + ".certificates: an https listener needs its TLS contexts");
        }
    }

    /** Groups by name. */
    public Map<String, ServerGroup> groupsByName()
    {
        final Map<String, ServerGroup> byName = new HashMap<>();
        for (final ServerGroup group : serverGroups)
        {
            byName.put(group.name(), group);
        }
        return byName;
    }

    public static Builder builder(final String name, final String vip, final int port)
    {
        return new Builder(name, vip, port);
    }

    /** Fluent construction with the CONTRACT.md defaults. */
    public static final class Builder
    {
        private final String name;
        private final String vip;
        private final int port;
        private String protocol = "http";
        private String serverGroup;
        private List<Rule> rules = List.of();
        private Redirect redirectTo;
        private List<ServerGroup> serverGroups = List.of();
        private SchedulerType scheduler = SchedulerType.WRR;
        private HashKey hashKey = HashKey.SOURCE_IP;
        private StickySession stickySession;
        private boolean xForwardedFor = true;
        private boolean loadBalancerHeaders;
        private String loadBalancerName;
        private Timeouts timeouts = Timeouts.DEFAULT;
        private int maxHeaderBytes = 32_768;
        private long maxBodyBytes = 10_485_760;
        private int maxConnections;
        private boolean proxyProtocol;
        private boolean http2;
        private Acl acl;
        private boolean gzip;
        private BodyRate minBodyRate = BodyRate.DEFAULT;
        private TlsContexts tls;
        private long peakBytesPerSecond;
        private InstancePeak instancePeak;

        Builder(final String name, final String vip, final int port)
        {
            this.name = name;
            this.vip = vip;
            this.port = port;
        }

        public Builder protocol(final String value)
        {
            protocol = value;
            return this;
        }

        public Builder serverGroup(final String value)
        {
            serverGroup = value;
            return this;
        }

        public Builder rules(final List<Rule> value)
        {
            rules = value;
            return this;
        }

        public Builder redirectTo(final Redirect value)
        {
            redirectTo = value;
            return this;
        }

        public Builder serverGroups(final List<ServerGroup> value)
        {
            serverGroups = value;
            return this;
        }

        public Builder scheduler(final SchedulerType value)
        {
            scheduler = value;
            return this;
        }

        public Builder hashKey(final HashKey value)
        {
            hashKey = value;
            return this;
        }

        public Builder stickySession(final StickySession value)
        {
            stickySession = value;
            return this;
        }

        public Builder xForwardedFor(final boolean value)
        {
            xForwardedFor = value;
            return this;
        }

        public Builder loadBalancerHeaders(final String lbName)
        {
            loadBalancerHeaders = lbName != null;
            loadBalancerName = lbName;
            return this;
        }

        public Builder timeouts(final Timeouts value)
        {
            timeouts = value;
            return this;
        }

        public Builder maxHeaderBytes(final int value)
        {
            maxHeaderBytes = value;
            return this;
        }

        public Builder maxBodyBytes(final long value)
        {
            maxBodyBytes = value;
            return this;
        }

        public Builder maxConnections(final int value)
        {
            maxConnections = value;
            return this;
        }

        public Builder proxyProtocol(final boolean value)
        {
            proxyProtocol = value;
            return this;
        }

        public Builder http2(final boolean value)
        {
            http2 = value;
            return this;
        }

        public Builder acl(final Acl value)
        {
            acl = value;
            return this;
        }

        public Builder gzip(final boolean value)
        {
            gzip = value;
            return this;
        }

        public Builder minBodyRate(final BodyRate value)
        {
            minBodyRate = value;
            return this;
        }

        public Builder tls(final TlsContexts value)
        {
            tls = value;
            return this;
        }

        public Builder peakBytesPerSecond(final long value)
        {
            peakBytesPerSecond = value;
            return this;
        }

        public Builder instancePeak(final InstancePeak value)
        {
            instancePeak = value;
            return this;
        }

        public HttpListener build()
        {
            return new HttpListener(name, vip, port, protocol, serverGroup, rules, redirectTo, serverGroups, scheduler, hashKey,
                stickySession, xForwardedFor, loadBalancerHeaders, loadBalancerName, timeouts, maxHeaderBytes, maxBodyBytes,
                maxConnections, proxyProtocol, http2, acl, gzip, tls, minBodyRate, peakBytesPerSecond, instancePeak);
        }
    }
}
