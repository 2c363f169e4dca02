package io.sluice.control.node;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.junit.jupiter.api.Test;

import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PerfProfileTest
{
    @Test
    void shouldNeverBusySpinInTheSharedProfile()
    {
        final PerfProfile shared = PerfProfile.load("shared", null);
        assertThat(shared.newIdleStrategy()).isInstanceOf(BackoffIdleStrategy.class);
        assertThat(shared.pinThreads()).isFalse();
        assertThat(shared.maxParkNanos()).isEqualTo(1_000_000L);
        assertThat(shared.forwarderNice()).as("forwarders get a larger share of a saturated machine").isEqualTo(-10);
        assertThat(shared.l7EventLoopSliceNanos()).as("a short slice did not measure better").isZero();
        assertThat(shared.forwarderSliceNanos()).as("a short slice did not measure better").isZero();
    }

    @Test
    void shouldSpinAndPinInTheThroughputProfile()
    {
        final PerfProfile throughput = PerfProfile.load("throughput", null);
        assertThat(throughput.newIdleStrategy()).isInstanceOf(BusySpinIdleStrategy.class);
        assertThat(throughput.pinThreads()).isTrue();
        assertThat(throughput.xdpBusyPoll()).isTrue();
    }

    @Test
    void shouldLoadEveryShippedProfile()
    {
        for (final String name : PerfProfile.NAMES)
        {
            assertThat(PerfProfile.load(name, null).name()).isEqualTo(name);
        }
    }

    @Test
    void shouldRejectUnknownProfileAndBadKeysWithTheirNames()
    {
        assertThatThrownBy(() -> PerfProfile.load("fast", null))
            .hasMessage("profile \"fast\" is not one of latency | throughput | balanced | shared");
        final Properties p = new Properties();
        p.setProperty("idle.strategy", "spin");
        p.setProperty("idle.maxSpins", "-1");
        p.setProperty("threads.cpu", "1");
        assertThatThrownBy(() -> PerfProfile.parse("x", p, "x.properties"))
            .hasMessageContaining("idle.strategy: \"spin\" is not one of busy-spin | yielding | backoff | sleeping")
            .hasMessageContaining("idle.maxSpins: -1 is not in 0..1000000")
            .hasMessageContaining("threads.cpu: unknown key");
    }

    @Test
    void shouldAcceptForwarderNiceWithinTheKernelsRangeOnly()
    {
        final Properties p = new Properties();
        p.setProperty("threads.forwarderNice", "-10");
        assertThat(PerfProfile.parse("x", p, "x").forwarderNice()).isEqualTo(-10);
        assertThat(PerfProfile.parse("x", new Properties(), "x").forwarderNice()).isZero();
        p.setProperty("threads.forwarderNice", "-21");
        assertThatThrownBy(() -> PerfProfile.parse("x", p, "x.properties"))
            .hasMessageContaining("threads.forwarderNice: -21 is not in -20..19");
    }

    @Test
    void shouldAcceptTimeSlicesOfZeroOrWithinEevdfsBoundsOnly()
    {
        final PerfProfile defaults = PerfProfile.parse("x", new Properties(), "x");
        assertThat(defaults.forwarderSliceNanos()).isZero();
        assertThat(defaults.l7EventLoopSliceNanos()).isZero();
        final Properties p = new Properties();
        p.setProperty("threads.forwarderSliceNanos", "100000");
        p.setProperty("l7.eventLoopSliceNanos", "300000");
        final PerfProfile sliced = PerfProfile.parse("x", p, "x");
        assertThat(sliced.forwarderSliceNanos()).isEqualTo(100_000);
        assertThat(sliced.l7EventLoopSliceNanos()).isEqualTo(300_000);
        p.setProperty("threads.forwarderSliceNanos", "99999");
        p.setProperty("l7.eventLoopSliceNanos", "100000001");
        assertThatThrownBy(() -> PerfProfile.parse("x", p, "x.properties"))
            .hasMessageContaining("threads.forwarderSliceNanos: 99999 is neither 0 (the kernel's default) nor in 100000..100000000")
            .hasMessageContaining("l7.eventLoopSliceNanos: 100000001 is not in 0..100000000");
    }

    @Test
    void shouldNameTheL7TransportOrRefuseAnUnknownOne()
    {
        assertThat(PerfProfile.parse("x", new Properties(), "x").l7Transport()).isEqualTo("io_uring");
        final Properties p = new Properties();
        p.setProperty("l7.transport", "epoll");
        assertThat(PerfProfile.parse("x", p, "x").l7Transport()).isEqualTo("epoll");
        p.setProperty("l7.transport", "kqueue");
        assertThatThrownBy(() -> PerfProfile.parse("x", p, "x.properties"))
            .hasMessageContaining("l7.transport: \"kqueue\" is not one of io_uring | epoll | nio");
    }

    @Test
    void shouldExpandCpuLists()
    {
        final Properties p = new Properties();
        p.setProperty("threads.cpus", "0-2,5");
        assertThat(PerfProfile.parse("x", p, "x").cpuList()).containsExactly(0, 1, 2, 5);
    }

    @Test
    void shouldPinTheCallingThread() throws InterruptedException
    {
        // On a thread of its own: pinning the test runner's thread would confine the rest of the run to one CPU.
        final boolean[] results = new boolean[2];
        final Thread thread = new Thread(() ->
        {
            results[0] = ThreadAffinity.pinCurrentThread(0);
            results[1] = ThreadAffinity.pinCurrentThread(4096);
        });
        thread.start();
        thread.join();
        assertThat(results[0]).isTrue();
        assertThat(results[1]).isFalse();
    }
}
