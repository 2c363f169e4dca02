package io.sluice.perf.jmh.fastpath;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.sluice.fastpath.PacketPort;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.SchedulerKind;
import io.sluice.fastpath.packet.EthernetFlyweight;
import io.sluice.fastpath.packet.Ipv4Flyweight;

/**
 * Cost per packet of outbound metering and bandwidth buckets: one 64-byte UDP answer (backend → client) of an
 * established session through the whole forwarder path, with no limit (listener and instance meters only), a
 * listener {@code bandwidthMbps}, or a listener and a load balancer one. The limits are 100 Gbit/s, so every frame is
 * paid for (what is measured is the bucket bookkeeping, not queueing). The clock moves 10 ns per frame; the forwarder
 * runs a duty cycle every 1024 frames (so the numbers include 1/1024 of an empty duty cycle in every case).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class MeteringBenchmark
{
    private static final int IP = EthernetFlyweight.HEADER_LENGTH;

    /** unmetered: no load balancer declared (listener counters only); none: its meter, no limit. */
    @Param({"unmetered", "none", "listener", "listener+instance"})
    public String limits;

    private final CpuTimePerOp cpu = new CpuTimePerOp();
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);
    private ForwarderFixture fixture;
    private byte[] answer;
    private int count;

    @Setup(Level.Trial)
    public void setUp()
    {
        fixture = new ForwarderFixture(1024, 1, 1, SchedulerKind.RR);
        final Listener dns = fixture.conductor.listeners().stream().filter(l -> l.name().equals("dns")).findFirst().orElseThrow();
        if ("listener".equals(limits) || "listener+instance".equals(limits))
        {
            fixture.conductor.updateListener(dns.withBandwidthMbps(100_000));
        }
        if (!"unmetered".equals(limits))
        {
            fixture.conductor.setInstance("web", "listener+instance".equals(limits) ? 100_000 : -1, List.of(dns.key()));
        }
        fixture.forwarder.doWork();

        final byte[] query = Frames.udp(Frames.ip(198, 19, 0, 1), 40000, ForwarderFixture.VIP_INT, 53, 18);
        frame.putBytes(0, query);
        if (fixture.forwarder.process(frame, 0, query.length, false) == PacketPort.CONSUMED)
        {
            throw new IllegalStateException("flow not created: " + fixture.forwarder.lastVerdict());
        }
        // The rewritten query names the session's reply key: backend → local address:SNAT port.
        final int local = frame.getInt(IP + Ipv4Flyweight.SOURCE_OFFSET, java.nio.ByteOrder.BIG_ENDIAN);
        final int backend = frame.getInt(IP + Ipv4Flyweight.SOURCE_OFFSET + 4, java.nio.ByteOrder.BIG_ENDIAN);
        final int snatPort = frame.getShort(Frames.L4_OFFSET, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF;
        final int backendPort = frame.getShort(Frames.L4_OFFSET + 2, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF;
        answer = Frames.udp(backend, backendPort, local, snatPort, 18);
        frame.putBytes(0, answer);
        if (fixture.forwarder.process(frame, 0, answer.length, false) == PacketPort.CONSUMED)
        {
            throw new IllegalStateException("answer not forwarded: " + fixture.forwarder.lastVerdict());
        }
    }

    @Setup(Level.Iteration)
    public void startIteration()
    {
        cpu.start();
    }

    @TearDown(Level.Iteration)
    public void stopIteration()
    {
        cpu.stop(getClass().getSimpleName() + " " + limits);
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        fixture.close();
    }

    @Benchmark
    public int answer()
    {
        cpu.ops++;
        fixture.clock.now += 10;
        if ((++count & 1023) == 0)
        {
            fixture.forwarder.doWork();
        }
        frame.putBytes(0, answer);
        return fixture.forwarder.process(frame, 0, answer.length, false);
    }
}
