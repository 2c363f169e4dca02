package io.sluice.fastpath;

import java.lang.System.Logger;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;

import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.NodeSettings;
import io.sluice.fastpath.lb.AclMatcher;
import io.sluice.fastpath.lb.BackendState;
import io.sluice.fastpath.lb.ListenerBandwidth;
import io.sluice.fastpath.lb.ListenerState;
import io.sluice.fastpath.lb.ListenerTable;
import io.sluice.fastpath.lb.Schedulers;
import io.sluice.fastpath.lb.TokenBucket;
import io.sluice.fastpath.packet.IpAddresses;

/**
 * The fastpath's control side: owns the configuration model, allocates ids and counters, and after every command
 * builds a new table generation per forwarder (each with its own scheduler state) and publishes it. Forwarders
 * swap generations between duty cycles, so traffic never stops; established sessions carry everything they need
 * and keep flowing when their listener or backend changes. Commands are serialised (synchronized, control path).
 * <p>
 * Counters of removed listeners and backends are freed only once every forwarder has applied a later generation
 * (it flushes its pending increments before swapping), so no increment lands in a reused counter slot.
 */
public final class Conductor implements AutoCloseable
{
    private static final Logger LOGGER = System.getLogger(Conductor.class.getName());

    private final NodeSettings settings;
    private final ForwarderConfiguration configuration;
    private final CountersManager countersManager;
    private final AtomicCounter[] globalCounters;
    private final ForwarderAgent[] forwarders;
    private final Map<ListenerKey, ListenerEntry> listeners = new LinkedHashMap<>();
    private final List<Retired> retired = new ArrayList<>();
    private List<InetAddress> localAddresses;
    private long generation;
    private boolean started;
    private int nextListenerId = 1;
    private int nextBackendId = 1;
    private final Map<String, InstanceEntry> instances = new LinkedHashMap<>();
    private int bandwidthShare = 1;
    private Function<String, AtomicLong> instancePeakCells = name -> new AtomicLong(Long.MIN_VALUE);

    private static final class ListenerEntry
    {
        final int id;
        Listener config;
        final AtomicCounter[] counters;
        final Map<Backend.BackendKey, BackendEntry> backends = new HashMap<>();
        /** Node-wide bucket of the listener's bandwidthMbps, kept across generations while the limit is unchanged. */
        TokenBucket bucket;

        ListenerEntry(final int id, final Listener config, final AtomicCounter[] counters)
        {
            this.id = id;
            this.config = config;
            this.counters = counters;
        }
    }

    private record BackendEntry(int id, AtomicCounter[] counters)
    {
    }

    /** A load balancer (instance): its outbound bucket (null when unlimited), meter and listeners. */
    private record InstanceEntry(long bandwidthMbps, TokenBucket bucket, AtomicCounter[] counters, List<ListenerKey> listeners)
    {
    }

    private record Retired(long generation, AtomicCounter[] counters)
    {
    }

    /**
     * @param ports one per forwarder (forwarder i serves queue i) on a node with one data interface.
     */
    public Conductor(
        final NodeSettings settings, final ForwarderConfiguration configuration, final CountersManager countersManager,
        final NeighbourTable neighbours, final List<? extends PacketPort> ports, final NanoClock clock)
    {
        this(settings, configuration, countersManager, neighbours, perForwarder(ports), clock);
    }

    /**
     * @param ports {@code ports[i][s]}: forwarder i's port on rx queue i of data interface s (the interface slot the
     *              neighbour table names); every forwarder has one port on every interface.
     */
    public Conductor(
        final NodeSettings settings, final ForwarderConfiguration configuration, final CountersManager countersManager,
        final NeighbourTable neighbours, final PacketPort[][] ports, final NanoClock clock)
    {
        if (ports.length != settings.forwarders())
        {
            throw new IllegalArgumentException("ports: " + ports.length + " given for " + settings.forwarders() +
                " forwarders");
        }
        for (final PacketPort[] interfaces : ports)
        {
            if (interfaces.length != ports[0].length)
            {
                throw new IllegalArgumentException("ports: every forwarder needs one port per data interface");
            }
        }
        this.settings = settings;
        this.configuration = configuration;
        this.countersManager = countersManager;
        this.localAddresses = settings.localAddresses();
        this.globalCounters = new AtomicCounter[FastpathCounter.GLOBAL.length];
        for (final FastpathCounter c : FastpathCounter.GLOBAL)
        {
            globalCounters[c.slot()] = countersManager.newCounter(c.label(), c.typeId());
        }

        final int n = settings.forwarders();
        final RingBuffer[][] rings = new RingBuffer[n][n];
        for (int from = 0; from < n; from++)
        {
            for (int to = 0; to < n; to++)
            {
                if (from != to)
                {
                    rings[from][to] = new OneToOneRingBuffer(new UnsafeBuffer(
                        ByteBuffer.allocateDirect(configuration.handoffRingBytes() + RingBufferDescriptor.TRAILER_LENGTH)));
                }
            }
        }
        this.forwarders = new ForwarderAgent[n];
        for (int i = 0; i < n; i++)
        {
            final List<RingBuffer> inbound = new ArrayList<>();
            for (int from = 0; from < n; from++)
            {
                if (from != i)
                {
                    inbound.add(rings[from][i]);
                }
            }
            forwarders[i] = new ForwarderAgent(i, n, settings.sessionsPerForwarder(), configuration,
                settings.snatPortMin(), settings.snatPortMax(), ports[i], neighbours, clock,
                new CounterSet(globalCounters), rings[i], inbound.toArray(new RingBuffer[0]), buildTable(i));
        }
    }

