package io.sluice.l7;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.HdrHistogram.ConcurrentHistogram;
import org.agrona.concurrent.status.CountersManager;

/**
 * One listener while it runs: the current configuration snapshot (swapped whole by {@link L7Proxy#apply}, read once per
 * request, so in-flight requests finish under the rules they started with), server states, counters, the bound channel,
 * the client connections (for drain) and the per-event-loop idle backend pools.
 */
final class ListenerRuntime implements AutoCloseable
{
    /** Everything a request needs from the config, built once per apply. */
    record Snapshot(HttpListener config, Router router, Map<String, GroupRuntime> groups, Acl.Matcher acl, Upstream upstream)
    {
    }

    final String name;
    final ListenerCounters counters;
    final AtomicInteger connections = new AtomicInteger();
    final ChannelGroup clientChannels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    final ConcurrentHistogram latencyMicros = new ConcurrentHistogram(3);
    final Map<String, ServerState> servers = new ConcurrentHashMap<>();
    volatile Snapshot snapshot;
    volatile Channel serverChannel;
    /** The peaks this listener's outbound bytes are held to (its own, its load balancer's); empty: none. */
    volatile OutboundPeak[] outboundPeaks = new OutboundPeak[0];
    /** This listener's own peak, kept across applies (its booking state) while it has one. */
    OutboundPeak listenerPeak;
    private final CountersManager countersManager;

    /**
     * Idle keep-alive backend connections by server key, per event loop: a connection is only ever used by client
     * connections on its own loop, so no locking.
     */
    final FastThreadLocal<Map<String, ArrayDeque<Channel>>> idlePool = new FastThreadLocal<>()
    {
        @Override
        protected Map<String, ArrayDeque<Channel>> initialValue()
        {
            return new HashMap<>();
        }
    };

    /** HTTP/2 backend connections (or their connect in progress) by server key, per event loop. */
    final FastThreadLocal<Map<String, Future<Channel>>> h2Connections = new FastThreadLocal<>()
    {
        @Override
        protected Map<String, Future<Channel>> initialValue()
        {
            return new HashMap<>();
        }
    };

    ListenerRuntime(final HttpListener config, final Upstream upstream, final CountersManager countersManager)
    {
        this.name = config.name();
        this.countersManager = countersManager;
        this.counters = new ListenerCounters(countersManager, name);
        update(config, upstream);
    }

    /**
     * Installs a new configuration; server states of servers still present are kept (health, ejection, counters).
     *
     * @return the states of servers no longer present; the caller closes them once requests in flight are done.
     */
    synchronized List<ServerState> update(final HttpListener config, final Upstream upstream)
    {
        final Map<String, ServerState> wanted = new LinkedHashMap<>();
        final Map<String, GroupRuntime> groups = new HashMap<>();
        for (final ServerGroup group : config.serverGroups())
        {
            final ServerState[] states = new ServerState[group.servers().size()];
            for (int i = 0; i < states.length; i++)
            {
                final Server server = group.servers().get(i);
                ServerState state = wanted.get(server.key());
                if (state == null)
                {
                    state = servers.get(server.key());
                    if (state == null)
                    {
                        state = new ServerState(server, countersManager, name);
                    }
                    else
                    {
                        state.server = server;
                    }
                    wanted.put(server.key(), state);
                }
                states[i] = state;
            }
            groups.put(group.name(), new GroupRuntime(group, states, config.scheduler()));
        }
        final Router router = new Router(config, groups);
        final Acl.Matcher acl = config.acl() == null ? null : config.acl().compile();
        snapshot = new Snapshot(config, router, groups, acl, upstream);
        final List<ServerState> removed = new ArrayList<>();
        for (final Map.Entry<String, ServerState> entry : servers.entrySet())
        {
            if (!wanted.containsKey(entry.getKey()))
            {
                removed.add(entry.getValue());
            }
        }
        servers.keySet().retainAll(wanted.keySet());
        servers.putAll(wanted);
        return removed;
    }

    /** Sets control's health verdict for one server of this listener. @return false when the server is unknown. */
    boolean setServerState(final String serverKey, final boolean up)
    {
        final ServerState state = servers.get(serverKey);
        if (state == null)
        {
            return false;
        }
        state.up = up;
        return true;
    }

    @Override
    public synchronized void close()
    {
        servers.values().forEach(ServerState::close);
        servers.clear();
        counters.close();
    }
}
