package io.sluice.control.node;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.control.api.ApiServer;
import io.sluice.control.api.ApiToken;
import io.sluice.control.api.MetricsExporter;
import io.sluice.control.config.ConfigLoader;
import io.sluice.control.config.LoadBalancer;
import io.sluice.control.config.NodeConfig;
import io.sluice.control.config.SluiceConfig;
import io.sluice.control.health.HealthChecker;
import io.sluice.control.journal.ConfigJournal;
import io.sluice.control.ControlCounter;
import io.sluice.counters.CountersFile;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * One sluice node in this network namespace: state directory, counters, kernel addresses, and the components
 * (agents and services) that serve the configured load balancers. {@link #start} returns once the node is ready;
 * {@link #close} drains for up to {@code drainTimeoutSeconds} and then releases everything it took.
 */
public final class Node implements AutoCloseable
{
    private static final System.Logger LOG = System.getLogger(Node.class.getName());
    /** Counters the file can hold: the node's own, the fastpath's per listener and backend, the proxy's. */
    private static final int MAX_COUNTERS = 16_384;

    private final SluiceConfig config;
    private final PerfProfile profile;
    private final CountersFile countersFile;
    private final Map<ControlCounter, AtomicCounter> counters = new EnumMap<>(ControlCounter.class);
    private final KernelAddresses addresses = new KernelAddresses();
    private final List<AutoCloseable> components = new ArrayList<>();
    private final List<HealthChecker.StateListener> healthListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<NodeComponent> trafficComponents = new java.util.concurrent.CopyOnWriteArrayList<>();
    private ConfigService configService;
    private HealthChecker health;
    private ApiServer api;
    private io.sluice.control.usage.UsageJournal usage;
    private AgentRunner conductorRunner;
    private boolean closed;

    private Node(final SluiceConfig config, final PerfProfile profile, final CountersFile countersFile)
    {
        this.config = config;
        this.profile = profile;
        this.countersFile = countersFile;
    }

    /**
     * Starts a node and returns when it is ready.
     *
     * @param config     a validated config with a node section.
     * @param profile    the perf profile.
     * @param configWins apply the file's load balancers on top of the journal's as a new entry.
     * @return the running node.
     */
    public static Node start(final SluiceConfig config, final PerfProfile profile, final boolean configWins)
    {
        final NodeConfig nodeConfig = config.node();
        final Path stateDir = Path.of(nodeConfig.stateDir());
        createStateDir(stateDir);
        final CountersFile countersFile = CountersFile.create(stateDir.resolve(CountersFile.FILE_NAME), MAX_COUNTERS, nodeConfig.name());
        final Node node = new Node(config, profile, countersFile);
        try
        {
            node.startComponents(stateDir, configWins);
            return node;
        }
        catch (final RuntimeException | IOException ex)
        {
            node.close();
            throw ex instanceof IOException io ? new UncheckedIOException(io.getMessage(), io) : (RuntimeException)ex;
        }
    }

    private void startComponents(final Path stateDir, final boolean configWins) throws IOException
    {
        final CountersManager manager = countersFile.manager();
        for (final ControlCounter counter : ControlCounter.block(ControlCounter.NODE_BLOCK))
        {
            counters.put(counter, counter.newCounter(manager));
        }
        counters.get(ControlCounter.NODE_STATE).setRelease(ControlCounter.STATE_STARTING);

        // The journal wins over the file: it holds what the API changed since the file was written.
        final ConfigJournal journal = ConfigJournal.open(stateDir.resolve("journal"));
        components.add(journal);
        configService = new ConfigService(config, journal, counters.get(ControlCounter.NODE_CONFIG_VERSION));
        configService.restore(configWins);
        final SluiceConfig effective = configService.current();
        final SluiceConfig nothing = effective.withLoadBalancers(List.of());

        final NodeConfig nodeConfig = config.node();
        final String dataInterface = nodeConfig.interfaces().isEmpty() ? "lo" : nodeConfig.interfaces().getFirst().name();
        final List<String> dataInterfaces = nodeConfig.interfaces().isEmpty() ? List.of("lo")
            : nodeConfig.interfaces().stream().map(NodeConfig.InterfaceConfig::name).toList();
        for (final String local : nodeConfig.localAddresses())
        {
            if (addresses.ensure(local, addresses.interfaceFor(InetAddress.ofLiteral(local), dataInterfaces)))
            {
                counters.get(ControlCounter.NODE_ADDRESSES_ADDED).incrementRelease();
            }
        }
        final ConfigTarget vips = new VipAddresses(dataInterface);
        applyInitial(vips, nothing, effective);

        health = new HealthChecker(manager, (key, up) -> healthListeners.forEach(l -> l.onHealthChange(key, up)));
        components.add(health);
        applyInitial(health, nothing, effective);

        // One bucket state per load balancer name for the fastpath and the proxy: its bandwidthMbps bounds what its L4
        // and L7 listeners send together, not each side on its own.
        final Map<String, AtomicLong> peakCells = new ConcurrentHashMap<>();
        final Function<String, AtomicLong> instancePeakCells =
            name -> peakCells.computeIfAbsent(name, n -> new AtomicLong(Long.MIN_VALUE));
        final FastpathComponent fastpath = FastpathComponent.start(nodeConfig, profile, manager, health, instancePeakCells);
        addComponent(fastpath, nothing, effective);
        final L7Component l7 = new L7Component(manager, profile, nodeConfig.drainTimeoutSeconds(), stateDir.resolve("access.log"),
            health, instancePeakCells);
        startCluster(manager, fastpath, l7);
        addComponent(l7, nothing, effective);

        // The conductor is not on the packet path: whatever the profile it sleeps between heartbeats.
        final NodeConductor conductor = new NodeConductor(countersFile, SystemEpochClock.INSTANCE,
            counters.get(ControlCounter.NODE_UPTIME_SECONDS), counters.get(ControlCounter.NODE_CONDUCTOR_DUTY_CYCLES));
        conductorRunner = new AgentRunner(conductor.idleStrategy(), this::onAgentError, null, conductor);
        AgentRunner.startOnThread(conductorRunner);

        final ApiToken token = ApiToken.loadOrCreate(Path.of(nodeConfig.api().tokenFile()));
        final String listen = nodeConfig.api().listen();
        final int colon = listen.lastIndexOf(':');
        final InetSocketAddress apiAddress = new InetSocketAddress(
            InetAddress.ofLiteral(listen.substring(0, colon).replace("[", "").replace("]", "")),
            Integer.parseInt(listen.substring(colon + 1)));
        usage = io.sluice.control.usage.UsageJournal.open(stateDir.resolve("usage"), null);
        components.add(usage);
        final io.sluice.control.usage.UsageMeter meter = new io.sluice.control.usage.UsageMeter(countersFile.reader(),
            configService::current, usage, ControlCounter.USAGE_RECORDS.newCounter(manager));
        components.add(startMinuteTimer(meter));

        api = new ApiServer(apiAddress, token, configService, new MetricsExporter(countersFile.reader(), this::healthSeries),
            readiness(), this::healthStates, ControlCounter.API_REQUESTS.newCounter(manager),
            ControlCounter.API_AUTH_FAILURES.newCounter(manager), nodeConfig::name, usage);
        api.start();
        components.add(api);

        counters.get(ControlCounter.NODE_STATE).setRelease(ControlCounter.STATE_READY);
    }

    /** Cluster membership when peers are configured: every bandwidth limit becomes limit ÷ live nodes. */
    private void startCluster(final CountersManager manager, final FastpathComponent fastpath, final L7Component l7)
        throws IOException
    {
        final io.sluice.control.config.ClusterConfig cluster = config.cluster();
        if (cluster == null || cluster.peers().isEmpty())
        {
            return;
        }
        final List<InetSocketAddress> peers = cluster.peers().stream()
            .map(p -> new InetSocketAddress(InetAddress.ofLiteral(p), cluster.syncPort())).toList();
        final io.sluice.control.cluster.ClusterMembership membership = new io.sluice.control.cluster.ClusterMembership(
            new io.sluice.control.cluster.ClusterMembership.Settings(config.node().name(), peers, cluster.syncPort(),
                io.sluice.control.cluster.ClusterMembership.readKey(Path.of(cluster.keyFile())), cluster.heartbeatMillis(),
                cluster.deadAfterMillis()), manager, SystemEpochClock.INSTANCE, live ->
                {
                    fastpath.bandwidthShare(live);
                    l7.bandwidthShare(live);
                });
        components.add(membership);
        membership.start();
    }

    /** Samples usage at every wall-clock minute boundary (a second late, so the minute's last packets are counted). */
    private static AutoCloseable startMinuteTimer(final io.sluice.control.usage.UsageMeter meter)
    {
        final java.util.concurrent.ScheduledExecutorService timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread thread = new Thread(r, "sluice-usage");
            thread.setDaemon(true);
            return thread;
        });
        timer.execute(new Runnable()
        {
            @Override
            public void run()
            {
                final long now = System.currentTimeMillis();
                final long minuteEnd = now / 60_000 * 60_000;
                if (now - minuteEnd >= 1_000)
                {
                    try
                    {
                        meter.sample(minuteEnd);
                    }
                    catch (final RuntimeException ex)
                    {
                        LOG.log(System.Logger.Level.WARNING, "usage sample failed: " + ex.getMessage());
                    }
                }
                // One shot at a time, the delay recomputed from the wall clock: drift or a clock step cannot shift minutes.
                timer.schedule(this, minuteEnd + 61_000 - System.currentTimeMillis(), TimeUnit.MILLISECONDS);
            }
        });
        return timer::shutdownNow;
    }

    /** Starts a traffic-serving component with the start config and hooks it to config changes and health. */
    private void addComponent(final NodeComponent component, final SluiceConfig nothing, final SluiceConfig effective)
    {
        components.add(component);
        trafficComponents.add(component);
        applyInitial(component, nothing, effective);
        healthListeners.add(component);
    }

    /** Brings a target from nothing to the start config, then registers it for later changes. */
    private void applyInitial(final ConfigTarget target, final SluiceConfig nothing, final SluiceConfig effective)
    {
        try
        {
            target.apply(nothing, effective);
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(target.name() + ": " + ex.getMessage(), ex);
        }
        configService.addTarget(target);
    }

    /** Adds the VIPs a change brings, removes those it drops (only those this node added). */
    private final class VipAddresses implements ConfigTarget
    {
        private final String ifname;

        VipAddresses(final String ifname)
        {
            this.ifname = ifname;
        }

        @Override
        public String name()
        {
            return "kernel addresses";
        }

        @Override
        public void apply(final SluiceConfig previous, final SluiceConfig next) throws IOException
        {
            final Set<InetAddress> before = vips(previous);
            final Set<InetAddress> after = vips(next);
            for (final InetAddress vip : after)
            {
                if (!before.contains(vip) && addresses.ensure(vip.getHostAddress(), ifname))
                {
                    counters.get(ControlCounter.NODE_ADDRESSES_ADDED).incrementRelease();
                }
            }
            for (final InetAddress vip : before)
            {
                if (!after.contains(vip) && !config.node().localAddresses().contains(vip.getHostAddress()))
                {
                    addresses.release(vip.getHostAddress());
                }
            }
        }

        private static Set<InetAddress> vips(final SluiceConfig config)
        {
            final Set<InetAddress> out = new HashSet<>();
            for (final LoadBalancer lb : config.loadBalancers())
            {
                out.add(lb.vipAddress());
            }
            return out;
        }
    }

    private ApiServer.Readiness readiness()
    {
        return new ApiServer.Readiness()
        {
            @Override
            public List<String> notReadyReasons()
            {
                final long state = counters.get(ControlCounter.NODE_STATE).get();
                final List<String> reasons = new ArrayList<>();
                if (state != ControlCounter.STATE_READY)
                {
                    reasons.add(state == ControlCounter.STATE_DRAINING ? "draining" : state == ControlCounter.STATE_STARTING ? "starting"
                        : "stopped");
                }
                for (final NodeComponent component : trafficComponents)
                {
                    reasons.addAll(component.notReadyReasons());
                }
                return reasons;
            }

            @Override
            public ObjectNode detail()
            {
                final ObjectNode detail = ConfigLoader.jsonWriter().createObjectNode();
                detail.put("profile", profile.name());
                detail.put("loadBalancers", configService.current().loadBalancers().size());
                detail.put("serversDown", health.states().stream().filter(s -> !s.up()).count());
                return detail;
            }
        };
    }

    private ArrayNode healthStates()
    {
        final ArrayNode out = ConfigLoader.jsonWriter().createArrayNode();
        for (final HealthChecker.State state : health.states())
        {
            final ObjectNode node = out.addObject()
                .put("loadBalancer", state.key().lb())
                .put("listener", state.key().listener())
                .put("server", state.key().server())
                .put("up", state.up())
                .put("since", java.time.Instant.ofEpochMilli(state.lastChangeMs()).toString());
            if (state.lastError() != null)
            {
                node.put("lastError", state.lastError());
            }
        }
        return out;
    }

    private List<MetricsExporter.Series> healthSeries()
    {
        final List<MetricsExporter.Series> out = new ArrayList<>();
        for (final HealthChecker.State state : health.states())
        {
            final Map<String, String> labels = new LinkedHashMap<>();
            labels.put("lb", state.key().lb());
            labels.put("listener", state.key().listener());
            labels.put("server", state.key().server());
            out.add(new MetricsExporter.Series("server_up", labels, state.up() ? 1 : 0));
        }
        return out;
    }

    /** Registers a component that follows server health (fastpath, proxy). */
    public void addHealthListener(final HealthChecker.StateListener listener)
    {
        healthListeners.add(listener);
    }

    public ConfigService configService()
    {
        return configService;
    }

    public InetSocketAddress apiAddress()
    {
        return api.address();
    }

    private void onAgentError(final Throwable error)
    {
        LOG.log(System.Logger.Level.ERROR, "agent error", error);
    }

    private static void createStateDir(final Path stateDir)
    {
        try
        {
            if (!Files.isDirectory(stateDir))
            {
                Files.createDirectories(stateDir);
                Files.setPosixFilePermissions(stateDir, PosixFilePermissions.fromString("rwx------"));
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot create stateDir " + stateDir + ": " + ex.getMessage(), ex);
        }
    }

    public SluiceConfig config()
    {
        return config;
    }

    public PerfProfile profile()
    {
        return profile;
    }

    public List<KernelAddresses.Added> addedAddresses()
    {
        return addresses.added();
    }

    /**
     * Stops taking new flows, waits up to drainTimeoutSeconds for established ones, then stops every component and
     * removes the addresses it added. Safe to call more than once.
     */
    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        final AtomicCounter state = counters.get(ControlCounter.NODE_STATE);
        if (state != null)
        {
            state.setRelease(ControlCounter.STATE_DRAINING);
        }
        final long drainDeadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(config.node().drainTimeoutSeconds());
        for (int i = components.size() - 1; i >= 0; i--)
        {
            final AutoCloseable component = components.get(i);
            try
            {
                if (component instanceof Drainable drainable)
                {
                    drainable.drain(Math.max(0, drainDeadlineNs - System.nanoTime()));
                }
                component.close();
            }
            catch (final Exception ex)
            {
                LOG.log(System.Logger.Level.WARNING, "stopping " + component + ": " + ex.getMessage());
            }
        }
        if (conductorRunner != null)
        {
            conductorRunner.close();
        }
        addresses.close();
        if (state != null)
        {
            state.setRelease(ControlCounter.STATE_STOPPED);
        }
        countersFile.close();
    }

    /** A component that can finish its in-flight work before it is closed. */
    public interface Drainable extends AutoCloseable
    {
        /** Refuse new work and wait up to {@code timeoutNs} for in-flight work to finish. */
        void drain(long timeoutNs) throws InterruptedException;
    }
}