    private static PacketPort[][] perForwarder(final List<? extends PacketPort> ports)
    {
        final PacketPort[][] out = new PacketPort[ports.size()][];
        for (int i = 0; i < out.length; i++)
        {
            out[i] = new PacketPort[] {ports.get(i)};
        }
        return out;
    }

    /** Turns the XDP flow offload on for every forwarder (docs/fastpath.md, "XDP flow offload"); before {@link #start}. */
    public synchronized void offload(final FlowOffload offload)
    {
        for (final ForwarderAgent forwarder : forwarders)
        {
            forwarder.offload(offload);
        }
    }

    public ForwarderAgent[] forwarders()
    {
        return forwarders.clone();
    }

    /** Starts one thread per forwarder with an idle strategy from the perf profile. */
    public synchronized List<AgentRunner> start(final Supplier<IdleStrategy> idleStrategy, final ErrorHandler errorHandler,
        final AtomicCounter errorCounter)
    {
        started = true;
        final List<AgentRunner> runners = new ArrayList<>();
        for (final ForwarderAgent f : forwarders)
        {
            final AgentRunner runner = new AgentRunner(idleStrategy.get(), errorHandler, errorCounter, f);
            AgentRunner.startOnThread(runner);
            runners.add(runner);
        }
        return runners;
    }

    public synchronized long generation()
    {
        return generation;
    }

    /** True once every forwarder runs generation {@code g} or later. */
    public boolean isApplied(final long g)
    {
        for (final ForwarderAgent f : forwarders)
        {
            if (f.appliedGeneration() < g)
            {
                return false;
            }
        }
        return true;
    }

    public synchronized long addListener(final Listener listener)
    {
        if (listeners.containsKey(listener.key()))
        {
            throw new IllegalArgumentException("listener " + listener.key() + " exists");
        }
        final int id = allocateListenerId();
        final ListenerEntry entry = new ListenerEntry(id, listener, newCounters(FastpathCounter.LISTENER, listener.name()));
        listeners.put(listener.key(), entry);
        syncBucket(entry, null);
        syncBackends(entry, listener.backends());
        return publish();
    }

    /** Replaces a listener's settings (scheduler, ACL, limits, timeouts, backends), keeping its id and counters. */
    public synchronized long updateListener(final Listener listener)
    {
        final ListenerEntry entry = entry(listener.key());
        final Listener before = entry.config;
        entry.config = listener;
        syncBucket(entry, before);
        syncBackends(entry, listener.backends());
        return publish();
    }

    public synchronized long removeListener(final ListenerKey key)
    {
        final ListenerEntry entry = entry(key);
        listeners.remove(key);
        retire(entry.counters);
        for (final BackendEntry b : entry.backends.values())
        {
            retire(b.counters);
        }
        return publish();
    }

    public synchronized long setBackends(final ListenerKey key, final List<Backend> backends)
    {
        final ListenerEntry entry = entry(key);
        entry.config = entry.config.withBackends(backends);
        syncBackends(entry, entry.config.backends());
        return publish();
    }

    /** Health checks drive this: a down backend takes no new flows; its established sessions continue. */
    public synchronized long setBackendState(final ListenerKey key, final Backend.BackendKey backend, final boolean up)
    {
        return replaceBackend(key, backend, b -> b.withUp(up));
    }

    public synchronized long setBackendWeight(final ListenerKey key, final Backend.BackendKey backend, final int weight)
    {
        return replaceBackend(key, backend, b -> b.withWeight(weight));
    }

    public synchronized long setLocalAddresses(final List<InetAddress> addresses)
    {
        localAddresses = List.copyOf(addresses);
        return publish();
    }

