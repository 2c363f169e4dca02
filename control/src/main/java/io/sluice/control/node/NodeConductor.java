package io.sluice.control.node;

import io.sluice.counters.CountersFile;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The node's control-plane agent: keeps the counters file's heartbeat and uptime current and runs commands handed
 * to it by other threads (API, health checks, signal handling), one at a time, so node state has a single writer.
 * <p>
 * It is not on any data path, so it sleeps whenever it has nothing to do: its {@link #idleStrategy()} parks until the
 * next heartbeat is due (at most {@link #MAX_PARK_MS}) and {@link #enqueue} unparks it, so a command runs at once and an
 * idle node costs ~10 wake-ups a second instead of the 1 000 of a 1 ms back-off (l7perf measured ~13 ms CPU/s idle and
 * 1–3 µs per proxied request at bench rates for the 1 ms back-off).
 */
final class NodeConductor implements Agent
{
    /**
     * The longest park. {@code AgentRunner.close()} only clears a flag the runner reads between duty cycles, so this
     * bounds how long node shutdown waits for the conductor thread.
     */
    static final long MAX_PARK_MS = 100;
    private static final long HEARTBEAT_INTERVAL_MS = 1000;
    private static final int COMMAND_LIMIT = 16;

    private final CountersFile countersFile;
    private final EpochClock clock;
    private final AtomicCounter uptime;
    private final AtomicCounter dutyCycles;
    private final long startMs;
    private final Queue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final IdleStrategy idleStrategy = new UntilNextDuty();
    private volatile Thread thread;
    private long nextHeartbeatMs;

    NodeConductor(final CountersFile countersFile, final EpochClock clock, final AtomicCounter uptime, final AtomicCounter dutyCycles)
    {
        this.countersFile = countersFile;
        this.clock = clock;
        this.uptime = uptime;
        this.dutyCycles = dutyCycles;
        this.startMs = clock.time();
    }

    /** Runs {@code command} on the conductor thread, waking it if it is parked. */
    void enqueue(final Runnable command)
    {
        commands.add(command);
        final Thread conductorThread = thread;
        if (conductorThread != null)
        {
            // a permit given between the idle check and the park makes that park return at once: no lost wake-up
            LockSupport.unpark(conductorThread);
        }
    }

    /** The idle strategy to run this agent with: parks until the next duty, woken early by {@link #enqueue}. */
    IdleStrategy idleStrategy()
    {
        return idleStrategy;
    }

    @Override
    public void onStart()
    {
        thread = Thread.currentThread();
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

    /** How long an idle conductor may sleep now: 0 with a command queued or a duty due, else until the next heartbeat. */
    long idleMs()
    {
        if (!commands.isEmpty())
        {
            return 0;
        }
        return Math.max(0, Math.min(MAX_PARK_MS, nextHeartbeatMs - clock.time()));
    }

    @Override
    public String roleName()
    {
        return "sluice-conductor";
    }

    private final class UntilNextDuty implements IdleStrategy
    {
        @Override
        public void idle(final int workCount)
        {
            if (workCount > 0)
            {
                return;
            }
            idle();
        }

        @Override
        public void idle()
        {
            final long idleMs = idleMs();
            if (idleMs > 0)
            {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(idleMs));
            }
        }

        @Override
        public void reset()
        {
        }

        @Override
        public String alias()
        {
            return "until-next-duty";
        }
    }
}
