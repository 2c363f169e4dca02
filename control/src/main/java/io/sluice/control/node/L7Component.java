package io.sluice.control.node;

import io.sluice.control.config.HashSource;
import io.sluice.control.config.LoadBalancer;
import io.sluice.control.config.Protocol;
import io.sluice.control.config.SluiceConfig;
import io.sluice.control.health.HealthChecker;
import io.sluice.l7.Acl;
import io.sluice.l7.HashKey;
import io.sluice.l7.HttpListener;
import io.sluice.l7.L7Proxy;
import io.sluice.l7.ProxyConfig;
import io.sluice.l7.Redirect;
import io.sluice.l7.Rule;
import io.sluice.l7.SchedulerType;
import io.sluice.l7.Server;
import io.sluice.l7.ServerGroup;
import io.sluice.l7.StickySession;
import io.sluice.l7.Timeouts;
import io.sluice.l7.Transport;
import io.sluice.l7.Upstream;
import org.agrona.concurrent.status.CountersManager;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The L7 proxy as a node component: translates the http listeners of the config into the proxy's own model, starts
 * it on the profile's transport and thread count, applies changes without dropping in-flight requests, and follows
 * server health per (listener, server). Listener names are {@code LB/PROTO:PORT}, as the CLI names them.
 */
final class L7Component implements NodeComponent
{
    private final CountersManager counters;
    private final PerfProfile profile;
    private final long drainTimeoutMs;
    private final Path accessLog;
    private final HealthChecker health;
    private final List<String> notReady = new java.util.concurrent.CopyOnWriteArrayList<>();
    private L7Proxy proxy;

    L7Component(final CountersManager counters, final PerfProfile profile, final int drainTimeoutSeconds, final Path accessLog,
        final HealthChecker health)
    {
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
        final ProxyConfig config = translate(next, reasons);
        if (proxy == null)
        {
            proxy = L7Proxy.start(config, counters);
        }
        else
        {
            proxy.apply(config);
        }
        // A fresh proxy (or new listeners) starts every server up; tell it what the health checker already knows.
        for (final HttpListener listener : config.listeners())
        {
            for (final ServerGroup group : listener.serverGroups())
            {
                for (final Server server : group.servers())
                {
                    final String[] lbAndKey = listener.name().split("/", 2);
                    if (!health.isUp(new HealthChecker.Key(lbAndKey[0], lbAndKey[1], server.key())))
                    {
                        proxy.setServerState(listener.name(), server.key(), false);
                    }
                }
            }
        }
        notReady.clear();
        notReady.addAll(reasons);
    }

    private ProxyConfig translate(final SluiceConfig config, final List<String> reasons)
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
                if (l.protocol() == Protocol.HTTPS)
                {
                    // Keyless TLS contexts from the key server are wired in with issue #8; until then an https listener is
                    // accepted into the config but not served, and /healthz says so.
                    reasons.add(lb.name() + "/" + l.key() + ": https is not served by this build yet (key server wiring)");
                    continue;
                }
                listeners.add(listener(lb, l));
            }
        }
        final int ioThreads = profile.l7IoThreads() > 0 ? profile.l7IoThreads() : Runtime.getRuntime().availableProcessors();
        return new ProxyConfig(listeners, Transport.IO_URING, Math.min(256, ioThreads), drainTimeoutMs, accessLog, Upstream.DEFAULT);
    }

    private static HttpListener listener(final LoadBalancer lb, final io.sluice.control.config.Listener l)
    {
        final Set<String> groupNames = new LinkedHashSet<>();
        if (l.serverGroup() != null)
        {
            groupNames.add(l.serverGroup());
        }
        l.rules().forEach(rule -> groupNames.add(rule.serverGroup()));
        final List<ServerGroup> groups = new ArrayList<>();
        for (final String name : groupNames)
        {
            final io.sluice.control.config.ServerGroup group = lb.serverGroup(name);
            final List<Server> servers = new ArrayList<>();
            for (final io.sluice.control.config.ServerGroup.Server s : group.servers())
            {
                servers.add(new Server(s.inetAddress().getHostAddress(), s.port(), s.weight()));
            }
            groups.add(new ServerGroup(group.name(), servers, group.http2()));
        }
        final List<Rule> rules = new ArrayList<>();
        for (final io.sluice.control.config.Listener.Rule rule : l.rules())
        {
            rules.add(new Rule(rule.host(), rule.path(), rule.serverGroup()));
        }
        return HttpListener.builder(lb.name() + "/" + l.key(), lb.vipAddress().getHostAddress(), l.port())
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
            .timeouts(new Timeouts(l.idleTimeoutSeconds(), l.requestTimeoutSeconds(), l.headerTimeoutSeconds(),
                Timeouts.DEFAULT.connectTimeoutMillis()))
            .maxHeaderBytes(l.maxHeaderBytes())
            .maxBodyBytes(l.maxBodyBytes())
            .maxConnections(l.maxConnections())
            .proxyProtocol(l.proxyProtocol())
            .http2(l.http2())
            .acl(l.acl() == null ? null : new Acl(Acl.Mode.valueOf(l.acl().mode().name()),
                l.acl().cidrs().stream().map(Object::toString).toList()))
            .build();
    }

    @Override
    public void onHealthChange(final HealthChecker.Key key, final boolean up)
    {
        final L7Proxy running = proxy;
        if (running != null)
        {
            running.setServerState(key.lb() + "/" + key.listener(), key.server(), up);
        }
    }

    @Override
    public List<String> notReadyReasons()
    {
        return List.copyOf(notReady);
    }

    @Override
    public void drain(final long timeoutNs)
    {
        // L7Proxy.close() drains itself: it stops accepting and waits up to drainTimeoutMillis for in-flight requests.
    }

    @Override
    public synchronized void close()
    {
        if (proxy != null)
        {
            proxy.close();
            proxy = null;
        }
    }

    L7Proxy proxy()
    {
        return proxy;
    }
}
