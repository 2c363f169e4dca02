package io.sluice.control.node;

import io.sluice.control.config.LoadBalancer;
import io.sluice.control.config.NodeConfig;
import io.sluice.control.config.SluiceConfig;
import io.sluice.counters.CountersFile;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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
    private final Map<NodeCounters, AtomicCounter> counters = new EnumMap<>(NodeCounters.class);
    private final KernelAddresses addresses = new KernelAddresses();
    private final List<AutoCloseable> components = new ArrayList<>();
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
     * @param config  a validated config with a node section.
     * @param profile the perf profile.
     * @return the running node.
     */
    public static Node start(final SluiceConfig config, final PerfProfile profile)
    {
        final NodeConfig nodeConfig = config.node();
        final Path stateDir = Path.of(nodeConfig.stateDir());
        createStateDir(stateDir);
        final CountersFile countersFile = CountersFile.create(stateDir.resolve(CountersFile.FILE_NAME), MAX_COUNTERS, nodeConfig.name());
        final Node node = new Node(config, profile, countersFile);
        try
        {
            node.startComponents();
            return node;
        }
        catch (final RuntimeException | IOException ex)
        {
            node.close();
            throw ex instanceof IOException io ? new UncheckedIOException(io.getMessage(), io) : (RuntimeException)ex;
        }
    }

    private void startComponents() throws IOException
    {
        final CountersManager manager = countersFile.manager();
        for (final NodeCounters counter : NodeCounters.values())
        {
            counters.put(counter, manager.newCounter(counter.label(), counter.typeId()));
        }
        counters.get(NodeCounters.STATE).setRelease(NodeCounters.STATE_STARTING);

        final NodeConfig nodeConfig = config.node();
        final String dataInterface = nodeConfig.interfaces().isEmpty() ? "lo" : nodeConfig.interfaces().getFirst().name();
        for (final LoadBalancer lb : config.loadBalancers())
        {
            if (addresses.ensure(lb.vip(), dataInterface))
            {
                counters.get(NodeCounters.ADDRESSES_ADDED).incrementRelease();
            }
        }
        for (final String local : nodeConfig.localAddresses())
        {
            if (addresses.ensure(local, dataInterface))
            {
                counters.get(NodeCounters.ADDRESSES_ADDED).incrementRelease();
            }
        }

        // The conductor is not on the packet path: it parks up to 1 ms whatever the profile, so it never costs a core.
        final NodeConductor conductor = new NodeConductor(countersFile, SystemEpochClock.INSTANCE,
            counters.get(NodeCounters.UPTIME_SECONDS), counters.get(NodeCounters.CONDUCTOR_DUTY_CYCLES));
        conductorRunner = new AgentRunner(new BackoffIdleStrategy(10, 5, 1_000, 1_000_000), this::onAgentError, null, conductor);
        AgentRunner.startOnThread(conductorRunner);

        counters.get(NodeCounters.STATE).setRelease(NodeCounters.STATE_READY);
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
        final AtomicCounter state = counters.get(NodeCounters.STATE);
        if (state != null)
        {
            state.setRelease(NodeCounters.STATE_DRAINING);
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
            state.setRelease(NodeCounters.STATE_STOPPED);
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
