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
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class NodeConductorTest
{
    @TempDir
    Path dir;

    @Test
    void shouldHeartbeatOncePerIntervalAndDoNothingBetween()
    {
        try (CountersFile file = CountersFile.create(dir.resolve(CountersFile.FILE_NAME), 64, "n"))
        {
            final CachedEpochClock clock = new CachedEpochClock();
            clock.update(10_000);
            final NodeConductor conductor = conductor(file, clock);

            assertThat(conductor.doWork()).as("heartbeat due at start").isPositive();
            assertThat(file.heartbeatMs()).isEqualTo(10_000);
            clock.update(10_970);
            assertThat(conductor.doWork()).as("next heartbeat 1 s after the last").isZero();
            assertThat(file.heartbeatMs()).isEqualTo(10_000);
            clock.update(11_000);
            assertThat(conductor.doWork()).isPositive();
            assertThat(file.heartbeatMs()).isEqualTo(11_000);
        }
    }

    @Test
    void shouldKeepTheHeartbeatAndUptimeOnItsOwnThreadAndStopWhenClosed() throws Exception
    {
        try (CountersFile file = CountersFile.create(dir.resolve(CountersFile.FILE_NAME), 64, "n"))
        {
            final AtomicCounter uptime = file.manager().newCounter("uptime");
            final AtomicCounter cycles = file.manager().newCounter("cycles");
            final NodeConductor conductor = new NodeConductor(file, SystemEpochClock.INSTANCE, uptime, cycles);
            final AgentRunner runner = new AgentRunner(conductor.idleStrategy(), Throwable::printStackTrace, null, conductor);
            AgentRunner.startOnThread(runner);
            try
            {
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                // the conductor's first heartbeat replaces the one the file was created with
                final long created = file.heartbeatMs();
                while (file.heartbeatMs() == created && System.nanoTime() < deadline)
                {
                    Thread.sleep(10);
                }
                final long first = file.heartbeatMs();
                assertThat(first).isNotEqualTo(created);
                // the next heartbeat a second later: the thread parks between them, and wakes for them
                while (file.heartbeatMs() == first && System.nanoTime() < deadline)
                {
                    Thread.sleep(10);
                }
                assertThat(file.heartbeatMs()).isGreaterThanOrEqualTo(first + 1000);
                assertThat(uptime.get()).isGreaterThanOrEqualTo(1);
                assertThat(cycles.get()).as("parked between heartbeats, not spinning").isLessThan(1000);
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
