package io.sluice.perf.jmh.fastpath;

import java.nio.ByteOrder;
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
import io.sluice.fastpath.config.SchedulerKind;
import io.sluice.fastpath.packet.EthernetFlyweight;
import io.sluice.fastpath.packet.Ipv4Flyweight;
import io.sluice.fastpath.packet.TcpFlyweight;

/**
 * New flow: a SYN through listener lookup, ACL, limit check, scheduler, SNAT port choice, session insert and
 * rewrite. Every operation is a distinct flow. The clock advances 30 s / liveSessions per SYN and the forwarder's
 * duty cycle runs every 64 SYNs, so embryonic sessions (30 s) expire and the table holds {@code liveSessions} in
 * steady state: the cost of expiring a session is included ({@code mode=expiring}); or a fresh 8M-session table fills
 * up during each iteration, with no expiry ({@code mode=filling}; run it with 1 s iterations so it never fills).
 * 16 backends, 16 local addresses. Target: ≤ 300 ns.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class NewFlowBenchmark
{
    private static final int SRC_ADDRESS_OFFSET = EthernetFlyweight.HEADER_LENGTH + Ipv4Flyweight.SOURCE_OFFSET;
    private static final long EMBRYONIC_NS = 30_000_000_000L;
    private static final int FILL_CAPACITY = 8_000_000;

    @Param({"wrr", "maglev"})
    public String scheduler;

    /** Sessions alive in steady state: the clock advances 30 s / liveSessions per SYN. */
    @Param({"65536", "1000000"})
    public int liveSessions;

    /**
     * {@code expiring}: steady state, each SYN also pays for expiring an older session. {@code filling}: no expiry,
     * a fresh table of 4M sessions per iteration fills up (SYN through scheduler and insert only; liveSessions unused).
     */
    @Param({"expiring", "filling"})
    public String mode;

    private long nsPerSyn;

    private final CpuTimePerOp cpu = new CpuTimePerOp();
    private ForwarderFixture fixture;
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);
    private byte[] template;
    private long flow;
    private int failures;

    @Setup(Level.Trial)
    public void setUp()
    {
        template = Frames.tcp(Frames.ip(198, 19, 0, 1), 1024, ForwarderFixture.VIP_INT, 80, TcpFlyweight.SYN, 0);
        if ("expiring".equals(mode))
        {
            fixture = new ForwarderFixture(liveSessions * 4, 16, 16, SchedulerKind.parse(scheduler));
            nsPerSyn = EMBRYONIC_NS / liveSessions;
        }
    }

    @Setup(Level.Iteration)
    public void freshTable()
    {
        if ("filling".equals(mode))
        {
            if (fixture != null)
            {
                fixture.close();
            }
            fixture = new ForwarderFixture(FILL_CAPACITY, 16, 16, SchedulerKind.parse(scheduler));
            nsPerSyn = 0;
            flow = 0;
        }
        cpu.start();
    }

    @TearDown(Level.Iteration)
    public void stopIteration()
    {
        cpu.stop(getClass().getSimpleName());
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        fixture.close();
        if (failures > 0)
        {
            System.err.println("new flows refused: " + failures);
        }
    }

    @Benchmark
    public int newFlow()
    {
        cpu.ops++;
        final long f = flow++;
        frame.putBytes(0, template);
        // 2^16 ports × 2^16 addresses in 198.19.0.0/16 (wrapping far beyond any iteration): every SYN a new flow.
        frame.putInt(SRC_ADDRESS_OFFSET, 0xC613_0000 | (int)((f >>> 16) & 0xFFFF), ByteOrder.BIG_ENDIAN);
        frame.putShort(Frames.L4_OFFSET, (short)f, ByteOrder.BIG_ENDIAN);
        fixture.clock.now += nsPerSyn;
        if ((f & 63) == 0)
        {
            fixture.forwarder.doWork();
        }
        final int result = fixture.forwarder.process(frame, 0, template.length, false);
        if (result == PacketPort.CONSUMED)
        {
            failures++;
        }
        return result;
    }
}
