package io.sluice.control.node;

import io.sluice.control.config.InterfaceMode;
import io.sluice.control.config.LoadBalancer;
import io.sluice.control.config.NodeConfig;
import io.sluice.control.config.ServerGroup;
import io.sluice.control.config.SluiceConfig;
import io.sluice.control.health.HealthChecker;
import io.sluice.fastpath.Conductor;
import io.sluice.fastpath.FlowOffload;
import io.sluice.fastpath.ForwarderAgent;
import io.sluice.fastpath.ForwarderConfiguration;
import io.sluice.fastpath.NeighbourCache;
import io.sluice.fastpath.NeighbourTable;
import io.sluice.fastpath.config.Acl;
import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Cidr;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.NodeSettings;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.config.SchedulerKind;
import io.sluice.fastpath.io.EventFdDoorbell;
import io.sluice.fastpath.io.KernelNeighbourResolver;
import io.sluice.fastpath.io.PacketIoPort;
import io.sluice.fastpath.io.PollingIdleStrategy;
import io.sluice.nativeio.NativeCounters;
import io.sluice.nativeio.NativeException;
import io.sluice.nativeio.netlink.Ethtool;
import io.sluice.nativeio.netlink.Netlink;
import io.sluice.nativeio.packet.AfPacketSocket;
import io.sluice.nativeio.packet.PacketIo;
import io.sluice.nativeio.packet.XskPacketIo;
import io.sluice.nativeio.xdp.Umem;
import io.sluice.nativeio.xdp.UmemConfig;
import io.sluice.nativeio.xdp.VipKey;
import io.sluice.nativeio.xdp.XdpMode;
import io.sluice.nativeio.xdp.XdpFlowTable;
import io.sluice.nativeio.xdp.XdpSteering;
import io.sluice.nativeio.xdp.XskConfig;
import io.sluice.nativeio.xdp.XskSocket;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.status.CountersManager;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The L4 fastpath as a node component: attaches the XDP steering program to every data interface, opens one AF_XDP
 * socket per forwarder and interface (forwarder i on rx queue i of each; AF_PACKET where the config asks for it) — a
 * frame leaves by the interface of the kernel route to its next hop — starts the forwarder agents
 * with the profile's idle strategy (pinned when the profile says so) and a kernel neighbour resolver, and turns the tcp
 * and udp listeners of the config into conductor commands and steering entries. L7 VIPs are not steered: the kernel gets
 * them, and the proxy listens there.
 */
final class FastpathComponent implements NodeComponent
{
    private static final System.Logger LOG = System.getLogger(FastpathComponent.class.getName());
    private static final long NEIGHBOUR_RETRY_NS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long NEIGHBOUR_REFRESH_NS = TimeUnit.SECONDS.toNanos(5);
    /** The resolver's longest sleep: its retries run at most a fifth of their interval late. */
    private static final int RESOLVER_POLL_MS = (int)TimeUnit.NANOSECONDS.toMillis(NEIGHBOUR_RETRY_NS / 5);

    private final NodeConfig node;
    private final HealthChecker health;
    private final List<String> notReady = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final Map<String, Listener> listeners = new LinkedHashMap<>();
    private final Map<String, ListenerKey> keysByName = new LinkedHashMap<>();
    /** Load balancers as the conductor knows them: name → (bandwidthMbps, L4 listener keys). */
    private final Map<String, Map.Entry<Integer, List<ListenerKey>>> instances = new LinkedHashMap<>();
    private Conductor conductor;
    private final List<XdpSteering> steerings = new ArrayList<>();
    private final List<NativeCounters> nativeCounters = new java.util.concurrent.CopyOnWriteArrayList<>();
    private java.util.concurrent.ScheduledExecutorService nativeCountersTimer;
    private NeighbourCache neighbours;
    private XdpFlowTable flowTable;
    private List<AgentRunner> runners = List.of();
    private AgentRunner resolverRunner;

    private FastpathComponent(final NodeConfig node, final HealthChecker health)
    {
        this.node = node;
        this.health = health;
    }