    /**
     * Declares a load balancer (instance): its outbound peak ({@code bandwidthMbps}, -1 unlimited) applies to the sum
     * of its listeners' outbound bytes on top of each listener's own, and its listeners' traffic is metered in the
     * {@link FastpathCounter#INSTANCE} counters labelled with {@code name}. Replaces an earlier declaration of the
     * same name (the bucket is kept when the peak is unchanged).
     */
    public synchronized long setInstance(final String name, final long bandwidthMbps, final List<ListenerKey> members)
    {
        if (bandwidthMbps < -1 || bandwidthMbps == 0)
        {
            throw new IllegalArgumentException("bandwidthMbps: " + bandwidthMbps + " is not -1 (unlimited) or >= 1");
        }
        final InstanceEntry before = instances.get(name);
        final TokenBucket bucket = before != null && before.bandwidthMbps() == bandwidthMbps ? before.bucket() :
            newBucket(bandwidthMbps, instancePeakCells.apply(name));
        final AtomicCounter[] counters = before != null ? before.counters() : newCounters(FastpathCounter.INSTANCE, name);
        instances.put(name, new InstanceEntry(bandwidthMbps, bucket, counters, List.copyOf(members)));
        return publish();
    }

    public synchronized long removeInstance(final String name)
    {
        final InstanceEntry entry = instances.remove(name);
        if (entry == null)
        {
            return generation;
        }
        retire(entry.counters());
        return publish();
    }

    /**
     * Every bandwidth limit is enforced at limit ÷ {@code liveNodes} from now on: in a cluster each live node takes its
     * share. Applies at once (the buckets' rates are shared with the forwarders); no new generation.
     */
    public synchronized void setBandwidthShare(final int liveNodes)
    {
        if (liveNodes < 1)
        {
            throw new IllegalArgumentException("liveNodes: " + liveNodes + " must be >= 1");
        }
        bandwidthShare = liveNodes;
        for (final ListenerEntry e : listeners.values())
        {
            if (e.bucket != null)
            {
                e.bucket.share(liveNodes);
            }
        }
        for (final InstanceEntry e : instances.values())
        {
            if (e.bucket() != null)
            {
                e.bucket().share(liveNodes);
            }
        }
    }

    public synchronized int bandwidthShare()
    {
        return bandwidthShare;
    }

    /**
     * Where load balancers' peaks keep their bucket state (a GCRA theoretical arrival time per load balancer name,
     * {@link Long#MIN_VALUE} when never taken from): the node hands the fastpath and the L7 proxy the same cells, so a
     * load balancer's {@code bandwidthMbps} is one budget for its L4 and L7 listeners together. Applies to buckets made
     * from now on; set it before the first {@link #setInstance}. By default each bucket has a cell of its own.
     */
    public synchronized void instancePeakCells(final Function<String, AtomicLong> cells)
    {
        instancePeakCells = Objects.requireNonNull(cells, "cells");
    }

    private TokenBucket newBucket(final long mbps)
    {
        return newBucket(mbps, new AtomicLong(Long.MIN_VALUE));
    }

    private TokenBucket newBucket(final long mbps, final AtomicLong cell)
    {
        if (mbps <= 0)
        {
            return null;
        }
        final TokenBucket bucket = new TokenBucket(TokenBucket.bytesPerSecond(mbps), cell);
        bucket.share(bandwidthShare);
        return bucket;
    }

    private void syncBucket(final ListenerEntry entry, final Listener before)
    {
        if (before == null || before.bandwidthMbps() != entry.config.bandwidthMbps())
        {
            entry.bucket = newBucket(entry.config.bandwidthMbps());
        }
    }

    public synchronized List<Listener> listeners()
    {
        return listeners.values().stream().map(e -> e.config).toList();
    }

    /** Releases the session tables of forwarders that were driven by hand (runners close their own agents). */
    @Override
    public synchronized void close()
    {
        if (started)
        {
            return;
        }
        for (final ForwarderAgent f : forwarders)
        {
            f.onClose();
        }
    }

    private long replaceBackend(final ListenerKey key, final Backend.BackendKey backendKey,
        final java.util.function.UnaryOperator<Backend> change)
    {
        final ListenerEntry entry = entry(key);
        final List<Backend> updated = new ArrayList<>();
        boolean found = false;
        for (final Backend b : entry.config.backends())
        {
            if (b.key().equals(backendKey))
            {
                updated.add(change.apply(b));
                found = true;
            }
            else
            {
                updated.add(b);
            }
        }
        if (!found)
        {
            throw new IllegalArgumentException("server " + backendKey + " is not in listener " + key);
        }
        entry.config = entry.config.withBackends(updated);
        return publish();
    }

    private ListenerEntry entry(final ListenerKey key)
    {
        final ListenerEntry entry = listeners.get(key);
        if (entry == null)
        {
            throw new IllegalArgumentException("listener " + key + " does not exist");
        }
        return entry;
    }

