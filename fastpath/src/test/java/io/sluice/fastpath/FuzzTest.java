package io.sluice.fastpath;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.sluice.fastpath.ForwarderPacketTest.Family;
import io.sluice.fastpath.fuzz.FrameFuzzer;
import io.sluice.fastpath.packet.IcmpFrames;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.fastpath.packet.PacketBuilder;

import static io.sluice.fastpath.ForwarderPacketTest.V4;
import static io.sluice.fastpath.ForwarderPacketTest.V6;
import static io.sluice.fastpath.ForwarderPacketTest.backendTcp;
import static io.sluice.fastpath.ForwarderPacketTest.clientTcp;
import static io.sluice.fastpath.ForwarderPacketTest.standard;
import static io.sluice.fastpath.ForwarderPacketTest.toClientTcp;
import static io.sluice.fastpath.packet.PacketBuilder.CLIENT_ROUTER_MAC;
import static io.sluice.fastpath.packet.PacketBuilder.LB_MAC;
import static io.sluice.fastpath.packet.TcpFlyweight.ACK;
import static io.sluice.fastpath.packet.TcpFlyweight.FIN;
import static io.sluice.fastpath.packet.TcpFlyweight.PSH;
import static io.sluice.fastpath.packet.TcpFlyweight.RST;
import static io.sluice.fastpath.packet.TcpFlyweight.SYN;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The seeded mutational fuzzer against the real forwarder over the in-memory port (which also takes the frames too
 * short to cross a veth), with an established TCP flow per family running through it. Seed printed; rerun one with
 * {@code -Dsluice.fuzz.seed=N}.
 */
class FuzzTest
{
    static final int MUTANTS = 1_000_000;

    /** Valid frames of every kind the forwarder parses; none uses a protected flow's 5-tuple. */
    static List<byte[]> seedFrames(final Family f)
    {
        final byte[] ping = "fuzz".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        final String other = f == V4 ? "198.18.0.77" : "2001:2::77";
        final List<byte[]> s = new ArrayList<>();
        s.add(PacketBuilder.tcp().from(other, 5555).to(f.vip(), 80).flags(SYN).build());
        s.add(PacketBuilder.tcp().from(other, 5556).to(f.vip(), 80).flags(SYN).payload(new byte[] {2, 4, 5, (byte)0xb4})
            .tcpHeaderLength(24).build());
        s.add(PacketBuilder.tcp().from(other, 5557).to(f.vip(), 80).flags(ACK | PSH).payload("GET / HTTP/1.1\r\n\r\n").build());
        s.add(PacketBuilder.tcp().from(other, 5558).to(f.vip(), 80).flags(RST | ACK).build());
        s.add(PacketBuilder.tcp().from(other, 5559).to(f.vip(), 80).flags(FIN | ACK).vlan(5).build());
        s.add(PacketBuilder.udp().from(other, 5560).to(f.vip(), 53).payload("query").build());
        s.add(PacketBuilder.udp().from(other, 5561).to(f.vip(), 53).payload("query").vlan(5).build());
        s.add(PacketBuilder.tcp().macs(f.backendMac(), LB_MAC).from(f.backend1(), 8080).to(f.local(), 2000).flags(ACK).build());
        s.add(PacketBuilder.udp().from(other, 5562).to(f.vip(), 53).payload("q").fragment(true, 0).build());
        s.add(IcmpFrames.echo(CLIENT_ROUTER_MAC, LB_MAC, other, f.vip(), true, 64, ping));
        s.add(IcmpFrames.error(f.backendMac(), LB_MAC, f.backend1(), f.local(), f == V4 ? 3 : 2, f == V4 ? 4 : 0, 1400,
            IcmpFrames.quote(ForwarderPacketTest.toBackendTcp(f).flags(ACK).build(), 0)));
        return s;
    }

    static long[] tuple(final String src, final int srcPort, final String dst, final int dstPort)
    {
        final var s = IpAddresses.parse(src);
        final var d = IpAddresses.parse(dst);
        return new long[] {IpAddresses.high(s), IpAddresses.low(s), IpAddresses.high(d), IpAddresses.low(d), srcPort, dstPort, 6};
    }

