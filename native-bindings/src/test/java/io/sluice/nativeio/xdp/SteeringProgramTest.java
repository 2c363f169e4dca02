package io.sluice.nativeio.xdp;

import io.sluice.nativeio.bpf.Bpf;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.stream.Stream;

import static io.sluice.nativeio.TestPackets.frame;
import static io.sluice.nativeio.TestPackets.ip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * The steering program's verdicts, table-driven through BPF_PROG_TEST_RUN (no device): which counter each frame
 * lands in. Redirects fall back to XDP_PASS here because no XSK is registered; the counter tells them apart.
 */
class SteeringProgramTest
{
    private static XdpSteering steering;

    @BeforeAll
    static void load()
    {
        steering = XdpSteering.load(4, 64);
        steering.addVip(ip("198.18.0.100"), 80, VipKey.IPPROTO_TCP, XdpSteering.Action.REDIRECT);
        steering.addVip(ip("198.18.0.100"), 53, VipKey.IPPROTO_UDP, XdpSteering.Action.REDIRECT);
        steering.addVip(ip("198.18.0.100"), 443, VipKey.IPPROTO_TCP, XdpSteering.Action.PASS);
        steering.addVip(ip("198.18.0.100"), 0, VipKey.IPPROTO_ICMP, XdpSteering.Action.REDIRECT);
        steering.addVip(ip("198.18.0.100"), 9, VipKey.IPPROTO_UDP, XdpSteering.Action.DROP);
        steering.addVip(ip("2001:2::100"), 80, VipKey.IPPROTO_TCP, XdpSteering.Action.REDIRECT);
        steering.addVip(ip("2001:2::100"), 0, VipKey.IPPROTO_ICMPV6, XdpSteering.Action.REDIRECT);
        steering.addLocalAddress(ip("198.18.2.10"), 32768, 40000);
        steering.addLocalAddress(ip("2001:2::2:10"), 32768, 40000);
    }

    @AfterAll
    static void close()
    {
        steering.close();
    }

