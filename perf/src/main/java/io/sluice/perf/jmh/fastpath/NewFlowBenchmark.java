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

import io.sluice.fastpath.config.SchedulerKind;
import io.sluice.fastpath.packet.TcpFlyweight;

/**
 * New flow: a SYN through listener lookup, ACL, limit check, scheduler, SNAT port choice, session insert and
 * rewrite. Every operation is a distinct flow. SYNs come in batches of {@value FrameBatch#FRAMES}, prepared (template
 * copied, source address/port set, checksums recomputed) in a per-invocation setup that neither the JMH score nor the
 * CPU figure includes. The clock advances 30 s / liveSessions per SYN, so embryonic sessions (30 s) expire and the
 * table holds {@code liveSessions} in steady state. Modes:
 * <ul>
 * <li>{@code insert}: the duty cycle (clock, expiry of as many older sessions as the batch adds, counter flush) runs
 * in the setup, outside the measurement: the SYN through scheduler and insert only, at a steady table size;</li>
 * <li>{@code expiring}: the duty cycle runs every 64 SYNs inside the measurement, as the real loop runs it per rx
 * batch: each SYN also pays for expiring an older session;</li>
 * <li>{@code filling}: no expiry, a fresh 8M-session table per iteration fills up (liveSessions unused; run it with
 * 1 s iterations so it never fills).</li>
 * </ul>
 * 16 backends, 16 local addresses. Target: ≤ 300 ns.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(FrameBatch.FRAMES)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class NewFlowBenchmark
{
    private static final long EMBRYONIC_NS = 30_000_000_000L;
    private static final int FILL_CAPACITY = 8_000_000;
    private static final int DUTY_CYCLE = 64;

    @Param({"wrr", "maglev"})
    public String scheduler;

    /** Sessions alive in steady state: the clock advances 30 s / liveSessions per SYN. */
    @Param({"65536", "1000000"})
    public int liveSessions;

    @Param({"insert", "expiring", "filling"})
    public String mode;

    private long nsPerSyn;
    private boolean expiring;

    private final CpuTimePerOp cpu = new CpuTimePerOp();
    private final FrameBatch batch = new FrameBatch();
    private ForwarderFixture fixture;
    private byte[] template;
    private long flow;
    private long failures;

    @Setup(Level.Trial)
    public void setUp()
    {
        template = Frames.tcp(Frames.ip(198, 19, 0, 1), 1024, ForwarderFixture.VIP_INT, 80, TcpFlyweight.SYN, 0);
        expiring = "expiring".equals(mode);
        if (!"filling".equals(mode))
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

    @Setup(Level.Invocation)
    public void prepareBatch()
    {
        for (int j = 0; j < FrameBatch.FRAMES; j++)
        {
            final long f = flow++;
            // 2^16 ports × 2^16 addresses in 198.19.0.0/16 (wrapping far beyond any iteration): every SYN a new flow.
            batch.prepare(j, template, 0xC613_0000 | (int)((f >>> 16) & 0xFFFF), (int)f & 0xFFFF);
        }
        if (!expiring)
        {
            fixture.clock.now += nsPerSyn * FrameBatch.FRAMES;
            fixture.forwarder.doWork();
        }
    }

    @TearDown(Level.Iteration)
    public void stopIteration()
    {
        cpu.stop(getClass().getSimpleName() + " " + scheduler + " " + mode);
        if (failures > 0)
        {
            throw new IllegalStateException(failures + " new flows refused, last verdict " + fixture.forwarder.lastVerdict());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        fixture.close();
    }

    @Benchmark
    public int newFlow()
    {
        final long start = FrameBatch.cpuNs();
        final ForwarderFixture f = fixture;
        final UnsafeBuffer frames = batch.buffer;
        final int[] lengths = batch.lengths;
        final boolean runDutyCycle = expiring;
        int sum = 0;
        int refused = 0;
        for (int j = 0; j < FrameBatch.FRAMES; j++)
        {
            if (runDutyCycle && (j & (DUTY_CYCLE - 1)) == 0)
            {
                f.clock.now += nsPerSyn * DUTY_CYCLE;
                f.forwarder.doWork();
            }
            final int result = f.forwarder.process(frames, FrameBatch.offset(j), lengths[j], false);
            refused += result >>> 31;
            sum += result;
        }
        cpu.measured(FrameBatch.cpuNs() - start, FrameBatch.FRAMES);
        failures += refused;
        return sum;
    }
}