    private void syncBackends(final ListenerEntry entry, final List<Backend> backends)
    {
        final Map<Backend.BackendKey, BackendEntry> keep = new HashMap<>();
        for (final Backend b : backends)
        {
            BackendEntry be = entry.backends.get(b.key());
            if (be == null)
            {
                be = new BackendEntry(allocateBackendId(), newCounters(FastpathCounter.BACKEND,
                    entry.config.name() + "." + b.key()));
            }
            keep.put(b.key(), be);
        }
        for (final Map.Entry<Backend.BackendKey, BackendEntry> e : entry.backends.entrySet())
        {
            if (!keep.containsKey(e.getKey()))
            {
                retire(e.getValue().counters());
            }
        }
        entry.backends.clear();
        entry.backends.putAll(keep);
    }

    private long publish()
    {
        generation++;
        for (int i = 0; i < forwarders.length; i++)
        {
            forwarders[i].publish(buildTable(i));
        }
        reclaimRetired();
        return generation;
    }

    private ListenerTable buildTable(final int forwarder)
    {
        final List<ListenerState> states = new ArrayList<>();
        final Map<ListenerKey, InstanceEntry> instanceOf = new HashMap<>();
        for (final InstanceEntry i : instances.values())
        {
            for (final ListenerKey k : i.listeners())
            {
                instanceOf.put(k, i);
            }
        }
        int maxListenerId = 0;
        int maxBackendId = 0;
        for (final ListenerEntry e : listeners.values())
        {
            final List<Backend> configured = e.config.backends();
            final BackendState[] backends = new BackendState[configured.size()];
            for (int i = 0; i < backends.length; i++)
            {
                final BackendEntry be = e.backends.get(configured.get(i).key());
                backends[i] = new BackendState(be.id(), configured.get(i), new CounterSet(be.counters()));
                maxBackendId = Math.max(maxBackendId, be.id());
            }
            states.add(new ListenerState(e.id, e.config, AclMatcher.compile(e.config.acl()), backends,
                Schedulers.create(e.config.scheduler(), backends, configuration.maglevMinTableSize()),
                new CounterSet(e.counters), bandwidth(e, instanceOf.get(e.config.key())), forwarders.length));
            maxListenerId = Math.max(maxListenerId, e.id);
        }
        final long[] highs = new long[localAddresses.size()];
        final long[] lows = new long[localAddresses.size()];
        for (int i = 0; i < highs.length; i++)
        {
            highs[i] = IpAddresses.high(localAddresses.get(i));
            lows[i] = IpAddresses.low(localAddresses.get(i));
        }
        return new ListenerTable(generation, states, maxListenerId, maxBackendId, highs, lows);
    }

    private static ListenerBandwidth bandwidth(final ListenerEntry listener, final InstanceEntry instance)
    {
        return new ListenerBandwidth(listener.bucket, instance == null ? null : instance.bucket(),
            instance == null ? null : new CounterSet(instance.counters()));
    }

    private AtomicCounter[] newCounters(final FastpathCounter[] group, final String name)
    {
        final AtomicCounter[] counters = new AtomicCounter[group.length];
        for (final FastpathCounter c : group)
        {
            counters[c.slot()] = countersManager.newCounter(c.label() + "." + name, c.typeId());
        }
        return counters;
    }

    private void retire(final AtomicCounter[] counters)
    {
        retired.add(new Retired(generation + 1, counters));
    }

    private void reclaimRetired()
    {
        retired.removeIf(r ->
        {
            if (isApplied(r.generation()))
            {
                for (final AtomicCounter c : r.counters())
                {
                    c.close();
                }
                return true;
            }
            return false;
        });
    }

    private int allocateListenerId()
    {
        final java.util.Set<Integer> used = new java.util.HashSet<>();
        listeners.values().forEach(e -> used.add(e.id));
        return nextFree(used, true);
    }

    private int allocateBackendId()
    {
        final java.util.Set<Integer> used = new java.util.HashSet<>();
        listeners.values().forEach(e -> e.backends.values().forEach(b -> used.add(b.id())));
        return nextFree(used, false);
    }

    /** Ids grow monotonically and wrap, skipping live ones, so a just-freed id is not reused while sessions name it. */
    private int nextFree(final java.util.Set<Integer> used, final boolean listener)
    {
        for (int attempt = 0; attempt < ForwarderAgent.MAX_IDS; attempt++)
        {
            int candidate = listener ? nextListenerId++ : nextBackendId++;
            if (candidate >= ForwarderAgent.MAX_IDS)
            {
                candidate = 1;
                if (listener)
                {
                    nextListenerId = 2;
                }
                else
                {
                    nextBackendId = 2;
                }
            }
            if (!used.contains(candidate))
            {
                return candidate;
            }
        }
        LOGGER.log(Logger.Level.ERROR, "fastpath ids exhausted");
        throw new IllegalStateException("no free " + (listener ? "listener" : "backend") + " id");
    }
}
