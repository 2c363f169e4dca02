package io.sluice.control.health;

import io.sluice.control.ControlCounter;
import io.sluice.control.config.LoadBalancer;
import io.sluice.control.config.Listener;
import io.sluice.control.config.ServerGroup;
import io.sluice.control.config.SluiceConfig;
import io.sluice.control.node.ConfigTarget;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Health checks per (load balancer, listener, server): TCP connect, HTTP/HTTPS GET or HEAD, UDP probe. A server starts
 * up (so a node start or a config change never blackholes a listener while the first probes run), goes down after
 * {@code unhealthyThreshold} failed probes in a row and up again after {@code healthyThreshold} good ones; each
 * transition is logged, counted and handed to the {@link StateListener} that drives the fastpath and the proxy.
 * Probes run on virtual threads; one probe per target at a time.
 */
public final class HealthChecker implements ConfigTarget, AutoCloseable
{
    private static final System.Logger LOG = System.getLogger(HealthChecker.class.getName());

    /**
     * What a health state is kept for.
     *
     * @param lb       load balancer name.
     * @param listener PROTOCOL:PORT.
     * @param server   ADDRESS:PORT.
     */
    public record Key(String lb, String listener, String server)
    {
        /** @return the listener's node-wide name, {@link LoadBalancer#listenerName(String, String)}. */
        public String listenerName()
        {
            return LoadBalancer.listenerName(lb, listener);
        }

        @Override
        public String toString()
        {
            return listenerName() + " → " + server;
        }
    }

    /** Told of every transition, on a probe thread. */
    public interface StateListener
    {
        void onHealthChange(Key key, boolean up);
    }

    /**
     * A target's state as the API shows it.
     *
     * @param key          the target.
     * @param up           its state.
     * @param lastError    why the last probe failed, or null.
     * @param lastChangeMs when it last changed state.
     */
    public record State(Key key, boolean up, String lastError, long lastChangeMs)
    {
    }

    private final class Target implements Runnable
    {
        private final Key key;
        private final Listener.HealthCheck check;
        private final InetSocketAddress server;
        private final AtomicBoolean running = new AtomicBoolean();
        private volatile boolean stopped;
        private volatile boolean up = true;
        private volatile String lastError;
        private volatile long lastChangeMs = System.currentTimeMillis();
        private int goodStreak;
        private int badStreak;
        private ScheduledFuture<?> schedule;

        Target(final Key key, final Listener.HealthCheck check, final InetSocketAddress server)
        {
            this.key = key;
            this.check = check;
            this.server = server;
        }

        /** Called by the scheduler: start a probe unless the previous one is still running. */
        @Override
        public void run()
        {
            if (running.compareAndSet(false, true))
            {
                probes.submit(this::probe);
            }
        }

        private void probe()
        {
            try
            {
                probeCount.incrementRelease();
                final String error = Probe.run(check, server);
                lastError = error;
                if (error == null)
                {
                    badStreak = 0;
                    if (!up && ++goodStreak >= check.healthyThreshold())
                    {
                        transition(true, null);
                    }
                }
                else
                {
                    probeFailures.incrementRelease();
                    goodStreak = 0;
                    if (up && ++badStreak >= check.unhealthyThreshold())
                    {
                        transition(false, error);
                    }
                }
            }
            finally
            {
                running.set(false);
            }
        }

        private void transition(final boolean nowUp, final String error)
        {
            // A probe that was running when its check was replaced or removed must not move the server any more.
            if (stopped || targets.get(key) != this)
            {
                return;
            }
            up = nowUp;
            goodStreak = 0;
            badStreak = 0;
            lastChangeMs = System.currentTimeMillis();
            transitions.incrementRelease();
            serversDown.getAndAddRelease(nowUp ? -1 : 1);
            LOG.log(nowUp ? System.Logger.Level.INFO : System.Logger.Level.WARNING,
                "health: " + key + " is " + (nowUp ? "up" : "DOWN (" + error + ")"));
            listener.onHealthChange(key, nowUp);
        }
    }

