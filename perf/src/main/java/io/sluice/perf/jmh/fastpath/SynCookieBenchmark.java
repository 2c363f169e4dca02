package io.sluice.perf.jmh.fastpath;

import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.sluice.fastpath.Conductor;
import io.sluice.fastpath.ForwarderAgent;
import io.sluice.fastpath.ForwarderConfiguration;
import io.sluice.fastpath.NeighbourCache;
import io.sluice.fastpath.PacketPort;
import io.sluice.fastpath.SynProxy;
import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.NodeSettings;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.packet.Checksums;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.fastpath.packet.TcpFlyweight;

/**
 * synProxy costs: making and verifying one SYN cookie (SipHash-2-4 over 48 bytes), and a whole flood SYN through a
 * forwarder (parse, listener, ACL, cookie, SYN-ACK written and handed to the port; a port that discards it).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class SynCookieBenchmark
{
    private final SynProxy proxy = new SynProxy(0x0123_4567_89AB_CDEFL, 0x7654_3210_FEDC_BA98L);
    private final CpuTimePerOp cpu = new CpuTimePerOp();
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);
    private final long client = IpAddresses.v4Low(Frames.ip(198, 19, 0, 1));
    private final long vip = IpAddresses.v4Low(ForwarderFixture.VIP_INT);
    private final long now = 1_000_000_000_000L;
    private final int[] cookies = new int[1024];
    private static final int CHECKSUM_AT = Frames.L4_OFFSET + TcpFlyweight.CHECKSUM_OFFSET;
    private byte[] template;
    private int templateChecksum;
    private Conductor conductor;
    private ForwarderAgent forwarder;
    private int i;

    /** A port that takes every frame and sends nothing (the benchmark measures the forwarder, not the copy out). */
    static final class DiscardPort implements PacketPort
    {
        long sent;

        @Override
        public int poll(final FrameHandler handler, final int limit)
        {
            return 0;
        }

        @Override
        public boolean send(final DirectBuffer buffer, final int offset, final int length)
        {
            sent++;
            return true;
        }

        @Override
        public long macAddress()
        {
            return Frames.LB_MAC;
        }
    }

    @Setup(Level.Trial)
    public void setUp()
    {
        for (int k = 0; k < cookies.length; k++)
        {
            cookies[k] = proxy.cookie(now, 0, client, 0, vip, 1024 + k, 80, k * 7919, 3);
        }
        template = Frames.tcp(Frames.ip(198, 19, 0, 1), 1024, ForwarderFixture.VIP_INT, 80, TcpFlyweight.SYN, 0);
        templateChecksum = new UnsafeBuffer(template).getShort(CHECKSUM_AT, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        final NeighbourCache neighbours = new NeighbourCache();
        neighbours.defaultNextHop(Frames.CLIENT_MAC);
        neighbours.put(IpAddresses.parse("198.18.10.2"), 0x02_00_00_00_0A_00L);
        final CountersManager counters =
            new CountersManager(new UnsafeBuffer(new byte[1 << 20]), new UnsafeBuffer(new byte[1 << 18]));
        conductor = new Conductor(new NodeSettings(1, 1024, List.of(IpAddresses.parse("198.18.2.10")),
            NodeSettings.DEFAULT_SNAT_PORT_MIN, NodeSettings.DEFAULT_SNAT_PORT_MAX), ForwarderConfiguration.DEFAULT, counters,
            neighbours, List.of(new DiscardPort()), new ForwarderFixture.MutableClock());
        conductor.addListener(Listener.of("web", ListenerKey.of(ForwarderFixture.VIP, Protocol.TCP, 80),
            List.of(Backend.of("198.18.10.2", 8080, 100))).withSynProxy(true));
        forwarder = conductor.forwarders()[0];
        forwarder.doWork();
    }

    @Setup(Level.Iteration)
    public void startIteration()
    {
        cpu.start();
    }

    @TearDown(Level.Iteration)
    public void stopIteration()
    {
        cpu.stop("SynCookieBenchmark");
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        conductor.close();
    }

    @Benchmark
    public int makeCookie()
    {
        cpu.ops++;
        final int k = i++ & 1023;
        return proxy.cookie(now, 0, client, 0, vip, 1024 + k, 80, k * 7919, 3);
    }

    @Benchmark
    public int verifyCookie()
    {
        cpu.ops++;
        final int k = i++ & 1023;
        return proxy.verify(now, 0, client, 0, vip, 1024 + k, 80, k * 7919, cookies[k]);
    }

    @Benchmark
    public int floodSyn()
    {
        cpu.ops++;
        frame.putBytes(0, template);
        final int port = 1024 + (i++ & 0x7FFF);
        frame.putShort(Frames.L4_OFFSET, (short)port, ByteOrder.BIG_ENDIAN);
        // Guard verifies TCP checksums: keep it valid for the new source port (RFC 1624).
        frame.putShort(CHECKSUM_AT, (short)Checksums.apply(templateChecksum, Checksums.delta16(1024, port)), ByteOrder.BIG_ENDIAN);
        return forwarder.process(frame, 0, template.length, false);
    }
}
