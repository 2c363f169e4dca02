package io.sluice.fastpath;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.config.SchedulerKind;
import io.sluice.fastpath.packet.PacketBuilder;
import io.sluice.fastpath.packet.TcpFlyweight;

import static org.assertj.core.api.Assertions.assertThat;

class SteadyStateTest
{
    private static final ListenerKey KEY = ListenerKey.of("198.18.1.100", Protocol.TCP, 80);

    @Test
    void shouldNotAllocateOnTheHeapWhileForwardingNewAndEstablishedFlows()
    {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        try (Harness h = new Harness(1, 1 << 16))
        {
            h.conductor.addListener(Listener.of("web", KEY, List.of(Backend.of("198.18.10.2", 8080, 100),
                Backend.of("198.18.10.3", 8080, 50))).withScheduler(SchedulerKind.WRR).withPersistenceTimeoutSeconds(10));
            final ForwarderAgent f = h.forwarders[0];
            h.runUntilIdle();
            final byte[] syn = PacketBuilder.tcp().from("198.18.0.1", 1).to("198.18.1.100", 80).flags(TcpFlyweight.SYN).build();
            final byte[] ack = PacketBuilder.tcp().from("198.18.0.1", 1).to("198.18.1.100", 80).flags(TcpFlyweight.ACK)
                .payload("0123456789").build();
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);
            final int flows = 20_000;
            run(f, frame, syn, ack, flows, h);
            final long before = threads.getCurrentThreadAllocatedBytes();
            run(f, frame, syn, ack, flows, h);
            final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            // 40k frames, a few thousand expiries and duty cycles: a stray object per packet would be ≥ 640 KB.
            assertThat(allocated).isLessThan(16 * 1024);
        }
    }

    private static void run(final ForwarderAgent f, final UnsafeBuffer frame, final byte[] syn, final byte[] ack,
        final int flows, final Harness h)
    {
        for (int i = 0; i < flows; i++)
        {
            final int port = 1 + (i % 60_000);
            frame.putBytes(0, syn);
            frame.putShort(34, (short)port, java.nio.ByteOrder.BIG_ENDIAN);
            f.process(frame, 0, syn.length, false);
            frame.putBytes(0, ack);
            frame.putShort(34, (short)port, java.nio.ByteOrder.BIG_ENDIAN);
            f.process(frame, 0, ack.length, false);
            if ((i & 255) == 0)
            {
                h.clock.advanceSeconds(1);
                f.doWork();
            }
        }
    }

    @Test
    void shouldForwardOnItsOwnThreadsWithAnInjectedIdleStrategy() throws Exception
    {
        try (Harness h = new Harness(2, 1024))
        {
            h.conductor.addListener(Listener.of("web", KEY, List.of(Backend.of("198.18.10.2", 8080, 100))));
            final List<AgentRunner> runners = h.conductor.start(
                () -> new BackoffIdleStrategy(1, 1, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(1)),
                Throwable::printStackTrace, null);
            try
            {
                for (int port = 1; port <= 50; port++)
                {
                    h.ports.get(port % 2).inject(PacketBuilder.tcp().from("198.18.0.1", port).to("198.18.1.100", 80)
                        .flags(TcpFlyweight.SYN).build());
                }
                final List<byte[]> out = new ArrayList<>();
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (out.size() < 50 && System.nanoTime() < deadline)
                {
                    out.addAll(h.drainAll());
                    Thread.sleep(5);
                }
                assertThat(out).hasSize(50);
            }
            finally
            {
                runners.forEach(AgentRunner::close);
            }
        }
    }
}