    private final Map<Key, Target> targets = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r ->
    {
        final Thread thread = new Thread(r, "sluice-health");
        thread.setDaemon(true);
        return thread;
    });
    private final ExecutorService probes = Executors.newVirtualThreadPerTaskExecutor();
    private final StateListener listener;
    private final AtomicCounter probeCount;
    private final AtomicCounter probeFailures;
    private final AtomicCounter transitions;
    private final AtomicCounter serversDown;

    public HealthChecker(final CountersManager counters, final StateListener listener)
    {
        this.listener = listener;
        this.probeCount = ControlCounter.HEALTH_PROBES.newCounter(counters);
        this.probeFailures = ControlCounter.HEALTH_PROBE_FAILURES.newCounter(counters);
        this.transitions = ControlCounter.HEALTH_TRANSITIONS.newCounter(counters);
        this.serversDown = ControlCounter.HEALTH_SERVERS_DOWN.newCounter(counters);
    }

    @Override
    public String name()
    {
        return "health checker";
    }

    /** Starts checking what {@code next} names, stops what it no longer names, keeps the state of the rest. */
    @Override
    public synchronized void apply(final SluiceConfig previous, final SluiceConfig next)
    {
        final Map<Key, Target> wanted = new LinkedHashMap<>();
        for (final LoadBalancer lb : next.loadBalancers())
        {
            for (final Listener l : lb.listeners())
            {
                if (!l.healthCheck().enabled())
                {
                    continue;
                }
                final Set<String> groups = new HashSet<>();
                if (l.serverGroup() != null)
                {
                    groups.add(l.serverGroup());
                }
                l.rules().forEach(rule -> groups.add(rule.serverGroup()));
                for (final String groupName : groups)
                {
                    final ServerGroup group = lb.serverGroup(groupName);
                    for (final ServerGroup.Server server : group.servers())
                    {
                        final Key key = new Key(lb.name(), l.key(), server.key());
                        final Target existing = targets.get(key);
                        wanted.put(key, existing != null && existing.check.equals(l.healthCheck()) ? existing
                            : new Target(key, l.healthCheck(), new InetSocketAddress(server.inetAddress(), server.port())));
                    }
                }
            }
        }
        for (final Map.Entry<Key, Target> entry : new ArrayList<>(targets.entrySet()))
        {
            if (wanted.get(entry.getKey()) != entry.getValue())
            {
                stop(entry.getValue());
                targets.remove(entry.getKey());
            }
        }
        for (final Map.Entry<Key, Target> entry : wanted.entrySet())
        {
            if (targets.putIfAbsent(entry.getKey(), entry.getValue()) == null)
            {
                final Target target = entry.getValue();
                final long intervalMs = target.check.intervalSeconds() * 1000L;
                target.schedule = scheduler.scheduleWithFixedDelay(target, 0, intervalMs, TimeUnit.MILLISECONDS);
            }
        }
    }

    private void stop(final Target target)
    {
        target.stopped = true;
        if (target.schedule != null)
        {
            target.schedule.cancel(false);
        }
        if (!target.up)
        {
            serversDown.getAndAddRelease(-1);
        }
    }

    /** Whether a server is up for a listener; servers without a check are up. */
    public boolean isUp(final Key key)
    {
        final Target target = targets.get(key);
        return target == null || target.up;
    }

    public List<State> states()
    {
        final List<State> out = new ArrayList<>();
        for (final Target target : targets.values())
        {
            out.add(new State(target.key, target.up, target.lastError, target.lastChangeMs));
        }
        out.sort((a, b) -> a.key().toString().compareTo(b.key().toString()));
        return out;
    }

    @Override
    public synchronized void close()
    {
        scheduler.shutdownNow();
        probes.shutdownNow();
        targets.clear();
    }
}