    /** A fastpath on the node's data interfaces, or one that only explains why L4 listeners are not served. */
    static FastpathComponent start(final NodeConfig node, final PerfProfile profile, final CountersManager counters,
        final HealthChecker health, final Function<String, AtomicLong> instancePeakCells)
    {
        final FastpathComponent component = new FastpathComponent(node, health);
        if (node.interfaces().isEmpty())
        {
            return component;
        }
        try
        {
            component.open(profile, counters, instancePeakCells);
            return component;
        }
        catch (final RuntimeException ex)
        {
            component.close();
            throw ex;
        }
    }

    private void open(final PerfProfile profile, final CountersManager counters,
        final Function<String, AtomicLong> instancePeakCells)
    {
        final int forwarders = node.forwarders();
        final int interfaces = node.interfaces().size();
        if (interfaces > NeighbourTable.MAX_INTERFACES)
        {
            throw new IllegalArgumentException("node.interfaces: at most " + NeighbourTable.MAX_INTERFACES + ", " + interfaces
                + " given");
        }
        final PacketIoPort[][] ports = new PacketIoPort[forwarders][interfaces];
        final int[] ifindexes = new int[interfaces];
        if (node.offloadSessions() > 0)
        {
            // Shared by every interface's steering program: a session's two directions arrive on different interfaces.
            try
            {
                flowTable = XdpFlowTable.create((int)(2 * node.offloadSessions()), FlowOffload.COUNTER_SLOTS);
            }
            catch (final RuntimeException ex)
            {
                throw new IllegalArgumentException("node.offloadSessions: " + node.offloadSessions() + " sessions need an XDP flow"
                    + " table of " + 2 * node.offloadSessions() + " entries (about " + node.offloadSessions()
                    * FlowOffload.BYTES_PER_SESSION / (1 << 20) + " MiB of kernel memory), which the kernel refused: "
                    + ex.getMessage(), ex);
            }
            resources.add(flowTable);
        }
        for (int slot = 0; slot < interfaces; slot++)
        {
            ifindexes[slot] = openInterface(slot, profile, ports, counters);
        }
        // The steering program's per-CPU action counts and the sockets' XDP_STATISTICS, copied into the counters file
        // every second so `sluice stat` shows where frames went (kernel-side drops included).
        nativeCountersTimer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread thread = new Thread(r, "sluice-native-counters");
            thread.setDaemon(true);
            return thread;
        });
        nativeCountersTimer.scheduleAtFixedRate(() -> nativeCounters.forEach(NativeCounters::update), 1, 1,
            java.util.concurrent.TimeUnit.SECONDS);

        final List<InetAddress> locals = node.localAddresses().stream().map(InetAddress::ofLiteral).toList();
        for (final XdpSteering steering : steerings)
        {
            for (final InetAddress local : locals)
            {
                steering.addLocalAddress(local, NodeSettings.DEFAULT_SNAT_PORT_MIN, NodeSettings.DEFAULT_SNAT_PORT_MAX);
            }
        }
        // Replies to a local address:port belong to forwarder port mod N: where the NIC has n-tuple filters it delivers
        // them to that forwarder's queue itself, so only the client direction is ever handed off.
        for (final NodeConfig.InterfaceConfig data : node.interfaces())
        {
            if (data.mode() != InterfaceMode.AF_PACKET)
            {
                resources.add(ReplySteering.install(data.name(), forwarders, locals, ReplySteering.ETHTOOL));
            }
        }
        neighbours = new NeighbourCache();
        final KernelNeighbourResolver resolver = new KernelNeighbourResolver(neighbours, new Netlink(), new SystemNanoClock(),
            NEIGHBOUR_RETRY_NS, NEIGHBOUR_REFRESH_NS, ifindexes);
        // The resolver sleeps in poll(2) on a doorbell the forwarders ring with each request, waking on its own only for
        // its retries and refreshes: it slept 1 ms at a time before, ~800 wake-ups and 17 ms of CPU a second on a busy
        // 2-core node, taken from the forwarder and the endpoints (docs/fastpath.md, session 7).
        final EventFdDoorbell resolverDoorbell = new EventFdDoorbell(neighbours::hasRequests);
        resources.add(resolverDoorbell);
        neighbours.wakeOnRequest(resolverDoorbell);
        resolverRunner = new AgentRunner(new PollingIdleStrategy(new int[0], 0, 0, RESOLVER_POLL_MS, 0, resolverDoorbell),
            ex -> LOG.log(System.Logger.Level.WARNING, "neighbour resolver", ex), null, resolver);
        AgentRunner.startOnThread(resolverRunner);

        conductor = new Conductor(new NodeSettings(forwarders, (int)Math.min(Integer.MAX_VALUE, node.sessionCapacity()), locals,
            NodeSettings.DEFAULT_SNAT_PORT_MIN, NodeSettings.DEFAULT_SNAT_PORT_MAX), ForwarderConfiguration.DEFAULT, counters,
            neighbours, ports, new SystemNanoClock());
        // a load balancer's bandwidthMbps is one budget with its L7 listeners' (the proxy's peaks use the same cells)
        conductor.instancePeakCells(instancePeakCells);
        if (flowTable != null)
        {
            final FlowOffload offload = new FlowOffload(flowTable, ifindexes);
            neighbours.onChange(offload::neighboursChanged);
            conductor.offload(offload);
        }
        final EventFdDoorbell[] doorbells = doorbells(profile, ports);
        runners = conductor.start(idleStrategies(profile, ports, doorbells),
            ex -> LOG.log(System.Logger.Level.ERROR, "forwarder", ex), null);
    }

    private void addNativeCounters(final NativeCounters set)
    {
        nativeCounters.add(set);
        resources.add(set);
    }

    /**
     * Attaches steering to data interface {@code slot} and opens forwarder i's socket on its rx queue i.
     * @return the interface's ifindex.
     */
    private int openInterface(final int slot, final PerfProfile profile, final PacketIoPort[][] ports,
        final CountersManager counters)
    {
        final NodeConfig.InterfaceConfig data = node.interfaces().get(slot);
        final int forwarders = ports.length;
        final Netlink.Link link;
        try (Netlink netlink = new Netlink())
        {
            link = netlink.link(data.name());
        }
        if (link == null)
        {
            throw new IllegalArgumentException("node.interfaces[" + slot + "].name: no interface " + data.name()
                + " in this namespace");
        }
        if (link.rxQueues() < forwarders)
        {
            throw new IllegalArgumentException("node.forwarders: " + forwarders + " forwarders need " + forwarders
                + " rx queues, " + data.name() + " has " + link.rxQueues());
        }
        final int ifindex = link.index();
        final long mac = PacketIoPort.mac(link.mac());

        final XdpSteering steering = data.mode() == InterfaceMode.AF_PACKET
            ? XdpSteering.attachTcIngress(ifindex, XdpSteering.DEFAULT_MAX_VIPS)
            : XdpSteering.attach(data.name(), data.mode() == InterfaceMode.XDP_GENERIC ? XdpMode.GENERIC : XdpMode.NATIVE,
                flowTable);
        resources.add(steering);
        steerings.add(steering);
        addNativeCounters(NativeCounters.forSteering(counters, steering, data.name()));
        if (data.mode() == InterfaceMode.XDP && isVeth(data.name()))
        {
            LOG.log(System.Logger.Level.INFO, data.name() + " is a veth: generic XDP (mode: xdp-generic) forwards more through a"
                + " veth than native XDP does (docs/fastpath.md, \"Session 11\")");
        }

        for (int queue = 0; queue < forwarders; queue++)
        {
            final PacketIo io;
            if (data.mode() == InterfaceMode.AF_PACKET)
            {
                io = new AfPacketSocket(ifindex, 1 << 20, 8, 1);
            }
            else
            {
                // One UMEM per socket: a frame that leaves by another interface is copied into that socket's tx frame.
                final Umem umem = Umem.allocate(new UmemConfig(UmemConfig.DEFAULT_FRAME_COUNT, 2048, 0, false));
                resources.add(umem);
                XskConfig xskConfig = XskConfig.defaults();
                if (profile.xdpBusyPoll())
                {
                    xskConfig = xskConfig.withBusyPoll(20, 64);
                }
                final XskSocket xsk = XskSocket.open(umem, ifindex, queue, xskConfig);
                if (queue == 0 && !xsk.isZeroCopy())
                {
                    LOG.log(System.Logger.Level.INFO, "AF_XDP on " + data.name() + " in copy mode: " + xsk.zeroCopyFallbackReason());
                }
                steering.registerXsk(queue, xsk.fd());
                addNativeCounters(NativeCounters.forXsk(counters, xsk, data.name()));
                io = new XskPacketIo(xsk);
            }
            final PacketIoPort port = new PacketIoPort(io, mac);
            resources.add(port);
            ports[queue][slot] = port;
        }
        return ifindex;
    }

    /**
     * With several forwarders that sleep in poll(2): one eventfd doorbell per forwarder, so a frame handed to a sleeping
     * owner wakes it instead of waiting for the poll timeout; every forwarder is told how to wake the others. Null when
     * the forwarders never sleep in poll (one forwarder, busy-spinning profiles, sockets without an fd).
     */
    private EventFdDoorbell[] doorbells(final PerfProfile profile, final PacketIoPort[][] ports)
    {
        final boolean polls = "backoff".equals(profile.idleKind()) || "sleeping".equals(profile.idleKind());
        final boolean pollable = java.util.Arrays.stream(ports).flatMap(java.util.Arrays::stream).allMatch(p -> p.pollFd() >= 0);
        if (ports.length < 2 || !polls || !pollable)
        {
            return null;
        }
        final ForwarderAgent[] agents = conductor.forwarders();
        final EventFdDoorbell[] doorbells = new EventFdDoorbell[agents.length];
        for (int i = 0; i < agents.length; i++)
        {
            doorbells[i] = new EventFdDoorbell(agents[i]::hasHandedOffFrames);
            resources.add(doorbells[i]);
        }
        for (final ForwarderAgent agent : agents)
        {
            agent.handoffWakeups(doorbells);
        }
        return doorbells;
    }

    /** Whether {@code ifname}'s driver is veth (false when ethtool cannot say). */
    private static boolean isVeth(final String ifname)
    {
        try
        {
            return "veth".equals(Ethtool.driver(ifname));
        }
        catch (final NativeException ex)
        {
            return false;
        }
    }

    /**
     * The profile's idle strategy; pinned profiles pin forwarder i to the i-th CPU of the profile's list. Profiles that
     * park (backoff, sleeping) sleep in poll(2) on forwarder i's sockets instead, so an arriving frame wakes it at once.
     */
    private static Supplier<IdleStrategy> idleStrategies(final PerfProfile profile, final PacketIoPort[][] ports,
        final EventFdDoorbell[] doorbells)
    {
        final AtomicInteger forwarder = new AtomicInteger();
        final Supplier<IdleStrategy> base = () ->
        {
            final int i = forwarder.getAndIncrement();
            if (!"backoff".equals(profile.idleKind()) && !"sleeping".equals(profile.idleKind()))
            {
                return profile.newIdleStrategy();
            }
            final int[] fds = java.util.Arrays.stream(ports[i % ports.length]).mapToInt(PacketIoPort::pollFd).filter(fd -> fd >= 0)
                .toArray();
            if (fds.length < ports[i % ports.length].length)
            {
                return profile.newIdleStrategy();
            }
            final boolean backoff = "backoff".equals(profile.idleKind());
            return new PollingIdleStrategy(fds, backoff ? profile.maxSpins() : 0, backoff ? profile.maxYields() : 0,
                (int)Math.max(1, profile.maxParkNanos() / 1_000_000L), profile.forwarderNice(),
                doorbells == null ? null : doorbells[i % doorbells.length]).threadSliceNanos(profile.forwarderSliceNanos());
        };
        if (!profile.pinThreads())
        {
            return base;
        }
        final int[] cpus = profile.cpuList();
        final AtomicInteger next = new AtomicInteger();
        return () -> new PinningIdleStrategy(base.get(), cpus[next.getAndIncrement() % cpus.length]);
    }

    @Override
    public String name()
    {
        return "L4 fastpath";
    }

    @Override
    public synchronized void apply(final SluiceConfig previous, final SluiceConfig next)
    {
        final Map<String, Listener> wanted = translate(next);
        notReady.clear();
        if (conductor == null)
        {
            if (!wanted.isEmpty())
            {
                notReady.add("tcp/udp listeners (" + String.join(", ", wanted.keySet())
                    + ") need a data interface (node.interfaces) for the L4 fastpath");
            }
            return;
        }
        for (final String name : new ArrayList<>(listeners.keySet()))
        {
            if (!wanted.containsKey(name))
            {
                final Listener old = listeners.remove(name);
                conductor.removeListener(old.key());
                for (final XdpSteering steering : steerings)
                {
                    steering.removeVip(old.key().vip(), old.key().port(), proto(old.key()));
                    if (listeners.values().stream().noneMatch(l -> l.key().vip().equals(old.key().vip())))
                    {
                        // the fastpath answers echo to a VIP while any listener uses it
                        steering.removeVip(old.key().vip(), 0, echoProto(old.key()));
                    }
                }
                keysByName.remove(name);
            }
        }
        for (final Map.Entry<String, Listener> entry : wanted.entrySet())
        {
            final Listener old = listeners.get(entry.getKey());
            final Listener listener = entry.getValue();
            for (final Backend backend : listener.backends())
            {
                // resolved exactly, never sent to the default gateway while unknown
                neighbours.expect(backend.address());
            }
            if (old == null)
            {
                conductor.addListener(listener);
                for (final XdpSteering steering : steerings)
                {
                    steering.addVip(listener.key().vip(), listener.key().port(), proto(listener.key()), XdpSteering.Action.REDIRECT);
                    steering.addVip(listener.key().vip(), 0, echoProto(listener.key()), XdpSteering.Action.REDIRECT);
                }
            }
            else if (!old.equals(listener))
            {
                conductor.updateListener(listener);
            }
            listeners.put(entry.getKey(), listener);
            keysByName.put(entry.getKey(), listener.key());
        }
        syncInstances(next);
    }

    /** Per load balancer bucket (its bandwidthMbps over all its L4 listeners) and meter, declared when changed. */
    private void syncInstances(final SluiceConfig config)
    {
        final Map<String, Map.Entry<Integer, List<ListenerKey>>> wanted = new LinkedHashMap<>();
        for (final LoadBalancer lb : config.loadBalancers())
        {
            final List<ListenerKey> keys = new ArrayList<>();
            for (final io.sluice.control.config.Listener l : lb.listeners())
            {
                final ListenerKey key = keysByName.get(lb.listenerName(l));
                if (!l.isL7() && key != null)
                {
                    keys.add(key);
                }
            }
            if (!keys.isEmpty())
            {
                wanted.put(lb.name(), Map.entry(lb.bandwidthMbps(), List.copyOf(keys)));
            }
        }
        for (final String name : new ArrayList<>(instances.keySet()))
        {
            if (!wanted.containsKey(name))
            {
                conductor.removeInstance(name);
                instances.remove(name);
            }
        }
        for (final Map.Entry<String, Map.Entry<Integer, List<ListenerKey>>> e : wanted.entrySet())
        {
            if (!e.getValue().equals(instances.get(e.getKey())))
            {
                conductor.setInstance(e.getKey(), e.getValue().getKey(), e.getValue().getValue());
                instances.put(e.getKey(), e.getValue());
            }
        }
    }

    /** Every bandwidth limit at limit ÷ {@code liveNodes} (the cluster's live node count, this node included). */
    public synchronized void bandwidthShare(final int liveNodes)
    {
        if (conductor != null)
        {
            conductor.setBandwidthShare(liveNodes);
        }
    }

    private Map<String, Listener> translate(final SluiceConfig config)
    {
        final Map<String, Listener> out = new LinkedHashMap<>();
        for (final LoadBalancer lb : config.loadBalancers())
        {
            for (final io.sluice.control.config.Listener l : lb.listeners())
            {
                if (l.isL7())
                {
                    continue;
                }
                final Protocol protocol = l.protocol() == io.sluice.control.config.Protocol.TCP ? Protocol.TCP : Protocol.UDP;
                final ListenerKey key = new ListenerKey(lb.vipAddress(), protocol, l.port());
                final List<Backend> backends = new ArrayList<>();
                final ServerGroup group = lb.serverGroup(l.serverGroup());
                for (final ServerGroup.Server server : group.servers())
                {
                    final boolean up = health.isUp(new HealthChecker.Key(lb.name(), l.key(), server.key()));
                    backends.add(new Backend(server.inetAddress(), server.port(), server.weight(), up));
                }
                final Acl acl = l.acl() == null ? Acl.ALLOW_ALL : new Acl(Acl.Mode.valueOf(l.acl().mode().name()),
                    l.acl().cidrs().stream().map(c -> new Cidr(c.address(), c.prefixLength())).toList());
                final String name = lb.listenerName(l);
                out.put(name, new Listener(lb.fastpathListenerName(l), key,
                    SchedulerKind.valueOf(l.scheduler().name()), l.maxConnections(), l.persistenceTimeoutSeconds(),
                    l.idleTimeoutSeconds(), acl, l.bandwidthMbps(), Boolean.TRUE.equals(l.toa()), Boolean.TRUE.equals(l.synProxy()),
                    backends, orZero(l.newConnectionsPerSecond()), orZero(l.newConnectionsPerSourcePerSecond())));
            }
        }
        return out;
    }

    /** The steering key of echo requests to a VIP: port 0, ICMP or ICMPv6 by the VIP's family. */
    private static int echoProto(final ListenerKey key)
    {
        return key.vip() instanceof java.net.Inet4Address ? VipKey.IPPROTO_ICMP : VipKey.IPPROTO_ICMPV6;
    }

    private static int orZero(final Integer value)
    {
        return value == null ? 0 : value;
    }

    private static int proto(final ListenerKey key)
    {
        return key.protocol() == Protocol.TCP ? VipKey.IPPROTO_TCP : VipKey.IPPROTO_UDP;
    }

    @Override
    public synchronized void onHealthChange(final HealthChecker.Key key, final boolean up)
    {
        final ListenerKey listenerKey = keysByName.get(LoadBalancer.listenerName(key.lb(), key.listener()));
        if (conductor == null || listenerKey == null)
        {
            return;
        }
        final int colon = key.server().lastIndexOf(':');
        final InetAddress address = InetAddress.ofLiteral(key.server().substring(0, colon).replace("[", "").replace("]", ""));
        conductor.setBackendState(listenerKey, new Backend.BackendKey(address, Integer.parseInt(key.server().substring(colon + 1))), up);
    }

    @Override
    public List<String> notReadyReasons()
    {
        return List.copyOf(notReady);
    }

    @Override
    public void drain(final long timeoutNs)
    {
        // Established L4 flows survive a node's exit through session sync to its peers (ECMP moves them); a lone node
        // simply stops: there is no in-flight request to wait for at L4.
    }

    @Override
    public synchronized void close()
    {
        if (nativeCountersTimer != null)
        {
            nativeCountersTimer.shutdownNow();
            try
            {
                nativeCountersTimer.awaitTermination(1, java.util.concurrent.TimeUnit.SECONDS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            nativeCountersTimer = null;
        }
        for (final AgentRunner runner : runners)
        {
            runner.close();
        }
        runners = List.of();
        if (resolverRunner != null)
        {
            resolverRunner.close();
            resolverRunner = null;
        }
        if (conductor != null)
        {
            conductor.close();
            conductor = null;
        }
        for (int i = resources.size() - 1; i >= 0; i--)
        {
            try
            {
                resources.get(i).close();
            }
            catch (final Exception ex)
            {
                LOG.log(System.Logger.Level.WARNING, "closing " + resources.get(i) + ": " + ex.getMessage());
            }
        }
        resources.clear();
    }

    /** Pins the thread that first idles with it (the forwarder's own thread) to one CPU, then idles as the profile says. */
    private static final class PinningIdleStrategy implements IdleStrategy
    {
        private final IdleStrategy delegate;
        private final int cpu;
        private boolean pinned;

        PinningIdleStrategy(final IdleStrategy delegate, final int cpu)
        {
            this.delegate = delegate;
            this.cpu = cpu;
        }

        private void pin()
        {
            if (!pinned)
            {
                pinned = true;
                if (!ThreadAffinity.pinCurrentThread(cpu))
                {
                    LOG.log(System.Logger.Level.WARNING, "could not pin " + Thread.currentThread().getName() + " to CPU " + cpu);
                }
            }
        }

        @Override
        public void idle(final int workCount)
        {
            pin();
            delegate.idle(workCount);
        }

        @Override
        public void idle()
        {
            pin();
            delegate.idle();
        }

        @Override
        public void reset()
        {
            delegate.reset();
        }
    }
}
