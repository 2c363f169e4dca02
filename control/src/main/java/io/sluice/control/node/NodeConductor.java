package io.sluice.control.node;

import io.sluice.counters.CountersFile;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * The node's liveness agent: keeps the counters file's heartbeat and uptime current, so that {@code sluice stat} (another
 * process reading the file) can tell a live node from a dead or hung one, and counts its duty cycles.
 * <p>
 * It is not a command queue: config changes and health transitions go straight to the components, each of which keeps
 * its own state single-writer ({@link NodeComponent#apply} and the health listeners are {@code synchronized} per
 * component, and the fastpath's own {@code Conductor} hands commands to the forwarders through its queues). Routing
 * them through this thread as well would add a hop and a second ordering to reason about for nothing.
 * <p>
 * It is not on any data path, so it sleeps between heartbeats: its {@link #idleStrategy()} sleeps {@link #MAX_PARK_MS}
 * whenever no heartbeat was due (a heartbeat is at most that late), so an idle node costs ~10 wake-ups a second instead
 * of the 1 000 of a 1 ms back-off (l7perf measured ~13 ms CPU/s idle and 1–3 µs per proxied request at bench rates for the 1 ms back-off).
 */
final class NodeConductor implements Agent
{
    /**
     * The longest park. {@code AgentRunner.close()} only clears a flag the runner reads between duty cycles, so this
     * bounds how long node shutdown waits for the conductor thread.
     */
    static final long MAX_PARK_MS = 100;
    private static final long HEARTBEAT_INTERVAL_MS = 1000;

    private final CountersFile countersFile;
    private final EpochClock clock;
    private final AtomicCounter uptime;
    private final AtomicCounter dutyCycles;
    private final long startMs;
    private final IdleStrategy idleStrategy = new SleepingMillisIdleStrategy(MAX_PARK_MS);
    private long nextHeartbeatMs;

    NodeConductor(final CountersFile countersFile, final EpochClock clock, final AtomicCounter uptime, final AtomicCounter dutyCycles)
    {
        this.countersFile = countersFile;
        this.clock = clock;
        this.uptime = uptime;
        this.dutyCycles = dutyCycles;
        this.startMs = clock.time();
    }

    /** The idle strategy to run this agent with: sleeps {@link #MAX_PARK_MS} after a cycle without a heartbeat. */
    IdleStrategy idleStrategy()
    {
        return idleStrategy;
    }

    @Override
    public int doWork()
    {
        final long nowMs = clock.time();
        int work = 0;
        if (nowMs >= nextHeartbeatMs)
        {
            countersFile.heartbeat(nowMs);
            uptime.setRelease((nowMs - startMs) / 1000);
            nextHeartbeatMs = nowMs + HEARTBEAT_INTERVAL_MS;
            work++;
        }
        dutyCycles.incrementRelease();
        return work;
    }

    @Override
    public String roleName()
    {
        return "sluice-conductor";
    }
}
