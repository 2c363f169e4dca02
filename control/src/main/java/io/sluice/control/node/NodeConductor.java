package io.sluice.control.node;

import io.sluice.counters.CountersFile;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The node's control-plane agent: keeps the counters file's heartbeat and uptime current and runs commands handed
 * to it by other threads (API, health checks, signal handling), one at a time, so node state has a single writer.
 */
final class NodeConductor implements Agent
{
    private static final long HEARTBEAT_INTERVAL_MS = 1000;
    private static final int COMMAND_LIMIT = 16;

    private final CountersFile countersFile;
    private final EpochClock clock;
    private final AtomicCounter uptime;
    private final AtomicCounter dutyCycles;
    private final long startMs;
    private final Queue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private long nextHeartbeatMs;

    NodeConductor(final CountersFile countersFile, final EpochClock clock, final AtomicCounter uptime, final AtomicCounter dutyCycles)
    {
        this.countersFile = countersFile;
        this.clock = clock;
        this.uptime = uptime;
        this.dutyCycles = dutyCycles;
        this.startMs = clock.time();
    }

    /** Runs {@code command} on the conductor thread. */
    void enqueue(final Runnable command)
    {
        commands.add(command);
    }

    @Override
    public int doWork()
    {
        final long nowMs = clock.time();
        int work = 0;
        Runnable command;
        while (work < COMMAND_LIMIT && (command = commands.poll()) != null)
        {
            command.run();
            work++;
        }
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