    static Stream<Arguments> frames()
    {
        final byte[] quotedTcpFromVip = frame().ip("198.18.0.100", "198.18.9.9").tcpSyn(80, 5555).ipPacket();
        final byte[] quotedTcpFromOther = frame().ip("198.18.0.1", "198.18.9.9").tcpSyn(80, 5555).ipPacket();
        final byte[] quotedV6FromVip = frame().ip("2001:2::100", "2001:2::9").tcpSyn(80, 5555).ipPacket();
        final byte[] quotedFromLocalInRange = frame().ip("198.18.2.10", "198.18.10.2").tcpSyn(33000, 8080).ipPacket();
        return Stream.of(
            arguments("TCP to a REDIRECT VIP", frame().ip("198.18.9.9", "198.18.0.100").tcpSyn(5555, 80).build(),
                SteeringCounter.REDIRECT_VIP),
            arguments("UDP to a REDIRECT VIP", frame().ip("198.18.9.9", "198.18.0.100").udp(5555, 53, new byte[4]).build(),
                SteeringCounter.REDIRECT_VIP),
            arguments("TCP to a VIP behind one 802.1Q tag", frame().vlan(7).ip("198.18.9.9", "198.18.0.100").tcpSyn(5555, 80)
                .build(), SteeringCounter.REDIRECT_VIP),
            arguments("TCP to an L7 (PASS) VIP", frame().ip("198.18.9.9", "198.18.0.100").tcpSyn(5555, 443).build(),
                SteeringCounter.PASS_ENTRY),
            arguments("UDP to a DROP entry", frame().ip("198.18.9.9", "198.18.0.100").udp(5555, 9, new byte[4]).build(),
                SteeringCounter.DROP_ENTRY),
            arguments("TCP to a VIP port with no listener", frame().ip("198.18.9.9", "198.18.0.100").tcpSyn(5555, 22).build(),
                SteeringCounter.PASS_UNMATCHED),
            arguments("ICMP echo to a VIP", frame().ip("198.18.9.9", "198.18.0.100").icmp(8, 0, new byte[8]).build(),
                SteeringCounter.REDIRECT_VIP),
            arguments("ICMP echo to another address", frame().ip("198.18.9.9", "198.18.0.1").icmp(8, 0, new byte[8]).build(),
                SteeringCounter.PASS_UNMATCHED),
            arguments("ICMP unreachable quoting a VIP flow", frame().ip("198.18.9.1", "198.18.9.9").icmp(3, 4, quotedTcpFromVip)
                .build(), SteeringCounter.REDIRECT_VIP),
            arguments("ICMP unreachable quoting a kernel flow", frame().ip("198.18.9.1", "198.18.0.1")
                .icmp(3, 4, quotedTcpFromOther).build(), SteeringCounter.PASS_UNMATCHED),
            arguments("ICMP time exceeded quoting a local-address flow", frame().ip("198.18.10.1", "198.18.2.10")
                .icmp(11, 0, quotedFromLocalInRange).build(), SteeringCounter.REDIRECT_LOCAL),
            arguments("TCP to a local address inside the SNAT range", frame().ip("198.18.10.2", "198.18.2.10")
                .tcpSyn(8080, 33000).build(), SteeringCounter.REDIRECT_LOCAL),
            arguments("TCP to a local address below the SNAT range", frame().ip("198.18.10.2", "198.18.2.10")
                .tcpSyn(8080, 22).build(), SteeringCounter.PASS_LOCAL),
            arguments("UDP to a local address above the SNAT range", frame().ip("198.18.10.2", "198.18.2.10")
                .udp(53, 50000, new byte[4]).build(), SteeringCounter.PASS_LOCAL),
            arguments("IPv6 TCP to a REDIRECT VIP", frame().ip("2001:2::9", "2001:2::100").tcpSyn(5555, 80).build(),
                SteeringCounter.REDIRECT_VIP),
            arguments("IPv6 TCP to a local address inside the range", frame().ip("2001:2::9", "2001:2::2:10")
                .tcpSyn(80, 39999).build(), SteeringCounter.REDIRECT_LOCAL),
            arguments("ICMPv6 echo to a VIP", frame().ip("2001:2::9", "2001:2::100").icmp(128, 0, new byte[8]).build(),
                SteeringCounter.REDIRECT_VIP),
            arguments("ICMPv6 packet too big quoting a VIP flow", frame().ip("2001:2::1", "2001:2::9")
                .icmp(2, 0, quotedV6FromVip).build(), SteeringCounter.REDIRECT_VIP),
            arguments("ICMPv6 neighbour solicitation", frame().ip("2001:2::9", "2001:2::100").icmp(135, 0, new byte[16]).build(),
                SteeringCounter.PASS_UNMATCHED),
            arguments("ARP", frame().etherType(0x0806).build(), SteeringCounter.PASS_UNMATCHED),
            arguments("IPv4 non-first fragment to a VIP", frame().fragment().ip("198.18.9.9", "198.18.0.100")
                .udp(5555, 53, new byte[4]).build(), SteeringCounter.PASS_UNMATCHED),
            arguments("truncated IPv4 header", Arrays.copyOf(frame().ip("198.18.9.9", "198.18.0.100").tcpSyn(5555, 80).build(), 30),
                SteeringCounter.PASS_MALFORMED),
            arguments("TCP header cut before the ports", Arrays.copyOf(frame().ip("198.18.9.9", "198.18.0.100")
                .tcpSyn(5555, 80).build(), 36), SteeringCounter.PASS_MALFORMED),
            arguments("truncated IPv6 header", Arrays.copyOf(frame().ip("2001:2::9", "2001:2::100").tcpSyn(5555, 80).build(), 40),
                SteeringCounter.PASS_MALFORMED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("frames")
    void shouldSteerFrame(final String description, final byte[] packet, final SteeringCounter expected)
    {
        final long[] before = steering.actionCounts();
        final Bpf.TestRun run = Bpf.testRun(steering.programFd(), packet);
        final long[] after = steering.actionCounts();

        final int expectedVerdict = expected == SteeringCounter.DROP_ENTRY ? SteeringProgram.XDP_DROP : SteeringProgram.XDP_PASS;
        assertThat(run.retval()).as(description).isEqualTo(expectedVerdict);
        for (final SteeringCounter counter : SteeringCounter.values())
        {
            final long delta = after[counter.index()] - before[counter.index()];
            assertThat(delta).as(description + ": " + counter).isEqualTo(counter == expected ? 1 : 0);
        }
    }
}