    @Test
    void shouldSurviveAMillionMutantsWhileFlowsForwardByteExactAndEveryDropIsCounted()
    {
        final long seed = FrameFuzzer.seedFromEnvironment();
        System.out.println("FuzzTest seed " + seed + " (rerun: -Dsluice.fuzz.seed=" + seed + ")");
        final List<byte[]> seeds = new ArrayList<>(seedFrames(V4));
        seeds.addAll(seedFrames(V6));
        final List<long[]> protectedTuples = new ArrayList<>();
        for (final Family f : List.of(V4, V6))
        {
            protectedTuples.add(tuple(f.client(), 40000, f.vip(), 80));
            protectedTuples.add(tuple(f.backend1(), 8080, f.local(), ForwarderPacketTest.tcpSnat(f)));
        }
        final FrameFuzzer fuzzer = new FrameFuzzer(seed, seeds, protectedTuples);

        try (Harness h = new Harness(1, 1 << 16))
        {
            final List<byte[]> flowIn = new ArrayList<>();
            final List<byte[]> flowOut = new ArrayList<>();
            for (final Family f : List.of(V4, V6))
            {
                standard(f).accept(h);
                h.send(0, clientTcp(f).flags(SYN).build());
                h.send(0, backendTcp(f).flags(SYN | ACK).sequence(5000, 1001).build());
                h.send(0, clientTcp(f).flags(ACK).sequence(1001, 5001).build());
                flowIn.add(IcmpTest.data(f));
                flowOut.add(IcmpTest.dataToBackend(f));
                flowIn.add(backendTcp(f).flags(ACK | PSH).sequence(5001, 1019).payload("HTTP/1.1 200 OK\r\n\r\n").build());
                flowOut.add(toClientTcp(f).flags(ACK | PSH).sequence(5001, 1019).payload("HTTP/1.1 200 OK\r\n\r\n").build());
            }
            final InMemoryPacketPort port = h.ports.get(0);
            final long receivedBefore = port.received();
            final long transmittedBefore = port.transmitted();
            final long dropsBefore = drops(h);

            final UnsafeBuffer scratch = new UnsafeBuffer(new byte[FrameFuzzer.MAX_FRAME]);
            long flowSent = 0;
            long flowMatched = 0;
            final long start = System.nanoTime();
            while (fuzzer.produced() < MUTANTS)
            {
                for (int i = 0; i < 63; i++)
                {
                    final int length = fuzzer.next(scratch);
                    port.inject(Arrays.copyOf(scratch.byteArray(), length));
                }
                final int which = (int)(flowSent % flowIn.size());
                port.inject(flowIn.get(which));
                flowSent++;
                h.runUntilIdle();
                for (final byte[] out : port.drainTransmitted())
                {
                    if (Arrays.equals(out, flowOut.get(which)))
                    {
                        flowMatched++;
                    }
                }
            }
            final double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("FuzzTest: %d mutants + %d flow frames in %.2f s (%.0f frames/s), %d guarded%n",
                fuzzer.produced(), flowSent, seconds, (fuzzer.produced() + flowSent) / seconds, fuzzer.guarded());

            assertThat(flowMatched).as("flow frames forwarded byte-exact").isEqualTo(flowSent);
            final long received = port.received() - receivedBefore;
            final long transmitted = port.transmitted() - transmittedBefore;
            final long dropped = drops(h) - dropsBefore;
            assertThat(received).isEqualTo(fuzzer.produced() + flowSent);
            assertThat(transmitted + dropped).as("every frame forwarded or counted in a drop").isEqualTo(received);
            assertThat(h.counter(FastpathCounter.ACTIVE_SESSIONS)).isGreaterThanOrEqualTo(2);
        }
    }

    /** Sum of every drop total (per-reason counters are breakdowns of drop.malformed / drop.unsupported). */
    static long drops(final Harness h)
    {
        long sum = 0;
        for (final Verdict v : Verdict.values())
        {
            if (v.counter() != null && v != Verdict.HANDOFF)
            {
                sum += h.counter(v.counter());
            }
        }
        return sum;
    }

    @Test
    void shouldNotAllocateOnMalformedFragmentAndIcmpPaths()
    {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final List<byte[]> seeds = new ArrayList<>(seedFrames(V4));
        seeds.addAll(seedFrames(V6));
        final FrameFuzzer fuzzer = new FrameFuzzer(42, seeds, List.of());
        final int count = 4096;
        final byte[][] frames = new byte[count + 8][];
        final UnsafeBuffer scratch = new UnsafeBuffer(new byte[FrameFuzzer.MAX_FRAME]);
        for (int i = 0; i < count; i++)
        {
            frames[i] = Arrays.copyOf(scratch.byteArray(), fuzzer.next(scratch));
        }
        int n = count;
        for (final Family f : List.of(V4, V6))
        {
            frames[n++] = IcmpFrames.echo(CLIENT_ROUTER_MAC, LB_MAC, f.client(), f.vip(), true, 64, new byte[56]);
            frames[n++] = IcmpFrames.error(f.backendMac(), LB_MAC, f.backend1(), f.local(), f == V4 ? 3 : 2, f == V4 ? 4 : 0,
                1400, IcmpFrames.quote(IcmpTest.dataToBackend(f), 0));
            frames[n++] = IcmpTest.data(f);
            frames[n++] = clientTcp(f).flags(ACK).badL4Checksum().build();
        }
        try (Harness h = new Harness(1, 1 << 16))
        {
            for (final Family f : List.of(V4, V6))
            {
                standard(f).accept(h);
                h.send(0, clientTcp(f).flags(SYN).build());
                h.send(0, backendTcp(f).flags(SYN | ACK).sequence(5000, 1001).build());
            }
            final ForwarderAgent forwarder = h.forwarders[0];
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[FrameFuzzer.MAX_FRAME]);
            run(forwarder, frame, frames, 1_000_000);
            final long before = threads.getCurrentThreadAllocatedBytes();
            run(forwarder, frame, frames, 1_000_000);
            final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertThat(allocated).as("bytes allocated across 1M frames").isZero();
        }
    }

    private static void run(final ForwarderAgent forwarder, final UnsafeBuffer frame, final byte[][] frames, final int total)
    {
        for (int i = 0; i < total; i++)
        {
            final byte[] f = frames[i % frames.length];
            frame.putBytes(0, f);
            forwarder.process(frame, 0, f.length, false);
        }
    }
}
