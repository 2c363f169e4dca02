package io.sluice.perf.jmh.fastpath;

import java.util.concurrent.TimeUnit;

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

import io.sluice.nativeio.bpf.Bpf;
import io.sluice.nativeio.xdp.XdpFlowTable;
import io.sluice.nativeio.xdp.XdpSteering;

/**
 * The XDP flow offload's cost per frame in the kernel: the steering program with a flow table, run by
 * BPF_PROG_TEST_RUN {@value #REPEAT} times per call on one 54-byte TCP ACK of an established session (no device,
 * no redirect performed: the program's own work, parse to rewrite). The session's two entries map the frame's client
 * direction onto its backend direction and back, so every run is a hit (the program's rewrite stays in the buffer).
 * {@code path=steer}: the same program on a frame of a VIP with no flow entry (the flow lookup misses), sent on to the
 * forwarder's socket (what a frame the offload does not take costs). Each iteration prints the kernel's own mean ns
 * per run (its {@code duration}: the program alone), which is the figure; the JMH score is wall time per run and
 * includes the kernel's test loop around the program (about 1.7 µs per run on this VM), so it says little.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class XdpFlowProgramBenchmark
{
    static final int REPEAT = 10_000;
    private static final int TCP = 6;
    private static final long V4 = 0x0000_FFFF_0000_0000L;
    private static final int CLIENT = Frames.ip(198, 18, 0, 1);
    private static final int VIP = Frames.ip(198, 18, 1, 100);
    private static final int LOCAL = Frames.ip(198, 18, 2, 10);
    private static final int BACKEND = Frames.ip(198, 18, 10, 2);
    private static final int ACK = 0x10;

    @Param({"offload", "steer"})
    public String path;

    private XdpFlowTable table;
    private XdpSteering program;
    private byte[] frame;
    private long kernelNs;
    private long calls;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        table = XdpFlowTable.create(1024, 16);
        program = XdpSteering.load(1, 16, table);
        final XdpFlowTable.Writer w = table.writer();
        // client → VIP becomes local → backend, and local → backend becomes client → VIP again: a hit every run
        w.put(0, V4 | CLIENT & 0xFFFF_FFFFL, 0, V4 | VIP & 0xFFFF_FFFFL, 40000, 80, TCP, 0, V4 | LOCAL & 0xFFFF_FFFFL,
            0, V4 | BACKEND & 0xFFFF_FFFFL, 33000, 8080, 0x02_00_00_00_0A_02L, Frames.LB_MAC, 7, 0, -1, 1, true);
        w.put(0, V4 | LOCAL & 0xFFFF_FFFFL, 0, V4 | BACKEND & 0xFFFF_FFFFL, 33000, 8080, TCP, 0, V4 | CLIENT & 0xFFFF_FFFFL,
            0, V4 | VIP & 0xFFFF_FFFFL, 40000, 80, Frames.CLIENT_MAC, Frames.LB_MAC, 7, 0, -1, 1, false);
        if ("offload".equals(path))
        {
            frame = Frames.tcp(CLIENT, 40000, VIP, 80, ACK, 0);
        }
        else
        {
            program.addVip(java.net.InetAddress.getByAddress(new byte[] {(byte)198, 18, 1, 100}), 80, TCP,
                XdpSteering.Action.REDIRECT);
            frame = Frames.tcp(CLIENT, 40001, VIP, 80, ACK, 0);
        }
    }

    @Setup(Level.Iteration)
    public void startIteration()
    {
        kernelNs = 0;
        calls = 0;
    }

    @TearDown(Level.Iteration)
    public void stopIteration()
    {
        System.out.printf("[XdpFlowProgramBenchmark %s] kernel %.1f ns per run%n", path, (double)kernelNs / Math.max(1, calls));
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        program.close();
        table.close();
    }

    @Benchmark
    @OperationsPerInvocation(REPEAT)
    public int run()
    {
        final int ns = Bpf.testRunTimed(program.programFd(), frame, REPEAT);
        kernelNs += ns;
        calls++;
        return ns;
    }
}
