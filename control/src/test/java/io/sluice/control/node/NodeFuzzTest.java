package io.sluice.control.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.fastpath.fuzz.FrameFuzzer;
import io.sluice.fastpath.fuzz.FuzzSeeds;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NetNs;
import io.sluice.nativeio.packet.AfPacketSocket;
import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The guard through a real node over AF_XDP in the testbed (lb1, both links data interfaces): a million fuzzed
 * frames while downloads run, ping to the VIP, and fragmentation needed. For the last, the router's link to the client gets a 1280-byte MTU, so the
 * backend's 1500-byte segments of a download make the router send "fragmentation needed" to their source, the VIP.
 * Only if the node translates that error to the backend (outer local address → backend, quote rewritten to the
 * backend's own segment) does the backend lower its path MTU and the download finish: a PMTU black hole otherwise.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeFuzzTest
{
    private static final ObjectMapper JSON = new ObjectMapper();

    private Testbed testbed;
    private Process node;
    private Path dir;
    private Path stateDir;
    private Path log;

    @BeforeAll
    void start() throws Exception
    {
        testbed = Testbed.builder().prefix("gd" + ProcessHandle.current().pid() % 1_000_000).backends(1).nginx(false).build();
        try
        {
            dir = testbed.runDir();
            stateDir = dir.resolve("state");
            final Path config = dir.resolve("node.yaml");
            Files.writeString(config, NodeTestSupport.lb1Node(testbed, stateDir,
                AddressPlan.lbLocalV4(1) + ", \"" + AddressPlan.lbLocalV6(1) + "\"") + """
                loadBalancers:
                  - name: web
                    vip: %s
                    listeners:
                      - {protocol: tcp, port: 80, serverGroup: app, healthCheck: {enabled: false}}
                    serverGroups:
                      - {name: app, servers: [{address: %s, port: 8080}]}
                  - name: web6
                    vip: "%s"
                    listeners: [{protocol: tcp, port: 80, serverGroup: app6, healthCheck: {enabled: false}}]
                    serverGroups: [{name: app6, servers: [{address: "%s", port: 8080}]}]
                """.formatted(AddressPlan.VIP_V4, AddressPlan.backendV4(1), AddressPlan.VIP_V6, AddressPlan.backendV6(1)));
            log = dir.resolve("node.log");
            node = NodeTestSupport.startLb1(testbed, config, log, 60);
        }
        catch (final Exception | AssertionError ex)
        {
            stop();
            throw ex;
        }
    }

    @AfterAll
    void stop()
    {
        NodeTestSupport.stopNode(testbed, node);
    }

    @Test
    void shouldAnswerPingToTheVipFromTheFastpath() throws Exception
    {
        final long before = stat().path("fastpath.icmp.echo_replies").asLong();
        final var result = testbed.exec(Testbed.CLIENT, "ping", "-c", "3", "-i", "0.2", "-W", "2", AddressPlan.VIP_V4);
        assertThat(result.output()).contains("3 received");
        assertThat(stat().path("fastpath.icmp.echo_replies").asLong()).isGreaterThanOrEqualTo(before + 3);
    }

    @Test
    void shouldCarryFragmentationNeededFromTheClientSideToTheBackend() throws Exception
    {
        final String small = testbed.exec(Testbed.CLIENT, "curl", "-s", "--max-time", "10", "-o", "/dev/null", "-w",
            "%{size_download}", "http://" + AddressPlan.VIP_V4 + "/bytes/1000").output();
        assertThat(small).as("plain path first").isEqualTo("1000");
        final long before = stat().path("fastpath.icmp.errors_to_backend").asLong();
        testbed.exec(Testbed.ROUTER, "ip", "link", "set", testbed.iface(Testbed.ROUTER, Testbed.CLIENT), "mtu", "1280");
        try
        {
            final String big = testbed.exec(Testbed.CLIENT, "curl", "-s", "--max-time", "20", "-o", "/dev/null", "-w",
                "%{size_download}", "http://" + AddressPlan.VIP_V4 + "/bytes/2000000").output();
            final JsonNode counters = stat();
            assertThat(big).as("download across a 1280-byte hop; counters %s", counters).isEqualTo("2000000");
            assertThat(counters.path("fastpath.icmp.errors_to_backend").asLong()).isGreaterThan(before);
            assertThat(node.isAlive()).isTrue();
        }
        finally
        {
            testbed.exec(Testbed.ROUTER, "ip", "link", "set", testbed.iface(Testbed.ROUTER, Testbed.CLIENT), "mtu", "1500");
        }
    }

    @Test
    void shouldSurviveAMillionFuzzedFramesWhileDownloadsCompleteIntactAndAccountForEveryFrame() throws Exception
    {
        final int size = 4_000_000;
        final String expected = sha256(body(size));
        final String uplink = testbed.iface(Testbed.ROUTER, Testbed.LB1);
        final long lbMac = mac(testbed.exec(Testbed.LB1, "cat", "/sys/class/net/" + testbed.iface(Testbed.LB1, Testbed.ROUTER)
            + "/address").output());
        final long routerMac = mac(testbed.exec(Testbed.ROUTER, "cat", "/sys/class/net/" + uplink + "/address").output());
        final List<byte[]> seeds = new ArrayList<>(FuzzSeeds.standard(routerMac, lbMac, "198.18.1.77", AddressPlan.VIP_V4, 80,
            AddressPlan.backendV4(1), 8080, AddressPlan.lbLocalV4(1)));
        seeds.addAll(FuzzSeeds.standard(routerMac, lbMac, "2001:2:0:1::77", AddressPlan.VIP_V6, 80, AddressPlan.backendV6(1), 8080,
            AddressPlan.lbLocalV6(1)));
        // The downloads' connections in both directions, whatever the client's ephemeral port and the SNAT port.
        final List<long[]> protectedTuples = List.of(
            tuple(AddressPlan.CLIENT_V4, -1, AddressPlan.VIP_V4, 80), tuple(AddressPlan.backendV4(1), 8080, AddressPlan.lbLocalV4(1), -1));
        final long seed = FrameFuzzer.seedFromEnvironment();
        final FrameFuzzer fuzzer = new FrameFuzzer(seed, seeds, protectedTuples);

        // Fuzzed SYNs open connections at the backend whose SYN-ACKs go nowhere: no retransmissions, so the traffic
        // (and the counters) go quiet soon after the fuzzing stops.
        testbed.exec(Testbed.backend(1), "sysctl", "-qw", "net.ipv4.tcp_synack_retries=0");
        final JsonNode before = settledStat();
        final Path results = dir.resolve("downloads.sha256");
        final Path stop = dir.resolve("downloads.stop");
        final Process downloads = testbed.spawn(Testbed.CLIENT, "sh", "-c", ("while [ ! -e %s ]; do curl -s --max-time 20 "
            + "http://%s/bytes/%d | sha256sum >> %s; done").formatted(stop, AddressPlan.VIP_V4, size, results));
        final long[] sent;
        final long start = System.nanoTime();
        try
        {
            sent = NetNs.call(testbed.ns(Testbed.ROUTER), () -> inject(fuzzer, uplink));
        }
        finally
        {
            Files.writeString(stop, "stop");
            assertThat(downloads.waitFor(30, TimeUnit.SECONDS)).as("download loop ended").isTrue();
        }
        final double seconds = (System.nanoTime() - start) / 1e9;
        final JsonNode after = settledStat();
        final List<String> sums = Files.readAllLines(results);
        System.out.printf("NodeFuzzTest seed %d: %d mutants, %d sent, %d not sendable (< 14 or > 1514 bytes), %d refused, "
                + "%.1f s (%.0f frames/s); %d downloads of %d bytes%n", seed, fuzzer.produced(), sent[0], sent[1], sent[2], seconds,
            sent[0] / seconds, sums.size(), size);

        assertThat(node.isAlive()).isTrue();
        assertThat(fuzzer.produced()).isGreaterThanOrEqualTo(1_000_000);
        assertThat(sums).as("downloads during the fuzzing").isNotEmpty();
        assertThat(sums).allSatisfy(line -> assertThat(line).startsWith(expected));
        // Every frame the steering program redirected to the forwarders (less those the AF_XDP socket dropped) was
        // forwarded, answered or counted in exactly one drop counter.
        final long redirected = delta(before, after, "xdp.steer.redirect_") - delta(before, after, "xsk.drop.");
        final long accounted = delta(before, after, "fastpath.packets_in") + delta(before, after, "fastpath.packets_out")
            + delta(before, after, "fastpath.icmp.") + drops(before, after) - delta(before, after, "fastpath.drop.tx_full");
        System.out.printf("NodeFuzzTest: received by the forwarders %d (besides %d dropped by the sockets), accounted %d: "
                + "forwarded %d, ICMP answered/translated %d, dropped %d (malformed %d, unsupported %d, fragment %d, "
                + "no_session %d); passed to the kernel %d%n", redirected, delta(before, after, "xsk.drop."), accounted,
            delta(before, after, "fastpath.packets_in") + delta(before, after, "fastpath.packets_out"),
            delta(before, after, "fastpath.icmp."), drops(before, after), exact(before, after, "fastpath.drop.malformed"),
            exact(before, after, "fastpath.drop.unsupported"), exact(before, after, "fastpath.drop.fragment"),
            exact(before, after, "fastpath.drop.no_session"), delta(before, after, "xdp.steer.pass_"));
        assertThat(accounted).as("frames accounted vs redirected; counters %s", after).isEqualTo(redirected);
        assertThat(exact(before, after, "fastpath.drop.malformed")).isPositive();
    }

    private static long[] inject(final FrameFuzzer fuzzer, final String ifname)
    {
        final int ifindex = Libc.ifNameToIndex(ifname);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        long sent = 0;
        long unsendable = 0;
        long refused = 0;
        try (Arena arena = Arena.ofConfined(); AfPacketSocket socket = new AfPacketSocket(ifindex, 1 << 16, 2, 100))
        {
            final MemorySegment frame = arena.allocate(FrameFuzzer.MAX_FRAME, 64);
            final UnsafeBuffer buffer = new UnsafeBuffer(frame.address(), FrameFuzzer.MAX_FRAME);
            while (fuzzer.produced() < 1_000_000 && System.nanoTime() < deadline)
            {
                final int length = fuzzer.next(buffer);
                if (length < 14 || length > 1514)
                {
                    unsendable++;
                }
                else if (socket.send(frame, 0, length))
                {
                    sent++;
                }
                else
                {
                    refused++;
                    LockSupport.parkNanos(20_000);
                }
            }
        }
        return new long[] {sent, unsendable, refused};
    }

    private static long[] tuple(final String src, final int srcPort, final String dst, final int dstPort)
    {
        final var s = IpAddresses.parse(src);
        final var d = IpAddresses.parse(dst);
        return new long[] {IpAddresses.high(s), IpAddresses.low(s), IpAddresses.high(d), IpAddresses.low(d), srcPort, dstPort, 6};
    }

    private static long mac(final String text)
    {
        return Long.parseLong(text.trim().replace(":", ""), 16);
    }

    /** What the testbed's HTTP backend serves for /bytes/N. */
    private static byte[] body(final int size)
    {
        final byte[] body = new byte[size];
        for (int i = 0; i < size; i++)
        {
            body[i] = (byte)('a' + i % 26);
        }
        body[size - 1] = '\n';
        return body;
    }

    private static String sha256(final byte[] bytes) throws Exception
    {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static long delta(final JsonNode before, final JsonNode after, final String prefix)
    {
        return NodeTestSupport.sum(after, prefix) - NodeTestSupport.sum(before, prefix);
    }

    private static long exact(final JsonNode before, final JsonNode after, final String key)
    {
        return after.path(key).asLong() - before.path(key).asLong();
    }

    /** Global drop totals: {@code fastpath.drop.*} without the per-reason breakdowns of malformed/unsupported. */
    private static long drops(final JsonNode before, final JsonNode after)
    {
        return delta(before, after, "fastpath.drop.") - delta(before, after, "fastpath.drop.malformed.")
            - delta(before, after, "fastpath.drop.unsupported.");
    }

    /**
     * Counters once the frame accounting stops moving: the steering and socket statistics are copied into the counters
     * file once a second while the forwarders' counters are live, so the two sides agree only on quiet counters.
     */
    private JsonNode settledStat() throws Exception
    {
        JsonNode previous = stat();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline)
        {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1200));
            final JsonNode next = stat();
            if (frameSums(next).equals(frameSums(previous)))
            {
                return next;
            }
            previous = next;
        }
        throw new AssertionError("frame counters never settled: " + previous);
    }

    private static List<Long> frameSums(final JsonNode counters)
    {
        final JsonNode zero = JSON.createObjectNode();
        return List.of(delta(zero, counters, "xdp.steer."), delta(zero, counters, "xsk.drop."),
            delta(zero, counters, "fastpath.packets_"), delta(zero, counters, "fastpath.icmp."), drops(zero, counters));
    }

    private JsonNode stat() throws IOException
    {
        return NodeTestSupport.stat(stateDir);
    }
}
