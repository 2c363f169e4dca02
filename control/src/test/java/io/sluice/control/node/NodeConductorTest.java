package io.sluice.control.node;

import io.sluice.counters.CountersFile;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.CachedEpochClock;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.status.AtomicCounter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class NodeConductorTest
{
    @TempDir
    Path dir;

    @Test
    void shouldSleepUntilTheNextHeartbeatAtMostTheMaximumPark()
    {
        try (CountersFile file = CountersFile.create(dir.resolve(CountersFile.FILE_NAME), 64, "n"))
        {
            final CachedEpochClock clock = new CachedEpochClock();
            clock.update(10_000);
            final NodeConductor conductor = conductor(file, clock);

            assertThat(conductor.idleMs()).as("heartbeat due at start").isZero();
            assertThat(conductor.doWork()).isPositive();
            assertThat(file.heartbeatMs()).isEqualTo(10_000);
            assertThat(conductor.idleMs()).as("next heartbeat 1 s away").isEqualTo(NodeConductor.MAX_PARK_MS);
            clock.update(10_970);
            assertThat(conductor.idleMs()).isEqualTo(30);
            clock.update(11_000);
            assertThat(conductor.idleMs()).isZero();
            assertThat(conductor.doWork()).isPositive();
            assertThat(file.heartbeatMs()).isEqualTo(11_000);
        }
    }

    @Test
    void shouldNotSleepWhileACommandIsQueued()
    {
        try (CountersFile file = CountersFile.create(dir.resolve(CountersFile.FILE_NAME), 64, "n"))
        {
            final CachedEpochClock clock = new CachedEpochClock();
            final NodeConductor conductor = conductor(file, clock);
            conductor.doWork();
            final int[] ran = new int[1];

            conductor.enqueue(() -> ran[0]++);

            assertThat(conductor.idleMs()).isZero();
            assertThat(conductor.doWork()).isEqualTo(1);
            assertThat(ran[0]).isEqualTo(1);
            assertThat(conductor.idleMs()).isPositive();
        }
    }

    @Test
    void shouldRunAnEnqueuedCommandOnItsThreadAndKeepTheHeartbeat() throws Exception
    {
        try (CountersFile file = CountersFile.create(dir.resolve(CountersFile.FILE_NAME), 64, "n"))
        {
            final NodeConductor conductor = conductor(file, SystemEpochClock.INSTANCE);
            final AgentRunner runner = new AgentRunner(conductor.idleStrategy(), Throwable::printStackTrace, null, conductor);
            AgentRunner.startOnThread(runner);
            try
            {
                final CountDownLatch ran = new CountDownLatch(1);
                final Thread[] ranOn = new Thread[1];
                conductor.enqueue(() ->
                {
                    ranOn[0] = Thread.currentThread();
                    ran.countDown();
                });
                assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
                assertThat(ranOn[0].getName()).isEqualTo("sluice-conductor");
                // the heartbeat follows the commands in the same duty cycle
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (file.heartbeatMs() == 0 && System.nanoTime() < deadline)
                {
                    Thread.sleep(10);
                }
                assertThat(file.heartbeatMs()).isPositive();
            }
            finally
            {
                runner.close();
            }
            assertThat(runner.isClosed()).isTrue();
        }
    }

    private static NodeConductor conductor(final CountersFile file, final EpochClock clock)
    {
        final AtomicCounter uptime = file.manager().newCounter("uptime");
        final AtomicCounter cycles = file.manager().newCounter("cycles");
        return new NodeConductor(file, clock, uptime, cycles);
    }
}
