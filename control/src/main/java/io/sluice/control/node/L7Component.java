package io.sluice.control.node;

import io.sluice.control.config.HashSource;
import io.sluice.control.config.LoadBalancer;
import io.sluice.control.config.Protocol;
import io.sluice.control.config.SluiceConfig;
import io.sluice.control.health.HealthChecker;
import io.sluice.keyserver.KeyServerCounter;
import io.sluice.keyserver.client.KeyServerClient;
import io.sluice.keyserver.client.KeylessTlsContexts;
import io.sluice.l7.Acl;
import io.sluice.l7.BodyRate;
import io.sluice.l7.HashKey;
import io.sluice.l7.HttpListener;
import io.sluice.l7.InstancePeak;
import io.sluice.l7.L7Proxy;
import io.sluice.l7.ProxyConfig;
import io.sluice.l7.Redirect;
import io.sluice.l7.Rule;
import io.sluice.l7.SchedulerType;
import io.sluice.l7.Server;
import io.sluice.l7.ServerGroup;
import io.sluice.l7.StickySession;
import io.sluice.l7.Timeouts;
import io.sluice.l7.TlsContexts;
import io.sluice.l7.Transport;
import io.sluice.l7.Upstream;
import io.sluice.l7.UpstreamTls;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.SslContext;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The L7 proxy as a node component: translates the http listeners of the config into the proxy's own model, starts
 * it on the profile's transport and thread count, applies changes without dropping in-flight requests, and follows
 * server health per (listener, server). Listener names are {@code LB/PROTO:PORT}, as the CLI names them.
 * <p>
 * https listeners are keyless: one {@link KeyServerClient} per node on {@code node.keyserver} (started with the first
 * https listener, closed with the component) fetches each listener's certificate chains and signs through the key
 * server; the node never holds key bytes. A listener whose certificate the key server lacks, or whose key server is down,
 * is bound but not ready (its connections are closed, /healthz says why); a one-second maintenance thread retries the
 * load, so the listener becomes ready by itself, follows session-ticket key rotation, and picks up a certificate
 * re-imported under the same name within {@link #CERTIFICATE_CHECK_INTERVAL_MS}.
 */
final class L7Component implements NodeComponent
{
    /** How often a ready https listener asks the key server whether its certificates were re-imported. */
    private static final long CERTIFICATE_CHECK_INTERVAL_MS = 5_000;

    private final CountersManager counters;
    private final PerfProfile profile;
    private final long drainTimeoutMs;
    private final Path accessLog;
    private final HealthChecker health;
    private final List<String> notReady = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<String, Https> https = new LinkedHashMap<>();
    private L7Proxy proxy;
    private KeyServerClient keyServer;
    private Path keyServerDir;
    private ScheduledExecutorService tlsMaintenance;
    /** Shared by every https listener of the node; allocated with the key-server client. */
    private AtomicCounter tlsKeyFailures;
    private AtomicCounter tlsAlertsSent;
    /** Live nodes of the cluster (1 alone): every outbound peak is enforced at limit ÷ this. */
    private int bandwidthShare = 1;
    private final Function<String, AtomicLong> instancePeakCells;

    L7Component(final CountersManager counters, final PerfProfile profile, final int drainTimeoutSeconds, final Path accessLog,
        final HealthChecker health)
    {
        this(counters, profile, drainTimeoutSeconds, accessLog, health, name -> new AtomicLong(Long.MIN_VALUE));
    }

    /** @param instancePeakCells load balancers' peak cells, shared with the fastpath (see {@code L7Proxy.start}). */
    L7Component(final CountersManager counters, final PerfProfile profile, final int drainTimeoutSeconds, final Path accessLog,
        final HealthChecker health, final Function<String, AtomicLong> instancePeakCells)
    {
        this.instancePeakCells = instancePeakCells;
        this.counters = counters;
        this.profile = profile;
        this.drainTimeoutMs = TimeUnit.SECONDS.toMillis(drainTimeoutSeconds);
        this.accessLog = accessLog;
        this.health = health;
    }

    @Override
    public String name()
    {
        return "L7 proxy";
    }

    @Override
    public synchronized void apply(final SluiceConfig previous, final SluiceConfig next)
    {
        final List<String> reasons = new ArrayList<>();
        final Map<String, Https> previousHttps = new LinkedHashMap<>(https);
        https.clear();
        final ProxyConfig config = translate(next, reasons, previousHttps);
        if (proxy == null)
        {
            proxy = L7Proxy.start(config, counters, instancePeakCells);
            proxy.setBandwidthShare(bandwidthShare);
        }
        else
        {
            proxy.apply(config);
        }
        // A fresh proxy (or new listeners) starts every server up; tell it what the health checker already knows.
        for (final LoadBalancer lb : next.loadBalancers())
        {
            for (final io.sluice.control.config.Listener l : lb.listeners())
            {
                if (!l.isL7())
                {
                    continue;
                }
                for (final String groupName : serverGroupNames(l))
                {
                    for (final io.sluice.control.config.ServerGroup.Server server : lb.serverGroup(groupName).servers())
                    {
                        if (!health.isUp(new HealthChecker.Key(lb.name(), l.key(), server.key())))
                        {
                            proxy.setServerState(lb.listenerName(l), server.key(), false);
                        }
                    }
                }
            }
        }
        notReady.clear();
        notReady.addAll(reasons);
        for (final Https tls : https.values())
        {
            if (!tls.keyless.isReady())
            {
                // first try now (quick when the key server is up); otherwise the maintenance thread retries every second
                tls.keyless.load();
            }
        }
        if (!https.isEmpty() && tlsMaintenance == null)
        {
            tlsMaintenance = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("sluice-tls").factory());
            tlsMaintenance.scheduleWithFixedDelay(this::maintainTls, 1, 1, TimeUnit.SECONDS);
        }
    }

    private KeyServerClient keyServer(final SluiceConfig config)
    {
        final Path dir = Path.of(config.node().keyserver());
        if (keyServer != null && !dir.equals(keyServerDir))
        {
            // node.keyserver changed: contexts built on the old client are rebuilt with the new one
            keyServer.close();
            keyServer = null;
        }
        if (keyServer == null)
        {
            keyServer = KeyServerClient.start(KeyServerClient.Configuration.defaults(dir), counters, profile.newIdleStrategy());
            keyServerDir = dir;
        }
        if (tlsKeyFailures == null)
        {
            tlsKeyFailures = KeyServerCounter.CLIENT_HANDSHAKE_KEY_FAILURES.allocate(counters);
            tlsAlertsSent = KeyServerCounter.CLIENT_HANDSHAKE_ALERTS.allocate(counters);
        }
        return keyServer;
    }

    /** Every second, off the event loops: load contexts that are not ready, follow ticket-key rotation on the rest. */
    private void maintainTls()
    {
        final List<Https> current;
        synchronized (this)
        {
            current = List.copyOf(https.values());
        }
        final long now = System.currentTimeMillis();
        for (final Https tls : current)
        {
            if (!tls.keyless.isReady())
            {
                tls.keyless.load();
                tls.nextTicketRefreshMs = now + tls.keyless.ticketRefreshIntervalMs();
            }
            else
            {
                if (now >= tls.nextCertificateCheckMs)
                {
                    // a certificate re-imported under the same name (renewal) is picked up without a config change
                    tls.nextCertificateCheckMs = now + CERTIFICATE_CHECK_INTERVAL_MS;
                    tls.keyless.reloadIfChanged();
                }
                if (now >= tls.nextTicketRefreshMs)
                {
                    tls.keyless.refreshTicketKeys();
                    tls.nextTicketRefreshMs = now + tls.keyless.ticketRefreshIntervalMs();
                }
            }
        }
    }

    /** One https listener's keyless contexts behind l7's TLS seam. */
    private static final class Https implements TlsContexts
    {
        private final String name;
        private final KeylessTlsContexts.Spec spec;
        private final KeyServerClient client;
        private final KeylessTlsContexts keyless;
        private volatile long nextTicketRefreshMs;
        private volatile long nextCertificateCheckMs;

        Https(final String name, final KeylessTlsContexts.Spec spec, final KeyServerClient client,
            final AtomicCounter keyFailures, final AtomicCounter alertsSent)
        {
            this.name = name;
            this.spec = spec;
            this.client = client;
            this.keyless = new KeylessTlsContexts(client, spec, keyFailures, alertsSent);
        }

        @Override
        public SslContext contextFor(final String sniHostName)
        {
            return keyless.contextFor(sniHostName);
        }

        @Override
        public ChannelHandler newAlertHandler()
        {
            return keyless.newAlertHandler();
        }

        String notReadyReason(final KeyServerClient client)
        {
            if (!keyless.isReady())
            {
                return name + ": " + keyless.readiness();
            }
            if (client != null && !client.isConnected())
            {
                return name + ": key server: " + client.status();
            }
            return null;
        }
    }

    private ProxyConfig translate(final SluiceConfig config, final List<String> reasons, final Map<String, Https> previousHttps)
    {
        final List<HttpListener> listeners = new ArrayList<>();
        for (final LoadBalancer lb : config.loadBalancers())
        {
            for (final io.sluice.control.config.Listener l : lb.listeners())
            {
                if (!l.isL7())
                {
                    continue;
                }
                final String name = lb.listenerName(l);
                Https tls = null;
                if (l.protocol() == Protocol.HTTPS && !l.certificates().isEmpty())
                {
                    final KeylessTlsContexts.Spec spec = new KeylessTlsContexts.Spec(l.certificates(),
                        io.sluice.keyserver.client.TlsPolicy.fromConfigName(l.tlsPolicy().wireName()), l.http2(),
                        l.mutualTls() == null ? null : l.mutualTls().caCertificate());
                    final KeyServerClient client = keyServer(config);
                    final Https old = previousHttps.get(name);
                    // same spec and key server: keep the loaded contexts (and the listener's identity for the proxy's apply)
                    tls = old != null && old.spec.equals(spec) && old.client == client
                        ? old : new Https(name, spec, client, tlsKeyFailures, tlsAlertsSent);
                    https.put(name, tls);
                }
                listeners.add(listener(lb, l, tls));
            }
        }
        final int ioThreads = profile.l7IoThreads() > 0 ? profile.l7IoThreads() : Runtime.getRuntime().availableProcessors();
        // node.accessLog is read at node start like the rest of the node section; the proxy opens its log once, at start
        final Transport transport = switch (profile.l7Transport())
        {
            case "epoll" -> Transport.EPOLL;
            case "nio" -> Transport.NIO;
            default -> Transport.IO_URING;
        };
        return new ProxyConfig(listeners, transport, Math.min(256, ioThreads), drainTimeoutMs,
            config.node().accessLog() ? accessLog : null, Upstream.DEFAULT, profile.l7EventLoopSliceNanos());
    }

    /** The listener's default group, then its rules' groups, each once. */
    private static Set<String> serverGroupNames(final io.sluice.control.config.Listener l)
    {
        final Set<String> groupNames = new LinkedHashSet<>();
        if (l.serverGroup() != null)
        {
            groupNames.add(l.serverGroup());
        }
        l.rules().forEach(rule -> groupNames.add(rule.serverGroup()));
        return groupNames;
    }

    static HttpListener listener(final LoadBalancer lb, final io.sluice.control.config.Listener l, final TlsContexts tls)
    {
        final List<ServerGroup> groups = new ArrayList<>();
        for (final String name : serverGroupNames(l))
        {
            final io.sluice.control.config.ServerGroup group = lb.serverGroup(name);
            final List<Server> servers = new ArrayList<>();
            for (final io.sluice.control.config.ServerGroup.Server s : group.servers())
            {
                servers.add(new Server(s.inetAddress().getHostAddress(), s.port(), s.weight()));
            }
            groups.add(new ServerGroup(group.name(), servers, group.http2(), group.tlsEnabled()
                ? new UpstreamTls(group.tls().verify(), group.tls().sni(), group.tls().caCertificate()) : null));
        }
        final List<Rule> rules = new ArrayList<>();
        for (final io.sluice.control.config.Listener.Rule rule : l.rules())
        {
            rules.add(new Rule(rule.host(), rule.path(), rule.serverGroup()));
        }
        return HttpListener.builder(lb.listenerName(l), lb.vipAddress().getHostAddress(), l.port())
            .protocol(l.protocol().wireName())
            .serverGroup(l.serverGroup())
            .rules(rules)
            .redirectTo(l.redirectTo() == null ? null
                : new Redirect(l.redirectTo().protocol().wireName(), l.redirectTo().port(), l.redirectTo().code()))
            .serverGroups(groups)
            .scheduler(SchedulerType.valueOf(l.scheduler().name()))
            .hashKey(l.hashKey() == null ? null : new HashKey(HashKey.Source.valueOf(l.hashKey().source().name()),
                l.hashKey().source() == HashSource.IP ? null : l.hashKey().name()))
            .stickySession(l.stickySession() == null ? null : new StickySession(
                StickySession.Type.valueOf(l.stickySession().type().name()), l.stickySession().cookieTimeoutSeconds(),
                l.stickySession().cookieName()))
            .xForwardedFor(l.xForwardedFor())
            .loadBalancerHeaders(Boolean.TRUE.equals(l.loadBalancerHeaders()) ? lb.name() : null)
            .gzip(Boolean.TRUE.equals(l.gzip()))
            .timeouts(new Timeouts(l.idleTimeoutSeconds(), l.requestTimeoutSeconds(), l.headerTimeoutSeconds(),
                Timeouts.DEFAULT.connectTimeoutMillis()))
            .maxHeaderBytes(l.maxHeaderBytes())
            .maxBodyBytes(l.maxBodyBytes())
            .maxConnections(l.maxConnections())
            .proxyProtocol(l.proxyProtocol())
            .http2(l.http2())
            .acl(l.acl() == null ? null : new Acl(Acl.Mode.valueOf(l.acl().mode().name()),
                l.acl().cidrs().stream().map(Object::toString).toList()))
            .tls(tls)
            .minBodyRate(l.minBodyRateBytesPerSecond() == null ? BodyRate.DEFAULT
                : new BodyRate(l.minBodyRateBytesPerSecond(), l.minBodyRateWindowSeconds() == null
                    ? BodyRate.DEFAULT.windowSeconds() : l.minBodyRateWindowSeconds()))
            // the wire bytes to clients (TLS included), like the fastpath's outbound buckets; -1 = unlimited
            .peakBytesPerSecond(l.bandwidthMbps() > 0 ? bytesPerSecond(l.bandwidthMbps()) : 0)
            .instancePeak(lb.bandwidthMbps() > 0 ? new InstancePeak(lb.name(), bytesPerSecond(lb.bandwidthMbps())) : null)
            .build();
    }

    /**
     * Every L7 outbound peak (listener and load balancer {@code bandwidthMbps}) at limit ÷ {@code liveNodes}: the same
     * hook as {@link FastpathComponent#bandwidthShare}, called by the cluster membership on every change of the count.
     */
    public synchronized void bandwidthShare(final int liveNodes)
    {
        bandwidthShare = liveNodes;
        if (proxy != null)
        {
            proxy.setBandwidthShare(liveNodes);
        }
    }

    /** Megabits (10^6 bits) per second to bytes per second, as the fastpath converts {@code bandwidthMbps}. */
    private static long bytesPerSecond(final int mbps)
    {
        return mbps * 1_000_000L / 8;
    }

    /** The running proxy, or null before the first apply (tests). */
    L7Proxy proxy()
    {
        return proxy;
    }

    @Override
    public void onHealthChange(final HealthChecker.Key key, final boolean up)
    {
        final L7Proxy running = proxy;
        if (running != null)
        {
            running.setServerState(key.listenerName(), key.server(), up);
        }
    }

    @Override
    public synchronized List<String> notReadyReasons()
    {
        final List<String> reasons = new ArrayList<>(notReady);
        for (final Https tls : https.values())
        {
            final String reason = tls.notReadyReason(keyServer);
            if (reason != null)
            {
                reasons.add(reason);
            }
        }
        return reasons;
    }

    @Override
    public void drain(final long timeoutNs)
    {
        // L7Proxy.close() drains itself: it stops accepting and waits up to drainTimeoutMillis for in-flight requests.
    }

    @Override
    public synchronized void close()
    {
        if (tlsMaintenance != null)
        {
            tlsMaintenance.shutdownNow();
            tlsMaintenance = null;
        }
        if (proxy != null)
        {
            proxy.close();
            proxy = null;
        }
        if (keyServer != null)
        {
            keyServer.close();
            keyServer = null;
        }
        if (tlsKeyFailures != null)
        {
            tlsKeyFailures.close();
            tlsAlertsSent.close();
            tlsKeyFailures = null;
            tlsAlertsSent = null;
        }
        https.clear();
    }
}
