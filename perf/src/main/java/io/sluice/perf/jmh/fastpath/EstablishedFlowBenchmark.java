package io.sluice.perf.jmh.fastpath;

import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.sluice.fastpath.PacketPort;
import io.sluice.fastpath.config.SchedulerKind;
import io.sluice.fastpath.packet.TcpFlyweight;

/**
 * Established-flow forwarding: one frame of an existing session through parse (checksums verified), session lookup,
 * FullNAT rewrite with incremental checksums, per-session and shared counters. Frames come in batches of
 * {@value FrameBatch#FRAMES}, prepared (copied from the 64-byte template, source address/port of the flow set,
 * checksums recomputed) in a per-invocation setup that neither the JMH score nor the CPU figure includes, cycling over
 * {@code flows} sessions so the large case pays the cache misses of a big table. The forwarder's duty cycle (clock
 * read, expiry, counter flush) runs once per batch in that setup too. Target: ≤ 50 ns.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(FrameBatch.FRAMES)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class EstablishedFlowBenchmark
{
    @Param({"1", "1000000"})
    public int flows;

    @Param({"tcp", "udp"})
    public String protocol;

    private final CpuTimePerOp cpu = new CpuTimePerOp();
    private final FrameBatch batch = new FrameBatch();
    private ForwarderFixture fixture;
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);
    private byte[] template;
    private int[] clientAddresses;
    private short[] clientPorts;
    private int next;
    private long failures;

    @Setup(Level.Trial)
    public void setUp()
    {
        fixture = new ForwarderFixture(Math.max(1024, flows * 2), 8, 16, SchedulerKind.MAGLEV);
        final boolean tcp = "tcp".equals(protocol);
        clientAddresses = new int[flows];
        clientPorts = new short[flows];
        for (int i = 0; i < flows; i++)
        {
            clientAddresses[i] = Frames.ip(198, 19, (i >> 8) & 0xFF, i & 0xFF);
            clientPorts[i] = (short)(1024 + (i >> 16));
            final byte[] first = tcp ?
                Frames.tcp(clientAddresses[i], clientPorts[i] & 0xFFFF, ForwarderFixture.VIP_INT, 80, TcpFlyweight.SYN, 0) :
                Frames.udp(clientAddresses[i], clientPorts[i] & 0xFFFF, ForwarderFixture.VIP_INT, 53, 18);
            frame.putBytes(0, first);
            if (fixture.forwarder.process(frame, 0, first.length, false) == PacketPort.CONSUMED)
            {
                throw new IllegalStateException("flow " + i + " not created: " + fixture.forwarder.lastVerdict());
            }
        }
        // A data segment (ACK) for TCP, an 18-byte datagram for UDP: 64-byte frames either way.
        template = tcp ? Frames.tcp(clientAddresses[0], clientPorts[0] & 0xFFFF, ForwarderFixture.VIP_INT, 80, TcpFlyweight.ACK, 10) :
            Frames.udp(clientAddresses[0], clientPorts[0] & 0xFFFF, ForwarderFixture.VIP_INT, 53, 18);
    }

    @Setup(Level.Iteration)
    public void startIteration()
    {
        cpu.start();
    }

    @Setup(Level.Invocation)
    public void prepareBatch()
    {
        // The duty cycle (clock read, expiry, counter flush) is not part of forwarding a frame: run it here.
        fixture.clock.now += 1_000;
        fixture.forwarder.doWork();
        for (int j = 0; j < FrameBatch.FRAMES; j++)
        {
            final int i = next;
            next = i + 1 == flows ? 0 : i + 1;
            batch.prepare(j, template, clientAddresses[i], clientPorts[i] & 0xFFFF);
        }
    }

    @TearDown(Level.Iteration)
    public void stopIteration()
    {
        cpu.stop(getClass().getSimpleName());
        if (failures > 0)
        {
            throw new IllegalStateException(failures + " frames not forwarded, last verdict " + fixture.forwarder.lastVerdict());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        fixture.close();
    }

    @Benchmark
    public int forward()
    {
        final long start = FrameBatch.cpuNs();
        final ForwarderFixture f = fixture;
        final UnsafeBuffer frames = batch.buffer;
        final int[] lengths = batch.lengths;
        int sum = 0;
        int refused = 0;
        for (int j = 0; j < FrameBatch.FRAMES; j++)
        {
            final int result = f.forwarder.process(frames, FrameBatch.offset(j), lengths[j], false);
            refused += result >>> 31;
            sum += result;
        }
        cpu.measured(FrameBatch.cpuNs() - start, FrameBatch.FRAMES);
        failures += refused;
        return sum;
    }
}
